/**
 * Reading what rendering needs from a session directory, a single channel file or a raw
 * capture: the messages of the first display and cursor connections with their times, and the
 * times of the client's input messages (for "just before each input" checkpoints).
 */
import { readSessionMessages } from "../session/session_files.ts";
import type { StreamProblem } from "../session/types.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import type { SpiceMessage } from "../spice/types.ts";
import type { DisplayMessage } from "./display_model.ts";

/** A display message with the capture time of the packet that completed it. */
export interface TimedDisplayMessage extends DisplayMessage {
  /** Capture timestamp, ns. */
  tsNs: bigint;
}

/** What {@link readDisplaySession} found. */
export interface DisplaySession {
  /** Both directions of the first display connection, in capture order. */
  messages: TimedDisplayMessage[];
  /** Both directions of the first cursor connection, in capture order. */
  cursorMessages: TimedDisplayMessage[];
  /** Times of client → server inputs-channel messages of type ≥ 101, ascending. */
  inputTimesNs: bigint[];
  /** Earliest timestamp of any unit in the input (the capture start). */
  startNs: bigint | undefined;
  /** Display connections seen; only the first is rendered. */
  displayConnections: number;
  /** Problems reading the capture as SPICE. */
  streamProblems: StreamProblem[];
}

/** LIST: a message whose whole body is a sub-message list. */
const LIST_TYPE = 8;
/** First channel-specific message type; below are common messages (acks, pings). */
const FIRST_CHANNEL_MESSAGE = 101;

/**
 * A message as the models take it: its sub-messages first, then itself (unless a LIST).
 *
 * @param unit a recorded or live SPICE message
 * @param tsNs its time
 * @param options `gapBefore`: the reader's bytes not read before the unit (MessageEvent)
 */
export function unitMessages(
  unit: SpiceMessage,
  tsNs: bigint,
  options: { gapBefore?: number } = {},
): TimedDisplayMessage[] {
  const base = { index: unit.index, fromClient: unit.fromClient, tsNs };
  const out: TimedDisplayMessage[] = (unit.subMessages ?? []).map((sub) => ({
    ...base,
    type: sub.type,
    name: sub.name,
    body: sub.body,
  }));
  if (unit.type !== LIST_TYPE) {
    const body = unit.bytes.subarray(unit.headerSize);
    out.push({ ...base, type: unit.type, name: unit.name, body });
  }
  if (options.gapBefore && out.length > 0) out[0].gapBefore = options.gapBefore;
  return out;
}

/**
 * Reads the display channel (and inputs timing) of a session.
 *
 * @param path session directory, channel file or raw capture
 * @returns messages and times
 * @throws {Deno.errors.NotFound} and the capture readers' format errors
 */
export async function readDisplaySession(path: string): Promise<DisplaySession> {
  const out: DisplaySession = {
    messages: [],
    cursorMessages: [],
    inputTimesNs: [],
    startNs: undefined,
    displayConnections: 0,
    streamProblems: [],
  };
  let displayKey: string | undefined;
  let cursorKey: string | undefined;
  const seen = new Set<string>();
  const onProblem = (p: StreamProblem) => out.streamProblems.push(p);
  for await (const ev of readSessionMessages(path, { onProblem })) {
    if (out.startNs === undefined || ev.tsNs < out.startNs) out.startNs = ev.tsNs;
    const { unit, connection } = ev;
    if (unit.kind !== "message") continue;
    if (connection.channelType === CHANNEL_TYPES.inputs) {
      if (unit.fromClient && unit.type >= FIRST_CHANNEL_MESSAGE) out.inputTimesNs.push(ev.tsNs);
      continue;
    }
    const key = `${ev.file ?? ""}#${connection.index}`;
    const gap = { gapBefore: ev.gapBefore };
    if (connection.channelType === CHANNEL_TYPES.cursor) {
      cursorKey ??= key;
      if (key === cursorKey) out.cursorMessages.push(...unitMessages(unit, ev.tsNs, gap));
      continue;
    }
    if (connection.channelType !== CHANNEL_TYPES.display) continue;
    if (!seen.has(key)) {
      seen.add(key);
      out.displayConnections++;
      displayKey ??= key;
    }
    if (key === displayKey) out.messages.push(...unitMessages(unit, ev.tsNs, gap));
  }
  out.inputTimesNs.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return out;
}
