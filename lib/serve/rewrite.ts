/**
 * The few changes serve makes to a recorded server message before sending it: the live header
 * format and serial, the fresh session id in MAIN_INIT, and a CHANNELS_LIST cut down to the
 * channels the recording can serve.
 */
import { buildMessage, parseMessageHeader } from "../spice/link.ts";

/** A recorded message: its bytes, header included, and its header length (6 or 18). */
export interface RecordedMessage {
  /** The message, header included. */
  bytes: Uint8Array;
  /** Header length: 6 (mini) or 18 (full). */
  headerSize: number;
}

/** What a recorded message is sent as. */
export interface Framing {
  /** The live client's header format. */
  miniHeader: boolean;
  /** Full-header serial of this message (ignored with the mini header). */
  serial: bigint;
}

/**
 * The recorded message in the live framing: unchanged when the header format is the same and
 * mini; otherwise rebuilt with the live header (the serial numbered live, the sub-list kept).
 *
 * @param msg the recorded message
 * @param framing the live header format and serial
 */
export function reframe(msg: RecordedMessage, framing: Framing): Uint8Array {
  const { bytes, headerSize } = msg;
  const recordedMini = headerSize === 6;
  if (recordedMini && framing.miniHeader) return bytes;
  const h = parseMessageHeader(bytes, recordedMini);
  return buildMessage(h.type, bytes.subarray(headerSize), {
    miniHeader: framing.miniHeader,
    serial: framing.serial,
    subList: h.subList,
  });
}

/**
 * A copy of a MAIN_INIT with `sessionId` in body bytes 0–3.
 *
 * @param msg the recorded MAIN_INIT
 * @param sessionId the live session id
 */
export function withSessionId(msg: RecordedMessage, sessionId: number): Uint8Array {
  const out = msg.bytes.slice();
  if (out.length >= msg.headerSize + 4) {
    new DataView(out.buffer).setUint32(msg.headerSize, sessionId >>> 0, true);
  }
  return out;
}

/** Reads a MAIN_INIT's session id (body bytes 0–3), or undefined when the body is short. */
export function sessionIdOf(msg: RecordedMessage): number | undefined {
  if (msg.bytes.length < msg.headerSize + 4) return undefined;
  return new DataView(msg.bytes.buffer, msg.bytes.byteOffset).getUint32(msg.headerSize, true);
}

/** The (type, id) pairs of a CHANNELS_LIST body: u32 count, then u8 type and u8 id each. */
export function channelsOffered(msg: RecordedMessage): [number, number][] {
  const body = msg.bytes.subarray(msg.headerSize);
  if (body.length < 4) return [];
  const n = new DataView(body.buffer, body.byteOffset).getUint32(0, true);
  const out: [number, number][] = [];
  for (let i = 0; i < n && 5 + 2 * i < body.length; i++) {
    out.push([body[4 + 2 * i], body[5 + 2 * i]]);
  }
  return out;
}

/**
 * A CHANNELS_LIST offering only the channels `keep` accepts, in the recorded order; the
 * recorded bytes themselves when it keeps them all.
 *
 * @param msg the recorded CHANNELS_LIST
 * @param keep whether to offer (type, id)
 * @returns the message and the pairs left out
 */
export function restrictChannelsList(
  msg: RecordedMessage,
  keep: (channelType: number, channelId: number) => boolean,
): { bytes: Uint8Array; left: [number, number][] } {
  const { bytes, headerSize } = msg;
  const all = channelsOffered(msg);
  const kept = all.filter(([t, i]) => keep(t, i));
  const left = all.filter(([t, i]) => !keep(t, i));
  if (left.length === 0) return { bytes, left };
  const body = new Uint8Array(4 + 2 * kept.length);
  new DataView(body.buffer).setUint32(0, kept.length, true);
  kept.forEach(([t, i], k) => body.set([t, i], 4 + 2 * k));
  const mini = headerSize === 6;
  const h = parseMessageHeader(bytes, mini);
  return { bytes: buildMessage(h.type, body, { miniHeader: mini, serial: h.serial }), left };
}
