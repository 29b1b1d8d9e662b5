/**
 * The screen gate of a replay: before an input goes out, the replayed screen must have reached
 * the screen the recorded client saw when it sent that input. Pure: it renders both displays
 * with {@link DisplayModel}s fed in memory and compares them with the masks of
 * lib/display/masks.ts; waiting, deadlines and files are harness/replay/screen_watch.ts's.
 *
 * The recorded screens at the gated inputs form a sequence of states (a new state when the
 * recorded display changed, or the masks did, since the previous gated input). After every
 * replayed display or cursor message the live screen is compared with the next few states not
 * reached yet; the furthest one that matches is reached, so a state the replay passed through
 * (or skipped, drawn in one batch with the next) never holds it back. An input may go out once
 * its state is reached.
 *
 * @module
 */
import type { CodecSet } from "../display/codec_set.ts";
import { CursorModel } from "../display/cursor.ts";
import {
  type DisplayMessage,
  DisplayModel,
  type DisplaySnapshot,
} from "../display/display_model.ts";
import { masksAt, type ScreenMask, screensMatch } from "../display/masks.ts";
import type { TimedDisplayMessage } from "../display/session_display.ts";
import type { Rect } from "../display/types.ts";
import { CHANNEL_TYPES as CHANNEL } from "../spice/tables.ts";

/** Main channel client messages gated like inputs: MOUSE_MODE_REQUEST, AGENT_DATA. */
const GATED_MAIN_TYPES: ReadonlySet<number> = new Set([105, 107]);
/** First channel-specific message type. */
const FIRST_CHANNEL_MESSAGE = 101;
/** How many states ahead of the last reached one a live screen is compared with. */
export const GATE_LOOKAHEAD = 16;

/**
 * Whether a client message waits for the screen: every inputs-channel message (keys, mouse),
 * and main's MOUSE_MODE_REQUEST and AGENT_DATA.
 *
 * @param channelType the connection's channel type
 * @param type the client message type
 */
export function isScreenGated(channelType: number, type: number): boolean {
  if (channelType === CHANNEL.inputs) return type >= FIRST_CHANNEL_MESSAGE;
  return channelType === CHANNEL.main && GATED_MAIN_TYPES.has(type);
}

/** One recorded screen that gated inputs wait for. */
export interface GateState {
  /** The recorded primary surface then; undefined when there was none (nothing to wait for). */
  snapshot: DisplaySnapshot | undefined;
  /** Masked rectangles: the rules' at that moment and the recorded cursor's box. */
  masks: Rect[];
  /** Recorded time of the first gated input that waits for it. */
  tsNs: bigint;
  /** Recorded server display messages applied (server direction count). */
  displayMessages: number;
}

/** What {@link ScreenGate} is built from. */
export interface ScreenGateInput {
  /** The recorded display channel (first connection), both directions, in order. */
  display: readonly TimedDisplayMessage[];
  /** The recorded cursor channel (first connection), in order. */
  cursor: readonly TimedDisplayMessage[];
  /** Recorded times of the gated inputs (any order). */
  gatedNs: readonly bigint[];
  /** Masks from the `"screen"` rules. */
  masks: readonly ScreenMask[];
  /** The recording's first packet: rule windows count from it. */
  t0Ns: bigint;
  /** Image decoders. */
  codecs: CodecSet;
}

function boxes(cursor: CursorModel): Rect[] {
  const box = cursor.box;
  return box ? [box] : [];
}

function sameRects(a: readonly Rect[], b: readonly Rect[]): boolean {
  return a.length === b.length &&
    a.every((r, i) =>
      r.top === b[i].top && r.left === b[i].left && r.bottom === b[i].bottom &&
      r.right === b[i].right
    );
}

