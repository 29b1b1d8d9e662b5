/**
 * The types the screen comparison of `diff --screens` shares: options, checkpoints and their
 * sides.
 *
 * @module
 */
import type { CodecSet } from "../display/codec_set.ts";
import type { DisplaySnapshot } from "../display/display_model.ts";
import type { ScreenMask } from "../display/masks.ts";
import type { Rect } from "../display/types.ts";
import type { ScreenComparison } from "./screen_compare.ts";

/** Which checkpoints `--checkpoints` asks for. */
export type CheckpointKind = "inputs" | "marks" | "end";

/** Options of the screen comparison (lib/diff/screen_diff.ts `screenCheckpoints`). */
export interface ScreenDiffOptions {
  /** Kinds of checkpoints compared. @default ["inputs", "end"] */
  checkpoints?: readonly CheckpointKind[];
  /** Masks from `"screen"` rules (surface, time window). */
  masks?: readonly ScreenMask[];
  /** Rectangles masked on the primary surface at every checkpoint (`--mask X,Y,W,H`). */
  rects?: readonly Rect[];
  /** Largest per-channel difference that counts as equal (`--tolerance`). @default 0 */
  tolerance?: number;
  /** Image decoders. */
  codecs: CodecSet;
}

/** One side of a checkpoint. */
export interface CheckpointSide {
  /** Message index of the last display message applied (server direction); -1 for none. */
  index: number;
  /** Seconds since the capture's first packet. */
  seconds: number;
  /** The primary surface then; undefined when none existed yet. */
  snapshot: DisplaySnapshot | undefined;
}

/** One compared checkpoint. */
export interface ScreenCheckpoint {
  /** 0-based number of the checkpoint in the comparison. */
  checkpoint: number;
  /** "input", "mark" or "end". */
  kind: "input" | "mark" | "end";
  /** Which input or mark (0-based, in each capture's order); 0 for the end. */
  ordinal: number;
  /** The run under test's side; undefined when it has fewer such checkpoints. */
  actual?: CheckpointSide;
  /** The golden side; undefined when it has fewer such checkpoints. */
  golden?: CheckpointSide;
  /** The masks applied (the rules' at the golden time, and `rects`). */
  masks: Rect[];
  /** The pixel comparison, when both sides have a screen. */
  comparison?: ScreenComparison;
  /** Whether the checkpoint matches: both screens there, same size, no differing pixel. */
  same: boolean;
}
