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

function points(req: FrameRequest): Point[] {
  const all = [
    ...(req.atNs ?? []).map((tsNs) => ({ tsNs, reason: "at" as const, strict: true })),
    ...(req.beforeNs ?? []).map((tsNs) => ({
      tsNs,
      reason: "before-input" as const,
      strict: false,
    })),
  ];
  return all.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
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
  const { messages, request } = input;
  const pending = points(request);
  let next = 0;
  let last = -1;
  let lastTs = 0n;
  let nextCursor = 0;
  const frame = (reason: FrameReason, tsNs: bigint): Frame => {
    const snapshot = model.snapshot(request.surfaceId ?? model.primarySurfaceId);
    const cursor = request.cursor;
    if (cursor) {
      const list = cursor.messages;
      while (nextCursor < list.length && list[nextCursor].tsNs <= tsNs) {
        cursor.model.push(list[nextCursor++]);
      }
      if (snapshot) cursor.model.overlay(snapshot);
    }
    return { reason, tsNs, messageIndex: last, snapshot };
  };
  for (const m of messages) {
    while (next < pending.length) {
      const p = pending[next];
      if (p.strict ? m.tsNs <= p.tsNs : m.tsNs < p.tsNs) break;
      yield frame(p.reason, p.tsNs);
      next++;
    }
    model.push(m);
    lastTs = m.tsNs;
    if (!m.fromClient) last = m.index;
    if (request.marks && !m.fromClient && m.type === MARK_TYPE) yield frame("mark", m.tsNs);
  }
  for (; next < pending.length; next++) yield frame(pending[next].reason, pending[next].tsNs);
  if (request.final) yield frame("final", lastTs);
}
