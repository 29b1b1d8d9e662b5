/**
 * The screen half of `diff --screens`: both captures' display channels rendered with
 * {@link DisplayModel} and compared at checkpoints instead of draw bytes. Checkpoints are
 * "just before the Nth client input" (inputs channel; lib/diff/screen_inputs.ts says when one
 * matches), "after the Nth MARK" and "after the last message"; the Nth of one capture is
 * compared with the Nth of the other, whatever their times. Screen masks (`"screen"` rules)
 * apply at the golden checkpoint's time since its first packet.
 *
 * Memory: each capture is rendered once per pass (inputs and the end in one, marks in another),
 * holding the current screens and at most a few golden ones ahead.
 *
 * @module
 */
import { DisplayModel } from "../display/display_model.ts";
import type { DisplaySession } from "../display/session_display.ts";
import { type Frame, renderFrames } from "../display/timeline.ts";
import { compareScreens } from "./screen_compare.ts";
import { goldenMasks, inputCheckpoints } from "./screen_inputs.ts";
import type {
  CheckpointKind,
  CheckpointSide,
  ScreenCheckpoint,
  ScreenDiffOptions,
} from "./screen_types.ts";

/** The checkpoint kinds `--checkpoints` accepts, in the order they are compared. */
export const CHECKPOINT_KINDS: readonly CheckpointKind[] = Object.freeze([
  "inputs",
  "end",
  "marks",
]);

export type {
  CheckpointKind,
  CheckpointSide,
  ScreenCheckpoint,
  ScreenDiffOptions,
} from "./screen_types.ts";

const NS_PER_S = 1e9;

function sideOf(f: Frame | undefined, startNs: bigint): CheckpointSide | undefined {
  if (!f) return undefined;
  return {
    index: f.messageIndex,
    seconds: Number(f.tsNs - startNs) / NS_PER_S,
    snapshot: f.snapshot,
  };
}

/** The MARK checkpoints: the Nth frame after a MARK of each capture, compared directly. */
function* markCheckpoints(
  actual: DisplaySession,
  golden: DisplaySession,
  options: ScreenDiffOptions,
): Generator<ScreenCheckpoint> {
  const [fa, fg] = [actual, golden].map((s) =>
    renderFrames(new DisplayModel({ codecs: options.codecs }), {
      messages: s.messages,
      request: { marks: true },
    })
  );
  const [sa, sg] = [actual.startNs ?? 0n, golden.startNs ?? 0n];
  for (let ordinal = 0;; ordinal++) {
    const a = fa.next().value as Frame | undefined;
    const g = fg.next().value as Frame | undefined;
    if (!a && !g) return;
    const masks = goldenMasks(g, { startNs: sg, options });
    const out: ScreenCheckpoint = {
      checkpoint: 0,
      kind: "mark",
      ordinal,
      actual: sideOf(a, sa),
      golden: sideOf(g, sg),
      masks,
      same: false,
    };
    if (a?.snapshot && g?.snapshot) {
      out.comparison = compareScreens(g.snapshot, a.snapshot, {
        masks,
        tolerance: options.tolerance,
      });
      out.same = out.comparison.differing === 0;
    } else out.same = a !== undefined && g !== undefined && !a.snapshot && !g.snapshot;
    yield out;
  }
}

/**
 * Renders both captures and compares their screens at the checkpoints asked for.
 *
 * @param actual the display session of the run under test
 * @param golden the display session of the golden capture
 * @param options checkpoint kinds, masks, tolerance, codecs
 * @returns one result per checkpoint of either capture, numbered in order: inputs, the end,
 *   then marks
 */
export function* screenCheckpoints(
  actual: DisplaySession,
  golden: DisplaySession,
  options: ScreenDiffOptions,
): Generator<ScreenCheckpoint> {
  const kinds = options.checkpoints ?? ["inputs", "end"];
  const inputs = kinds.includes("inputs");
  const end = kinds.includes("end");
  let checkpoint = 0;
  if (inputs || end) {
    for (const c of inputCheckpoints(actual, golden, { ...options, inputs, end })) {
      yield { ...c, checkpoint: checkpoint++ };
    }
  }
  if (kinds.includes("marks")) {
    for (const c of markCheckpoints(actual, golden, options)) {
      yield { ...c, checkpoint: checkpoint++ };
    }
  }
}
