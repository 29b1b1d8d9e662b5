/**
 * The flags and help lines of `diff --screens`, apart from the screen code
 * (harness/commands/diff_screens.ts) so that a diff without them never loads the display model.
 */

/** The flags `diff` takes for screens (merged into its parseArgs options). */
export const SCREEN_FLAGS = {
  screens: { type: "boolean" },
  checkpoints: { type: "string", multiple: true },
  mask: { type: "string", multiple: true },
  tolerance: { type: "string" },
  artifacts: { type: "string" },
} as const;

/** The `--help` lines of the screen flags. */
export const SCREEN_HELP: readonly string[] = [
  "Screens (--screens): the display channels are rendered and compared at checkpoints instead",
  "of draw bytes; the display channel's message differences become informational.",
  "  --screens            compare rendered screens; checkpoints are matched by order (the Nth",
  "                       input of each capture), not by time",
  "  --checkpoints LIST   inputs (just before each client input), end (after the last message),",
  "                       marks (after each MARK); comma-separated or repeated (default:",
  "                       inputs,end)",
  "  --mask X,Y,W,H       skip this rectangle of the primary surface (repeatable); the --rules",
  '                       file\'s {"kind": "screen", "rect": [x, y, w, h], "surface", "from",',
  '                       "until"} rules apply too (times: seconds since the golden\'s start)',
  "  --tolerance N        pixels whose R, G, B and A each differ by at most N count as equal",
  "                       (lossy codecs; default 0)",
  "  --artifacts DIR      write expected, actual and diff PNGs of each differing checkpoint",
];
