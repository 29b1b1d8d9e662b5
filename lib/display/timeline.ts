/**
 * Choosing the moments to render: at given times, just before given times (inputs), at each
 * MARK, and after the last message.
 */
import type { CursorModel } from "./cursor.ts";
import type { DisplayModel, DisplaySnapshot } from "./display_model.ts";
import type { TimedDisplayMessage } from "./session_display.ts";

/** Why a frame was taken. */
export type FrameReason = "at" | "before-input" | "mark" | "final";

/** One rendered moment. */
export interface Frame {
  /** Why the frame was taken. */
  reason: FrameReason;
  /** Capture time of the moment, ns (for "final" and "mark": the last message applied). */
  tsNs: bigint;
  /** Index of the last display message applied (server direction), or -1 for none. */
  messageIndex: number;
  /** The surface; undefined when it does not exist yet. */
  snapshot: DisplaySnapshot | undefined;
}

/** What {@link renderFrames} takes. */
export interface FrameRequest {
  /** Frames showing every message with time ≤ T. */
  atNs?: readonly bigint[];
  /** Frames showing every message with time < T. */
  beforeNs?: readonly bigint[];
  /** A frame after each MARK. */
  marks?: boolean;
  /** A frame after the last message. */
  final?: boolean;
  /** Surface to snapshot. @default the primary */
  surfaceId?: number;
  /** Draw the cursor of these cursor-channel messages over each frame. */
  cursor?: { model: CursorModel; messages: readonly TimedDisplayMessage[] };
}

/** MARK's message type. */
const MARK_TYPE = 102;

interface Point {
  tsNs: bigint;
  reason: FrameReason;
  /** Taken once a message's time is > (at) or ≥ (before) this time. */
  strict: boolean;
}

const byTime = (a: Point, b: Point) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0);

function points(req: FrameRequest): Point[] {
  const all = [
    ...(req.atNs ?? []).map((tsNs) => ({ tsNs, reason: "at" as const, strict: true })),
    ...(req.beforeNs ?? []).map((tsNs) => ({
      tsNs,
      reason: "before-input" as const,
      strict: false,
    })),
  ];
  return all.sort(byTime);
}

/** Frames every `stepNs` from `startNs` (exclusive) up to the last message's time. */
export interface EveryRequest {
  startNs: bigint;
  stepNs: bigint;
}

/**
 * The frames of a request, taken as the messages pass: feed it messages in time order (and, when
 * streaming, input times and cursor messages as they come), then {@link FrameTimeline.end}.
 * Only the model and what is not yet due are held, never the messages themselves.
 */
export class FrameTimeline {
  readonly #model: DisplayModel;
  readonly #request: FrameRequest;
  readonly #pending: Point[];
  #next = 0;
  #every: { next: bigint; stepNs: bigint } | undefined;
  #last = -1;
  #lastTs = 0n;
  #cursor: TimedDisplayMessage[] = [];
  #nextCursor = 0;

  /**
   * @param model a fresh model
   * @param request the moments; `every` adds frames at a fixed step, generated as they come
   */
  constructor(model: DisplayModel, request: FrameRequest & { every?: EveryRequest }) {
    this.#model = model;
    this.#request = request;
    this.#pending = points(request);
    if (request.cursor) this.#cursor = [...request.cursor.messages];
    const e = request.every;
    if (e && e.stepNs > 0n) this.#every = { next: e.startNs + e.stepNs, stepNs: e.stepNs };
  }

  /** The earliest point not taken yet: a pending one, or (`every`) the next --every one. */
  #peek(): { p: Point; every: boolean } | undefined {
    const p = this.#pending[this.#next];
    const e = this.#every;
    if (e && (!p || e.next < p.tsNs)) {
      return { p: { tsNs: e.next, reason: "at", strict: true }, every: true };
    }
    return p && { p, every: false };
  }

  #take(n: { p: Point; every: boolean }): Frame {
    if (n.every) this.#every!.next += this.#every!.stepNs;
    else this.#next++;
    return this.#frame(n.p.reason, n.p.tsNs);
  }

  #frame(reason: FrameReason, tsNs: bigint): Frame {
    const model = this.#model;
    const snapshot = model.snapshot(this.#request.surfaceId ?? model.primarySurfaceId);
    const cursor = this.#request.cursor;
    if (cursor) {
      const list = this.#cursor;
      while (this.#nextCursor < list.length && list[this.#nextCursor].tsNs <= tsNs) {
        cursor.model.push(list[this.#nextCursor++]);
      }
      if (this.#nextCursor > 256) list.splice(0, this.#nextCursor), this.#nextCursor = 0;
      if (snapshot) cursor.model.overlay(snapshot);
    }
    return { reason, tsNs, messageIndex: this.#last, snapshot };
  }

  /** Frames due before a message of time `tsNs` is applied. */
  *#due(tsNs: bigint): Generator<Frame> {
    for (let n = this.#peek(); n; n = this.#peek()) {
      if (n.p.strict ? tsNs <= n.p.tsNs : tsNs < n.p.tsNs) return;
      yield this.#take(n);
    }
  }

  /** Applies one display message, after the frames due before it; then its MARK frame. */
  *push(m: TimedDisplayMessage): Generator<Frame> {
    yield* this.#due(m.tsNs);
    this.#model.push(m);
    this.#lastTs = m.tsNs;
    if (!m.fromClient) this.#last = m.index;
    if (this.#request.marks && !m.fromClient && m.type === MARK_TYPE) {
      yield this.#frame("mark", m.tsNs);
    }
  }

  /** A cursor-channel message, applied when a frame at or after its time is taken. */
  cursor(m: TimedDisplayMessage): void {
    this.#cursor.push(m);
  }

  /**
   * A client input at `tsNs`, streamed in time order (ahead of display messages of the same
   * time): the frames due before it, then its before-input frame.
   */
  *input(tsNs: bigint): Generator<Frame> {
    for (let n = this.#peek(); n && n.p.tsNs < tsNs; n = this.#peek()) yield this.#take(n);
    yield this.#frame("before-input", tsNs);
  }

  /** The frames left: pending points (--every ones up to the last message), then the final. */
  *end(): Generator<Frame> {
    for (let n = this.#peek(); n; n = this.#peek()) {
      if (n.every && n.p.tsNs > this.#lastTs) this.#every = undefined;
      else yield this.#take(n);
    }
    if (this.#request.final) yield this.#frame("final", this.#lastTs);
  }
}

/**
 * Feeds the messages to `model` in order and yields the frames asked for, in time order.
 *
 * @param model a fresh model
 * @param input the messages and the request
 */
export function* renderFrames(
  model: DisplayModel,
  input: { messages: readonly TimedDisplayMessage[]; request: FrameRequest },
): Generator<Frame> {
  const timeline = new FrameTimeline(model, input.request);
  for (const m of input.messages) yield* timeline.push(m);
  yield* timeline.end();
}
