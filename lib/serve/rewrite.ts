/**
 * The few changes serve makes to a recorded server message before sending it: the live header
 * format and serial, the fresh session id in MAIN_INIT, and a CHANNELS_LIST cut down to the
 * channels the recording can serve.
 */
import { buildMessage, parseMessageHeader } from "../spice/link.ts";

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
 * @param bytes recorded message, header included
 * @param headerSize its header length (6 or 18)
 * @param framing the live header format and serial
 */
export function reframe(bytes: Uint8Array, headerSize: number, framing: Framing): Uint8Array {
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
 * @param bytes the recorded MAIN_INIT, header included
 * @param headerSize its header length
 * @param sessionId the live session id
 */
export function withSessionId(
  bytes: Uint8Array,
  headerSize: number,
  sessionId: number,
): Uint8Array {
  const out = bytes.slice();
  if (out.length >= headerSize + 4) {
    new DataView(out.buffer).setUint32(headerSize, sessionId >>> 0, true);
  }
  return out;
}

/** Reads a MAIN_INIT's session id (body bytes 0–3), or undefined when the body is short. */
export function sessionIdOf(bytes: Uint8Array, headerSize: number): number | undefined {
  if (bytes.length < headerSize + 4) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(headerSize, true);
}

/** The (type, id) pairs of a CHANNELS_LIST body: u32 count, then u8 type and u8 id each. */
export function channelsOffered(bytes: Uint8Array, headerSize: number): [number, number][] {
  const body = bytes.subarray(headerSize);
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
 * @param bytes the recorded CHANNELS_LIST, header included
 * @param headerSize its header length
 * @param keep whether to offer (type, id)
 * @returns the message and the pairs left out
 */
export function restrictChannelsList(
  bytes: Uint8Array,
  headerSize: number,
  keep: (channelType: number, channelId: number) => boolean,
): { bytes: Uint8Array; left: [number, number][] } {
  const all = channelsOffered(bytes, headerSize);
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
