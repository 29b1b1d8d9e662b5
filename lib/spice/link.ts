/**
 * SPICE link phase and message header codecs: parse and build the client link message, the
 * server link reply and message headers (docs/protocol.md "Link phase"). All integers
 * little-endian.
 */
import { SpiceFramingError } from "./types.ts";

/** "REDQ" read as a little-endian u32. */
export const SPICE_MAGIC = 0x51444552;
/** Protocol version spoken by current clients and servers. */
export const SPICE_VERSION_MAJOR = 2;
/** Minor protocol version. */
export const SPICE_VERSION_MINOR = 2;
/** Link header: magic, major, minor, size. */
export const LINK_HEADER_BYTES = 16;
/** Client link message without caps: connection_id … caps_offset. */
export const LINK_MESSAGE_FIXED_BYTES = 18;
/** Server link reply without caps: error, pub_key, cap counts, caps_offset. */
export const LINK_REPLY_FIXED_BYTES = 178;
/** DER SubjectPublicKeyInfo of the RSA-1024 key in the link reply. */
export const PUBKEY_BYTES = 162;
/** RSA-1024 ciphertext of the password. */
export const TICKET_BYTES = 128;
/** The client's u32 auth mechanism. */
export const AUTH_MECHANISM_BYTES = 4;
/** The server's u32 link result. */
export const LINK_RESULT_BYTES = 4;
/** Largest link header `size` the server accepts. */
export const MAX_LINK_SIZE = 4096;
/** One capability word. */
export const CAP_WORD_BYTES = 4;
/** Mini message header: u16 type, u32 size. */
export const MINI_HEADER_BYTES = 6;
/** Full message header: u64 serial, u16 type, u32 size, u32 sub_list. */
export const FULL_HEADER_BYTES = 18;
/** Auth mechanism value for the SPICE ticket (= common cap bit AUTH_SPICE). */
export const AUTH_MECHANISM_SPICE = 1;
/** Auth mechanism value for SASL. */
export const AUTH_MECHANISM_SASL = 2;

/** Common capability bit numbers. */
export const COMMON_CAP: Readonly<{
  AUTH_SELECTION: 0;
  AUTH_SPICE: 1;
  AUTH_SASL: 2;
  MINI_HEADER: 3;
}> = Object.freeze(
  {
    AUTH_SELECTION: 0,
    AUTH_SPICE: 1,
    AUTH_SASL: 2,
    MINI_HEADER: 3,
  } as const,
);

const U32_BYTES = 4;
// Offsets inside the link header.
const LH_MAJOR = 4;
const LH_MINOR = 8;
const LH_SIZE = 12;
// Offsets inside the link message body (after the link header).
const LM_CONNECTION_ID = 0;
const LM_CHANNEL_TYPE = 4;
const LM_CHANNEL_ID = 5;
const LM_NUM_COMMON = 6;
const LM_NUM_CHANNEL = 10;
const LM_CAPS_OFFSET = 14;
// Offsets inside the link reply body.
const LR_ERROR = 0;
const LR_PUBKEY = 4;
const LR_NUM_COMMON = LR_PUBKEY + PUBKEY_BYTES;
const LR_NUM_CHANNEL = LR_NUM_COMMON + U32_BYTES;
const LR_CAPS_OFFSET = LR_NUM_CHANNEL + U32_BYTES;
// Offsets inside a full message header.
const FH_TYPE = 8;
const FH_SIZE = 10;
const FH_SUB_LIST = 14;
const MH_SIZE = 2;

/** The 16-byte header in front of a link message and a link reply. */
export interface LinkHeader {
  /** Always {@link SPICE_MAGIC}. */
  magic: number;
  /** Major protocol version (2). */
  major: number;
  /** Minor protocol version (2). */
  minor: number;
  /** Bytes following the header. */
  size: number;
}

/** Client link message. */
export interface LinkMessage {
  /** Major protocol version (2). */
  major: number;
  /** Minor protocol version (2). */
  minor: number;
  /** 0 for a new main channel; the MAIN_INIT session id for secondary channels. */
  connectionId: number;
  /** Channel type (1 main … 11 webdav). */
  channelType: number;
  /** Channel id, usually 0. */
  channelId: number;
  /** Common capability words. */
  commonCaps: number[];
  /** Channel capability words. */
  channelCaps: number[];
}

