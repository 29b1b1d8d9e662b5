/**
 * What rendering needs, streamed: the display, cursor and inputs channel files of a session read
 * side by side and merged by capture time, one unit at a time, so `render` holds the model and
 * not the recording. A single capture file (a channel file or a raw capture) is one stream
 * already in capture order. The same selection as {@link readDisplaySession}: the first display
 * and cursor connections, and client → server inputs messages of type ≥ 101.
 */
import { readCaptureFile } from "../pcap/reader.ts";
import { readSpiceMessages } from "../session/messages.ts";
import { openSession, type SessionFile } from "../session/session_files.ts";
import type { MessageEvent, StreamProblem } from "../session/types.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import type { CursorModel } from "./cursor.ts";
import type { DisplayModel } from "./display_model.ts";
import { type TimedDisplayMessage, unitMessages } from "./session_display.ts";
import { type EveryRequest, type Frame, type FrameRequest, FrameTimeline } from "./timeline.ts";

/** One step of the merged stream. */
export type DisplayEvent =
  | { kind: "display"; messages: TimedDisplayMessage[] }
  | { kind: "cursor"; messages: TimedDisplayMessage[] }
  | { kind: "input"; tsNs: bigint };

/** What {@link openDisplayStream} gives. */
export interface DisplayStream {
  /** Earliest time of a unit in any file (each file's first unit), before any event is read. */
  startNs: bigint | undefined;
  /** Whether a display channel may be in it (false: a session without a display file). */
  mayHaveDisplay: boolean;
  /** The events in capture-time order; inputs first among equal times. */
  events: AsyncGenerator<DisplayEvent>;
  /** Counts filled in as `events` is read. */
  seen: {
    /** Display connections seen; only the first is streamed. */
    displayConnections: number;
    /** Display messages streamed. */
    displayMessages: number;
    /** Problems reading the capture as SPICE. */
    streamProblems: StreamProblem[];
  };
}

const FIRST_CHANNEL_MESSAGE = 101;
/** Files read in this order among equal times: inputs first, so "before input" excludes ties. */
const ORDER: readonly number[] = [
  CHANNEL_TYPES.inputs,
  CHANNEL_TYPES.display,
  CHANNEL_TYPES.cursor,
];

/** A file's place in {@link ORDER}; -1 for a channel render does not read; 0 for a lone file. */
function rank(f: SessionFile): number {
  return f.channelType === undefined ? 0 : ORDER.indexOf(f.channelType);
}

/**
 * Opens a session directory, channel file or raw capture for streaming.
 *
 * @param path what `render` reads
 * @throws {Deno.errors.NotFound} and the manifest and capture readers' format errors
 */
export async function openDisplayStream(path: string): Promise<DisplayStream> {
  const { files } = await openSession(path);
  const seen = { displayConnections: 0, displayMessages: 0, streamProblems: [] as StreamProblem[] };
  const onProblem = (p: StreamProblem) => seen.streamProblems.push(p);
  const open = (f: SessionFile) =>
    readSpiceMessages(readCaptureFile(f.path, { file: f.file }), { onProblem, file: f.file });
  const wanted = files.filter((f) => rank(f) >= 0).sort((a, b) => rank(a) - rank(b));
  let startNs: bigint | undefined;
  const earliest = (ts: bigint | undefined) => {
    if (ts !== undefined && (startNs === undefined || ts < startNs)) startNs = ts;
  };
  for (const f of files.filter((f) => rank(f) < 0)) {
    const it = open(f);
    earliest((await it.next()).value?.tsNs);
    await it.return(undefined);
  }
  const sources = wanted.map(open);
  const heads = await Promise.all(sources.map((s) => s.next()));
  for (const h of heads) earliest(h.value?.tsNs);
  const mayHaveDisplay = wanted.some((f) =>
    f.channelType !== CHANNEL_TYPES.cursor &&
    f.channelType !== CHANNEL_TYPES.inputs
  );
  return { startNs, mayHaveDisplay, events: classify(merge(sources, heads), seen), seen };
}

/** The k-way merge of time-ordered streams (k ≤ a few: a linear pick). */
async function* merge(
  sources: AsyncGenerator<MessageEvent>[],
  heads: IteratorResult<MessageEvent>[],
): AsyncGenerator<MessageEvent> {
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      if (heads[i].done) continue;
      if (best < 0 || heads[i].value.tsNs < heads[best].value.tsNs) best = i;
    }
    if (best < 0) return;
    yield heads[best].value;
    heads[best] = await sources[best].next();
  }
}

async function* classify(
  events: AsyncGenerator<MessageEvent>,
  seen: DisplayStream["seen"],
): AsyncGenerator<DisplayEvent> {
  let displayKey: string | undefined;
  let cursorKey: string | undefined;
  const keys = new Set<string>();
  for await (const ev of events) {
    const { unit, connection } = ev;
    if (unit.kind !== "message") continue;
    if (connection.channelType === CHANNEL_TYPES.inputs) {
      if (unit.fromClient && unit.type >= FIRST_CHANNEL_MESSAGE) {
        yield { kind: "input", tsNs: ev.tsNs };
      }
      continue;
    }
    const key = `${ev.file ?? ""}#${connection.index}`;
    const gap = { gapBefore: ev.gapBefore };
    if (connection.channelType === CHANNEL_TYPES.cursor) {
      cursorKey ??= key;
      if (key === cursorKey) yield { kind: "cursor", messages: unitMessages(unit, ev.tsNs, gap) };
      continue;
    }
    if (connection.channelType !== CHANNEL_TYPES.display) continue;
    if (!keys.has(key)) {
      keys.add(key);
      seen.displayConnections++;
      displayKey ??= key;
    }
    if (key !== displayKey) continue;
    const messages = unitMessages(unit, ev.tsNs, gap);
    seen.displayMessages += messages.length;
    yield { kind: "display", messages };
  }
}

/** What {@link streamFrames} renders. */
export interface StreamFramesRequest extends Omit<FrameRequest, "beforeNs" | "cursor"> {
  /** Frames at a fixed step from the capture start. */
  every?: EveryRequest;
  /** A frame just before each client input message. */
  beforeInputs?: boolean;
  /** Draw the cursor of the cursor channel over each frame with this model. */
  cursor?: CursorModel;
}

/**
 * Streams a session through `model`, yielding the frames asked for in time order.
 *
 * @param stream from {@link openDisplayStream}
 * @param options the fresh model and the request
 */
export async function* streamFrames(
  stream: DisplayStream,
  options: { model: DisplayModel; request: StreamFramesRequest },
): AsyncGenerator<Frame> {
  const { model, request } = options;
  const cursor = request.cursor && { model: request.cursor, messages: [] };
  const timeline = new FrameTimeline(model, { ...request, cursor });
  for await (const ev of stream.events) {
    if (ev.kind === "input") {
      if (request.beforeInputs) yield* timeline.input(ev.tsNs);
    } else if (ev.kind === "cursor") {
      if (cursor) { for (const m of ev.messages) timeline.cursor(m); }
    } else {
      for (const m of ev.messages) yield* timeline.push(m);
    }
  }
  yield* timeline.end();
}