/** Renders the recorded states, one per distinct screen at the gated inputs' times. */
function recordedStates(
  input: ScreenGateInput,
): { states: GateState[]; stateAt: Map<bigint, number> } {
  const model = new DisplayModel({ codecs: input.codecs });
  const cursor = new CursorModel();
  const times = [...new Set(input.gatedNs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const states: GateState[] = [];
  const stateAt = new Map<bigint, number>();
  let d = 0;
  let c = 0;
  let applied = 0;
  for (const t of times) {
    while (d < input.display.length && input.display[d].tsNs < t) {
      const m = input.display[d++];
      model.push(m);
      if (!m.fromClient) applied++;
    }
    while (c < input.cursor.length && input.cursor[c].tsNs < t) cursor.push(input.cursor[c++]);
    const primary = model.primarySurfaceId;
    const masks = [
      ...(primary === undefined
        ? []
        : masksAt(input.masks, { surfaceId: primary, primary: true, relNs: t - input.t0Ns })),
      ...boxes(cursor),
    ];
    const last = states.at(-1);
    if (!last || last.displayMessages !== applied || !sameRects(last.masks, masks)) {
      states.push({ snapshot: model.snapshot(), masks, tsNs: t, displayMessages: applied });
    }
    stateAt.set(t, states.length - 1);
  }
  return { states, stateAt };
}

/** Both screens of a replay and how far the live one has come. */
export class ScreenGate {
  readonly #states: GateState[];
  readonly #stateAt: Map<bigint, number>;
  readonly #live: DisplayModel;
  readonly #liveCursor = new CursorModel();
  /** Index of the furthest state reached; -1 for none. */
  #reached = -1;
  /** Live screen comparisons made (a cost measure). */
  comparisons = 0;

  /**
   * Renders the recorded states.
   *
   * @param input the recorded display and cursor, the gated times, masks and codecs
   */
  constructor(input: ScreenGateInput) {
    ({ states: this.#states, stateAt: this.#stateAt } = recordedStates(input));
    this.#live = new DisplayModel({ codecs: input.codecs });
    this.#advanceTrivial();
  }

  /** The recorded states, in order. */
  get states(): readonly GateState[] {
    return this.#states;
  }

  /** Index of the furthest state the live screen has reached (-1: none). */
  get reached(): number {
    return this.#reached;
  }

  /**
   * The state an input recorded at `tsNs` waits for.
   *
   * @param tsNs a time given in `gatedNs`
   * @throws {Error} for a time that was not
   */
  stateOf(tsNs: bigint): number {
    const i = this.#stateAt.get(tsNs);
    if (i === undefined) throw new Error(`no screen state for an input at ${tsNs} ns`);
    return i;
  }

  /** Whether the input recorded at `tsNs` may go out. */
  isReached(tsNs: bigint): boolean {
    return this.#reached >= this.stateOf(tsNs);
  }

  /** The live primary surface now (a copy), undefined before the surface exists. */
  liveSnapshot(): DisplaySnapshot | undefined {
    return this.#live.snapshot();
  }

  /** The masks to compare state `i` with the live screen: its own and the live cursor's box. */
  masksFor(i: number): Rect[] {
    return [...this.#states[i].masks, ...boxes(this.#liveCursor)];
  }

  /**
   * Applies one replayed display message.
   *
   * @returns whether a new state was reached
   */
  pushDisplay(m: DisplayMessage): boolean {
    this.#live.push(m);
    return m.fromClient ? false : this.#advance();
  }

  /**
   * Applies one replayed cursor message (its box is masked).
   *
   * @returns whether a new state was reached
   */
  pushCursor(m: DisplayMessage): boolean {
    this.#liveCursor.push(m);
    return m.fromClient ? false : this.#advance();
  }

  /** States without a recorded surface are reached as soon as everything before them is. */
  #advanceTrivial(): void {
    while (this.#states[this.#reached + 1]?.snapshot === undefined) {
      if (this.#reached + 1 >= this.#states.length) return;
      this.#reached++;
    }
  }

  #advance(): boolean {
    if (this.#reached + 1 >= this.#states.length) return false;
    const live = this.#live.snapshot();
    if (!live) return false;
    const last = Math.min(this.#states.length - 1, this.#reached + GATE_LOOKAHEAD);
    for (let j = last; j > this.#reached; j--) {
      const want = this.#states[j].snapshot;
      if (!want) continue;
      this.comparisons++;
      if (screensMatch(want, live, { masks: this.masksFor(j) })) {
        this.#reached = j;
        this.#advanceTrivial();
        return true;
      }
    }
    return false;
  }
}
