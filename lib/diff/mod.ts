/**
 * Normalised message-level diff of SPICE captures: named normalisers for the fields that differ
 * between runs (session ids, keys, tickets, clocks, pings, acks, serials), JSON rules, a
 * streaming bounded-look-ahead alignment per channel direction, and text / NDJSON reports; and
 * the screen comparison of `diff --screens` (rendered screens at input, end and MARK checkpoints).
 *
 * @module
 */
export { diffCaptures } from "./diff_captures.ts";
export { sessionDiffSource, type SessionSourceOptions } from "./session_source.ts";
export { formatDiffSummary, formatRecord, recordJson } from "./report.ts";
export { parseRules, RulesError } from "./rules.ts";
export {
  type FieldRange,
  type Normaliser,
  NORMALISER_NAMES,
  NORMALISERS,
  type UnitSelector,
} from "./normalisers.ts";
export { UnknownNormaliserError } from "./normalise_plan.ts";
export { BlinkFolder } from "./blink.ts";
export {
  compareScreens,
  type ScreenCompareOptions,
  type ScreenComparison,
  screenDiffPicture,
} from "./screen_compare.ts";
export {
  CHECKPOINT_KINDS,
  type CheckpointKind,
  type CheckpointSide,
  type ScreenCheckpoint,
  screenCheckpoints,
  type ScreenDiffOptions,
} from "./screen_diff.ts";
export {
  checkpointLabel,
  formatScreenRecord,
  type ScreenArtifacts,
  type ScreenBox,
  type ScreenRecord,
  screenRecord,
} from "./screen_report.ts";
export type {
  ChannelRef,
  DiffConnection,
  DiffInput,
  DiffOptions,
  DiffRecord,
  DiffRule,
  DiffSource,
  DiffSummary,
  NormalisedUnit,
  NormaliseOptions,
  OwnedRange,
  StreamSummary,
} from "./types.ts";
