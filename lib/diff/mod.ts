/**
 * Normalised message-level diff of SPICE captures: named normalisers for the fields that differ
 * between runs (session ids, keys, tickets, clocks, pings, acks, serials), JSON rules, a
 * streaming bounded-look-ahead alignment per channel direction, and text / NDJSON reports.
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
export type {
  ChannelRef,
  DiffConnection,
  DiffInput,
  DiffOptions,
  DiffRecord,
  DiffRule,
  DiffSource,
  DiffSummary,
  NormaliseOptions,
  StreamSummary,
} from "./types.ts";