/** Server link reply. */
export interface LinkReply {
  /** Major protocol version (2). */
  major: number;
  /** Minor protocol version (2). */
  minor: number;
  /** Link error code, 0 = OK (see LINK_ERRORS). */
  error: number;
  /** DER SubjectPublicKeyInfo, 162 bytes. */
  pubKey: Uint8Array;
  /** Common capability words. */
  commonCaps: number[];
  /** Channel capability words. */
  channelCaps: number[];
}

/** A decoded message header (mini or full). */
export interface MessageHeader {
  /** Message type. */
  type: number;
  /** Body bytes after the header. */
  size: number;
  /** Full header only. */
  serial?: bigint;
  /** Full header only: offset of the sub-message list from the body start, 0 for none. */
  subList?: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(
  bytes: Uint8Array,
  length: number,
  what: string,
  where: { offset: number; fromClient: boolean },
): void {
  if (bytes.length < length) {
    throw new SpiceFramingError(
      `Cannot read ${what}: need ${length} bytes, found ${bytes.length}`,
      where,
    );
  }
}

/**
 * Parses a link header and checks the magic.
 *
 * @throws {SpiceFramingError} when the bytes are short or the magic is not REDQ
 */
export function parseLinkHeader(bytes: Uint8Array, fromClient: boolean): LinkHeader {
  need(bytes, LINK_HEADER_BYTES, "link header", { offset: 0, fromClient });
  const dv = view(bytes);
  const magic = dv.getUint32(0, true);
  if (magic !== SPICE_MAGIC) {
    throw new SpiceFramingError(
      `link header magic "REDQ" (0x${SPICE_MAGIC.toString(16)}), found 0x${
        magic.toString(16).padStart(8, "0")
      }`,
      { offset: 0, fromClient },
    );
  }
  return {
    magic,
    major: dv.getUint32(LH_MAJOR, true),
    minor: dv.getUint32(LH_MINOR, true),
    size: dv.getUint32(LH_SIZE, true),
  };
}

function readCaps(
  body: Uint8Array,
  capsOffset: number,
  counts: [number, number],
  where: { fromClient: boolean; what: string },
): [number[], number[]] {
  const total = counts[0] + counts[1];
  const end = capsOffset + total * CAP_WORD_BYTES;
  if (capsOffset > body.length || end > body.length) {
    throw new SpiceFramingError(
      `${where.what} caps (${total} words at offset ${capsOffset}) inside its ${body.length}-byte body`,
      { offset: LINK_HEADER_BYTES + capsOffset, fromClient: where.fromClient },
    );
  }
  const dv = view(body);
  const words: number[] = [];
  for (let i = 0; i < total; i++) words.push(dv.getUint32(capsOffset + i * CAP_WORD_BYTES, true));
  return [words.slice(0, counts[0]), words.slice(counts[0])];
}

/**
 * Parses a client link message (link header + body).
 *
 * @throws {SpiceFramingError} bad magic, a body shorter than its header says, or caps outside it
 */
export function parseLinkMessage(bytes: Uint8Array): LinkMessage {
  const h = parseLinkHeader(bytes, true);
  const where = { offset: LINK_HEADER_BYTES, fromClient: true };
  if (h.size < LINK_MESSAGE_FIXED_BYTES) {
    throw new SpiceFramingError(
      `link message size ≥ ${LINK_MESSAGE_FIXED_BYTES}, found ${h.size}`,
      { offset: LH_SIZE, fromClient: true },
    );
  }
  need(bytes, LINK_HEADER_BYTES + h.size, "link message", where);
  const body = bytes.subarray(LINK_HEADER_BYTES, LINK_HEADER_BYTES + h.size);
  const dv = view(body);
  const [commonCaps, channelCaps] = readCaps(
    body,
    dv.getUint32(LM_CAPS_OFFSET, true),
    [dv.getUint32(LM_NUM_COMMON, true), dv.getUint32(LM_NUM_CHANNEL, true)],
    { fromClient: true, what: "link message" },
  );
  return {
    major: h.major,
    minor: h.minor,
    connectionId: dv.getUint32(LM_CONNECTION_ID, true),
    channelType: body[LM_CHANNEL_TYPE],
    channelId: body[LM_CHANNEL_ID],
    commonCaps,
    channelCaps,
  };
}

function writeLinkHeader(out: Uint8Array, m: { major: number; minor: number }): DataView {
  const dv = view(out);
  dv.setUint32(0, SPICE_MAGIC, true);
  dv.setUint32(LH_MAJOR, m.major, true);
  dv.setUint32(LH_MINOR, m.minor, true);
  dv.setUint32(LH_SIZE, out.length - LINK_HEADER_BYTES, true);
  return dv;
}

/** Builds a client link message (header + body, caps right after the fixed part). */
export function buildLinkMessage(m: LinkMessage): Uint8Array {
  const words = [...m.commonCaps, ...m.channelCaps];
  const out = new Uint8Array(
    LINK_HEADER_BYTES + LINK_MESSAGE_FIXED_BYTES + words.length * CAP_WORD_BYTES,
  );
  const dv = writeLinkHeader(out, m);
  const b = LINK_HEADER_BYTES;
  dv.setUint32(b + LM_CONNECTION_ID, m.connectionId >>> 0, true);
  out[b + LM_CHANNEL_TYPE] = m.channelType;
  out[b + LM_CHANNEL_ID] = m.channelId;
  dv.setUint32(b + LM_NUM_COMMON, m.commonCaps.length, true);
  dv.setUint32(b + LM_NUM_CHANNEL, m.channelCaps.length, true);
  dv.setUint32(b + LM_CAPS_OFFSET, LINK_MESSAGE_FIXED_BYTES, true);
  words.forEach((w, i) =>
    dv.setUint32(b + LINK_MESSAGE_FIXED_BYTES + i * CAP_WORD_BYTES, w >>> 0, true)
  );
  return out;
}

/**
 * Parses a server link reply (link header + body). An error reply (error ≠ 0) has no caps.
 *
 * @throws {SpiceFramingError} bad magic, a body shorter than 178 bytes, or caps outside it
 */
export function parseLinkReply(bytes: Uint8Array): LinkReply {
  const h = parseLinkHeader(bytes, false);
  if (h.size < LINK_REPLY_FIXED_BYTES) {
    throw new SpiceFramingError(
      `link reply size ≥ ${LINK_REPLY_FIXED_BYTES}, found ${h.size}`,
      { offset: LH_SIZE, fromClient: false },
    );
  }
  need(bytes, LINK_HEADER_BYTES + h.size, "link reply", {
    offset: LINK_HEADER_BYTES,
    fromClient: false,
  });
  const body = bytes.subarray(LINK_HEADER_BYTES, LINK_HEADER_BYTES + h.size);
  const dv = view(body);
  const [commonCaps, channelCaps] = readCaps(
    body,
    dv.getUint32(LR_CAPS_OFFSET, true),
    [dv.getUint32(LR_NUM_COMMON, true), dv.getUint32(LR_NUM_CHANNEL, true)],
    { fromClient: false, what: "link reply" },
  );
  return {
    major: h.major,
    minor: h.minor,
    error: dv.getUint32(LR_ERROR, true),
    pubKey: body.slice(LR_PUBKEY, LR_PUBKEY + PUBKEY_BYTES),
    commonCaps,
    channelCaps,
  };
}

/** Builds a server link reply; `pubKey` is padded or cut to 162 bytes. */
export function buildLinkReply(r: LinkReply): Uint8Array {
  const words = [...r.commonCaps, ...r.channelCaps];
  const out = new Uint8Array(
    LINK_HEADER_BYTES + LINK_REPLY_FIXED_BYTES + words.length * CAP_WORD_BYTES,
  );
  const dv = writeLinkHeader(out, r);
  const b = LINK_HEADER_BYTES;
  dv.setUint32(b + LR_ERROR, r.error >>> 0, true);
  out.set(r.pubKey.subarray(0, PUBKEY_BYTES), b + LR_PUBKEY);
  dv.setUint32(b + LR_NUM_COMMON, r.commonCaps.length, true);
  dv.setUint32(b + LR_NUM_CHANNEL, r.channelCaps.length, true);
  dv.setUint32(b + LR_CAPS_OFFSET, LINK_REPLY_FIXED_BYTES, true);
  words.forEach((w, i) =>
    dv.setUint32(b + LINK_REPLY_FIXED_BYTES + i * CAP_WORD_BYTES, w >>> 0, true)
  );
  return out;
}

/** Encodes a u32 (auth mechanism, link result) as 4 little-endian bytes. */
export function buildU32(value: number): Uint8Array {
  const out = new Uint8Array(U32_BYTES);
  view(out).setUint32(0, value >>> 0, true);
  return out;
}

/**
 * Whether capability `bit` is set in `words` (bit n in word n/32, bit n%32).
 *
 * @example hasCap([0x0d], COMMON_CAP.MINI_HEADER) // true
 */
export function hasCap(words: readonly number[], bit: number): boolean {
  const word = words[bit >>> 5] ?? 0;
  return ((word >>> (bit & 31)) & 1) === 1;
}

/** Capability words with exactly the given bits set. */
export function capWords(bits: readonly number[]): number[] {
  const words: number[] = [];
  for (const bit of bits) {
    const w = bit >>> 5;
    while (words.length <= w) words.push(0);
    words[w] = (words[w] | (1 << (bit & 31))) >>> 0;
  }
  return words;
}

/**
 * A copy of a client link message (header + body) with connection_id replaced, as a replayer
 * needs for secondary channels.
 *
 * @throws {SpiceFramingError} when `linkBytes` is not a link message
 */
export function setConnectionId(linkBytes: Uint8Array, id: number): Uint8Array {
  parseLinkHeader(linkBytes, true);
  need(linkBytes, LINK_HEADER_BYTES + LINK_MESSAGE_FIXED_BYTES, "link message", {
    offset: LINK_HEADER_BYTES,
    fromClient: true,
  });
  const out = linkBytes.slice();
  view(out).setUint32(LINK_HEADER_BYTES + LM_CONNECTION_ID, id >>> 0, true);
  return out;
}

/** Header length for the chosen header format. */
export function messageHeaderBytes(miniHeader: boolean): number {
  return miniHeader ? MINI_HEADER_BYTES : FULL_HEADER_BYTES;
}

/**
 * Parses a message header at `offset` of `bytes`; the caller ensures the header bytes are there.
 */
export function parseMessageHeader(
  bytes: Uint8Array,
  miniHeader: boolean,
  offset = 0,
): MessageHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + offset, bytes.byteLength - offset);
  if (miniHeader) return { type: dv.getUint16(0, true), size: dv.getUint32(MH_SIZE, true) };
  return {
    serial: dv.getBigUint64(0, true),
    type: dv.getUint16(FH_TYPE, true),
    size: dv.getUint32(FH_SIZE, true),
    subList: dv.getUint32(FH_SUB_LIST, true),
  };
}

/** Options for {@link buildMessage}. */
export interface BuildMessageOptions {
  /** Use the 6-byte mini header. @default true */
  miniHeader?: boolean;
  /** Full header serial. @default 1n */
  serial?: bigint;
  /** Full header sub_list offset. @default 0 */
  subList?: number;
}

/** Builds one message: header + body. */
export function buildMessage(
  type: number,
  body: Uint8Array,
  options: BuildMessageOptions = {},
): Uint8Array {
  const mini = options.miniHeader ?? true;
  const hb = messageHeaderBytes(mini);
  const out = new Uint8Array(hb + body.length);
  const dv = view(out);
  if (mini) {
    dv.setUint16(0, type, true);
    dv.setUint32(MH_SIZE, body.length, true);
  } else {
    dv.setBigUint64(0, options.serial ?? 1n, true);
    dv.setUint16(FH_TYPE, type, true);
    dv.setUint32(FH_SIZE, body.length, true);
    dv.setUint32(FH_SUB_LIST, options.subList ?? 0, true);
  }
  out.set(body, hb);
  return out;
}
