/**
 * Input checkpoints of `diff --screens`, by the screen gate's rule (lib/replay/screen_gate.ts):
 * the golden screen just before its Nth input is the Nth state; while the actual capture's
 * display messages are applied, the live screen is compared after each one with the next
 * {@link REACH_LOOKAHEAD} states not reached yet, and the furthest that matches is reached (so a
 * state shown briefly, or skipped because the next one was drawn in the same batch, counts).
 * The actual capture's Nth input matches when state N was reached by then. A guest that draws
 * its next line a little sooner or later than in the golden run does not make a difference; a
 * screen the actual run never showed does, reported against the actual screen just before its
 * Nth input. The end checkpoint compares the screens after the last message of each capture.
 *
 * @module
 */
import { DisplayModel, type DisplaySnapshot } from "../display/display_model.ts";
import type { DisplaySession } from "../display/session_display.ts";
import { type Frame, renderFrames } from "../display/timeline.ts";
import type { Rect } from "../display/types.ts";
import { masksAt } from "../display/masks.ts";
import { compareScreens } from "./screen_compare.ts";
import type { ScreenCheckpoint, ScreenDiffOptions } from "./screen_types.ts";

/** How many golden states past the last reached one a live screen is compared with. */
export const REACH_LOOKAHEAD = 16;

const NS_PER_S = 1e9;

/**
 * The masks of a golden checkpoint: the `"screen"` rules that apply at its time since the
 * golden capture's first packet, and the fixed rectangles.
 *
 * @param golden the golden frame
 * @param at the golden capture's start and the options holding the masks
 */
export function goldenMasks(
  golden: Frame | undefined,
  at: { startNs: bigint; options: ScreenDiffOptions },
): Rect[] {
  const { options, startNs } = at;
  const rules = golden?.snapshot && options.masks?.length
    ? masksAt(options.masks, {
      surfaceId: golden.snapshot.surfaceId,
      primary: true,
      relNs: golden.tsNs - startNs,
    })
    : [];
  return [...rules, ...(options.rects ?? [])];
}

/** The golden states (frames before each input, then the end frame), read as needed. */
class GoldenStates {
  readonly #frames: Generator<Frame>;
  readonly #held: { frame: Frame; masks: Rect[] }[] = [];
  /** Number of the first state held. */
  #first = 0;
  #done = false;

  constructor(golden: DisplaySession, readonly options: ScreenDiffOptions & { end: boolean }) {
    const model = new DisplayModel({ codecs: options.codecs });
    const request = { beforeNs: golden.inputTimesNs, final: options.end };
    this.#frames = renderFrames(model, { messages: golden.messages, request });
    this.startNs = golden.startNs ?? 0n;
  }

  readonly startNs: bigint;

  /** State `n` (an input's, or the end frame), undefined past the last. */
  at(n: number): { frame: Frame; masks: Rect[] } | undefined {
    while (!this.#done && this.#first + this.#held.length <= n) {
      const r = this.#frames.next();
      if (r.done) this.#done = true;
      else {
        const masks = goldenMasks(r.value, { startNs: this.startNs, options: this.options });
        this.#held.push({ frame: r.value, masks });
      }
    }
    return this.#held[n - this.#first];
  }

  /** Lets the states before `n` go. */
  release(n: number): void {
    while (this.#first < n && this.#held.length > 0) {
      this.#held.shift();
      this.#first++;
    }
  }
}

/** The live side: the actual capture's model and the furthest golden state reached. */
interface Walk {
  states: GoldenStates;
  /** Golden input states. */
  inputs: number;
  /** Furthest state reached (-1: none). */
  reached: number;
  /** The actual capture's next input: states from here on are still needed. */
  next: number;
  tolerance: number;
}

function matches(
  live: DisplaySnapshot | undefined,
  at: { state: { frame: Frame; masks: Rect[] }; tolerance: number },
): boolean {
  const { state, tolerance } = at;
  const want = state.frame.snapshot;
  if (!want) return true;
  return live !== undefined &&
    compareScreens(want, live, { masks: state.masks, tolerance }).differing === 0;
}

