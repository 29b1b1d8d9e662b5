/**
 * Field decoders for SPICE message bodies, as one table keyed by (channel, direction, type), plus
 * a compact `key=value` summary and the table of fields that differ between identical sessions
 * (docs/protocol.md "Message numbers"). Decoders never throw: a short body yields the fields
 * read so far and `truncated: true`.
 */
import type { Direction } from "../net/types.ts";
import { BodyReader, K, type MessageFields, S, ShortBody } from "./_body_reader.ts";
import { decoderKey, DECODERS } from "./_decoders.ts";
import { CHANNEL_TYPES, type MessageKey } from "./tables.ts";
import type { SpiceMessage } from "./types.ts";

export type { MessageFields } from "./_body_reader.ts";

const C = CHANNEL_TYPES;

/** Whether {@link decodeMessage} has a decoder for this message. */
export function hasDecoder(channelType: number, message: MessageKey): boolean {
  return DECODERS.has(decoderKey(channelType, message.fromClient, message.type));
}

/**
 * Decodes a message body into named fields.
 *
 * @param channelType channel type number
 * @param message `fromClient` (true for client → server), message `type`, and `body`: the body
 *   bytes, header excluded (see {@link messageBody})
 * @returns the fields (plus `truncated: true` when the body ended early), or undefined when no
 *   decoder is registered (empty messages and opaque ones like DRAW_TEXT's glyphs)
 * @example decodeMessage(1, { fromClient: false, type: 103, body })?.sessionId
 */
export function decodeMessage(
  channelType: number,
  message: MessageKey & { readonly body: Uint8Array },
): MessageFields | undefined {
  const { fromClient, type, body } = message;
  const decoder = DECODERS.get(decoderKey(channelType, fromClient, type));
  if (!decoder) return undefined;
  const out: MessageFields = {};
  try {
    decoder(new BodyReader(body), out);
  } catch (e) {
    if (!(e instanceof ShortBody)) throw e;
    out.truncated = true;
  }
  return out;
}

/** The body of a message (its bytes after the header). */
export function messageBody(unit: SpiceMessage): Uint8Array {
  return unit.bytes.subarray(unit.headerSize);
}

const MAX_LIST_ITEMS = 8;

/** A name as the tables spell them: upper snake case, or `unknown(n)`. */
const TABLE_NAME = /^([A-Z][A-Z0-9_]*|unknown\(\d+\))$/;

function formatValue(v: unknown): string {
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined || v === null) return String(v);
  if (v instanceof Uint8Array) return `${v.length}B`;
  if (Array.isArray(v)) {
    // Names from the tables (capabilities, …) read better bare: [AUTH_SPICE, MINI_HEADER].
    const item = (x: unknown) => typeof x === "string" && TABLE_NAME.test(x) ? x : formatValue(x);
    const shown = v.slice(0, MAX_LIST_ITEMS).map(item);
    if (v.length > MAX_LIST_ITEMS) shown.push(`…+${v.length - MAX_LIST_ITEMS}`);
    return `[${shown.join(",")}]`;
  }
  if (typeof v === "object") return `{${summarizeFields(v as MessageFields)}}`;
  return String(v);
}

/**
 * Compact one-line text of decoded fields: `key=value` separated by spaces; bigint as decimal,
 * strings quoted, byte arrays as `<n>B`, objects as `{k=v …}`, arrays as `[a,b]` (first 8).
 *
 * @example summarizeFields({ id: 1, timestamp: 5n, box: { top: 0 } }) // "id=1 timestamp=5 box={top=0}"
 */
export function summarizeFields(fields: MessageFields): string {
  return Object.entries(fields).map(([k, v]) => `${k}=${formatValue(v)}`).join(" ");
}

/** A message field whose bytes differ between two runs of the same session. */
export interface NondeterministicField {
  /** Channel type number, or "common" for types below 101 on every channel. */
  channel: number | "common";
  /** True for client → server messages. */
  fromClient: boolean;
  /** Message type. */
  type: number;
  /** Field name as {@link decodeMessage} reports it. */
  field: string;
  /** Byte range [start, end) within the body. */
  byteRange: readonly [number, number];
  /** What makes the field differ. */
  why: string;
}

function nd(
  channel: number | "common",
  dir: Direction,
  type: number,
  field: string,
  byteRange: [number, number],
  why: string,
): NondeterministicField {
  return Object.freeze({
    channel,
    fromClient: dir === K,
    type,
    field,
    byteRange: Object.freeze(byteRange),
    why,
  });
}

const CLOCK_MS = "multimedia clock: host monotonic milliseconds";
const PING_ID = "net-test ids are fixed, latency ids come from the server's unseeded rand()";
const PING_TS = "host clock (µs for the net test, ns for latency pings)";
const AUDIO_TIME = "audio time stamp from the multimedia clock";

/**
 * Body bytes that differ between two recordings of the same session (docs/protocol.md "What
 * differs between runs"), for diff normalisers. Link-phase differences (key, ticket, secondary
 * connection_id) and timing (ACK counts, serials, draw updates) are not message fields and are
 * not listed here.
 */
export const NONDETERMINISTIC_FIELDS: readonly NondeterministicField[] = Object.freeze([
  nd("common", S, 4, "id", [0, 4], PING_ID),
  nd("common", S, 4, "timestamp", [4, 12], PING_TS),
  nd("common", K, 3, "id", [0, 4], `echo of the PING id: ${PING_ID}`),
  nd("common", K, 3, "timestamp", [4, 12], `echo of the PING timestamp: ${PING_TS}`),
  nd("common", S, 6, "timestamp", [0, 8], "host clock in ns"),
  nd("common", K, 6, "timestamp", [0, 8], "host clock in ns"),
  nd("common", S, 7, "timestamp", [0, 8], "host clock in ns"),
  nd(C.main, S, 103, "sessionId", [0, 4], "random non-zero session id; map consistently"),
  nd(C.main, S, 103, "multiMediaTime", [24, 28], `${CLOCK_MS} − 400`),
  nd(C.main, S, 106, "time", [0, 4], CLOCK_MS),
  nd(C.display, S, 122, "stamp", [10, 18], "stream creation time stamp"),
  nd(C.display, S, 123, "multiMediaTime", [4, 8], CLOCK_MS),
  nd(C.display, S, 316, "multiMediaTime", [4, 8], CLOCK_MS),
  nd(C.playback, S, 101, "time", [0, 4], AUDIO_TIME),
  nd(C.playback, S, 102, "time", [0, 4], AUDIO_TIME),
  nd(C.playback, S, 103, "time", [10, 14], AUDIO_TIME),
  nd(C.record, K, 101, "time", [0, 4], AUDIO_TIME),
  nd(C.record, K, 102, "time", [0, 4], AUDIO_TIME),
  nd(C.record, K, 103, "time", [0, 4], AUDIO_TIME),
]);