/** Compares the live screen with the states ahead; the furthest match is reached. */
function advance(w: Walk, live: DisplaySnapshot | undefined): void {
  const last = Math.min(w.inputs - 1, w.reached + REACH_LOOKAHEAD);
  for (let j = last; j > w.reached; j--) {
    const s = w.states.at(j);
    if (s && s.frame.snapshot && matches(live, { state: s, tolerance: w.tolerance })) {
      w.reached = j;
      break;
    }
  }
  // States without a golden surface are reached once everything before them is.
  while (w.reached + 1 < w.inputs && w.states.at(w.reached + 1)?.frame.snapshot === undefined) {
    w.reached++;
  }
  w.states.release(Math.min(w.reached + 1, w.next));
}

/** The checkpoint of actual input `n` (or the end, `n` = the golden input count). */
function checkpointAt(
  w: Walk,
  at: {
    n: number;
    kind: "input" | "end";
    live: DisplaySnapshot | undefined;
    tsNs: bigint;
    index: number;
    startNs: bigint;
  },
): ScreenCheckpoint {
  const state = at.kind === "end" || at.n < w.inputs ? w.states.at(at.n) : undefined;
  const actual = {
    index: at.index,
    seconds: Number(at.tsNs - at.startNs) / NS_PER_S,
    snapshot: at.live,
  };
  const out: ScreenCheckpoint = {
    checkpoint: 0,
    kind: at.kind,
    ordinal: at.kind === "end" ? 0 : at.n,
    actual,
    masks: state?.masks ?? [],
    same: false,
  };
  if (!state) return out;
  const g = state.frame;
  out.golden = {
    index: g.messageIndex,
    seconds: Number(g.tsNs - w.states.startNs) / NS_PER_S,
    snapshot: g.snapshot,
  };
  const reached = at.kind === "input" && w.reached >= at.n;
  if (g.snapshot && at.live) {
    out.comparison = compareScreens(g.snapshot, at.live, {
      masks: state.masks,
      tolerance: w.tolerance,
    });
    out.same = reached || out.comparison.differing === 0;
    if (reached) out.comparison = { ...out.comparison, differing: 0, box: undefined };
  } else out.same = reached || !g.snapshot && !at.live;
  return out;
}

/**
 * The input (and end) checkpoints.
 *
 * @param actual the run under test's display session
 * @param golden the golden display session
 * @param options codecs, masks, tolerance, and which of inputs and end to compare
 * @returns checkpoints numbered from 0: inputs in order (those of one capture only last), then the end
 */
export function* inputCheckpoints(
  actual: DisplaySession,
  golden: DisplaySession,
  options: ScreenDiffOptions & { inputs: boolean; end: boolean },
): Generator<ScreenCheckpoint> {
  const states = new GoldenStates(golden, options);
  const inputs = options.inputs ? golden.inputTimesNs.length : 0;
  const w: Walk = { states, inputs, reached: -1, next: 0, tolerance: options.tolerance ?? 0 };
  const model = new DisplayModel({ codecs: options.codecs });
  const times = options.inputs ? actual.inputTimesNs : [];
  const startNs = actual.startNs ?? 0n;
  let index = -1;
  let live: DisplaySnapshot | undefined;
  const here = (n: number, tsNs: bigint) => ({
    n,
    kind: "input" as const,
    live,
    tsNs,
    index,
    startNs,
  });
  advance(w, undefined);
  for (const m of actual.messages) {
    for (; w.next < times.length && times[w.next] <= m.tsNs; w.next++) {
      yield checkpointAt(w, here(w.next, times[w.next]));
      w.reached = Math.max(w.reached, Math.min(w.next, inputs - 1));
    }
    model.push(m);
    if (m.fromClient) continue;
    index = m.index;
    live = model.snapshot();
    advance(w, live);
  }
  for (; w.next < times.length; w.next++) yield checkpointAt(w, here(w.next, times[w.next]));
  for (let n = times.length; n < inputs; n++) {
    const g = states.at(n)!.frame;
    yield {
      checkpoint: 0,
      kind: "input",
      ordinal: n,
      golden: {
        index: g.messageIndex,
        seconds: Number(g.tsNs - states.startNs) / NS_PER_S,
        snapshot: g.snapshot,
      },
      masks: [],
      same: false,
    };
  }
  if (options.end) {
    const tsNs = actual.messages.at(-1)?.tsNs ?? startNs;
    yield checkpointAt(w, { n: inputs, kind: "end", live, tsNs, index, startNs });
  }
}
