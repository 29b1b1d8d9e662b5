/**
 * The diff normalisers as data: each has a name (for `--keep NAME` / `--normalise NAME`), says
 * which units it drops, which byte ranges it masks and which fields it maps consistently
 * (session ids). Numbers and offsets come from docs/protocol.md "What differs between runs".
 *
 * Offsets are relative to the compared bytes of a unit: the body for messages, the whole unit
 * (header included) for link-phase units.
 */
import type { SpiceUnitKind } from "../spice/types.ts";
import type { UnitClass } from "./types.ts";

/** Which units a normaliser entry applies to. */
export interface UnitSelector {
  /** Channel type; absent = every channel. */
  channel?: number;
  /** Direction: true client → server. */
  fromClient: boolean;
  /** Unit kind. @default "message" */
  kind?: SpiceUnitKind;
  /** Message type (messages only); absent = every type of that kind. */
  type?: number;
  /** Message types from `typeMin` to `typeMax` inclusive, instead of `type`. */
  typeMin?: number;
  /** Upper end (inclusive) of the `typeMin` range. */
  typeMax?: number;
}

/** A byte range [start, end) of the compared bytes; `end` absent = to the end. */
export interface FieldRange extends UnitSelector {
  /** Field name shown in reports, e.g. "sessionId". */
  field: string;
  /** First byte of the range, offset into the compared bytes. */
  start: number;
  /** Byte after the range; absent = to the end of the compared bytes. */
  end?: number;
}

/** One named normaliser. */
export interface Normaliser {
  /** Name used by `--keep NAME` and `--normalise NAME`, e.g. "session-id". */
  readonly name: string;
  /** One line for `--help`. */
  readonly description: string;
  /** On unless `--keep NAME`; off-by-default ones are enabled with `--normalise NAME`. */
  readonly defaultOn: boolean;
  /** Units dropped from both sides before alignment. */
  readonly drop?: readonly UnitSelector[];
  /** Ranges ignored in the comparison. */
  readonly mask?: readonly FieldRange[];
  /**
   * Ranges holding a u32 identifier that may differ between runs but must map one-to-one:
   * the first actual value seen binds to the golden value, later ones must agree.
   */
  readonly bind?: readonly FieldRange[];
  /** Full-header serials are compared unless this normaliser is on. */
  readonly ignoresSerial?: boolean;
  /**
   * Display draw types whose source image descriptor id is masked: [type, offset of the
   * src_bitmap u32 after the DisplayBase clip]. The descriptor's u64 id comes from a counter
   * that depends on how much the guest drew before (docs/protocol.md "What differs between runs").
   */
  readonly imageIds?: readonly (readonly [type: number, srcField: number])[];
  /** Periodic blink draws are left out of the comparison (lib/diff/blink.ts says which). */
  readonly foldsBlinks?: boolean;
}

const MAIN = 1;
const DISPLAY = 2;
const PLAYBACK = 5;
const RECORD = 6;

/** Common server message numbers (docs/protocol.md "Common messages"). */
const MSG_SET_ACK = 3;
const MSG_PING = 4;
const MSG_DISCONNECTING = 6;
const MSG_NOTIFY = 7;
/** Common client message numbers. */
const MSGC_ACK_SYNC = 1;
const MSGC_ACK = 2;
const MSGC_PONG = 3;
const MSGC_DISCONNECTING = 6;

/** Offsets in link-phase units, counted from the unit start (docs/protocol.md "Link phase"). */
export const LINK_OFFSETS: Readonly<{
  /** Client link message: connection_id after the 16-byte header. */
  connectionId: number;
  /** Link reply: pub_key after header + u32 error. */
  pubKey: number;
  /** Link reply: byte after the 162-byte pub_key. */
  pubKeyEnd: number;
}> = Object.freeze({
  connectionId: 16,
  pubKey: 20,
  pubKeyEnd: 182,
});

/**
 * Every normaliser, in the order `--help` lists them. `draw-images` is off by default: two runs
 * connecting at the same boot point get byte-identical display streams, so image bytes are
 * compared unless asked otherwise.
 */
export const NORMALISERS: readonly Normaliser[] = Object.freeze([
  {
    name: "session-id",
    description: "MAIN_INIT session_id and secondary link connection_id: mapped one-to-one",
    defaultOn: true,
    bind: [
      { channel: MAIN, fromClient: false, type: 103, field: "sessionId", start: 0, end: 4 },
      {
        fromClient: true,
        kind: "link",
        field: "connectionId",
        start: LINK_OFFSETS.connectionId,
        end: LINK_OFFSETS.connectionId + 4,
      },
    ],
  },
  {
    name: "pubkey",
    description: "server public key in the link reply (new RSA key per connection)",
    defaultOn: true,
    mask: [{
      fromClient: false,
      kind: "linkReply",
      field: "pubKey",
      start: LINK_OFFSETS.pubKey,
      end: LINK_OFFSETS.pubKeyEnd,
    }],
  },
  {
    name: "ticket",
    description: "client ticket (RSA-OAEP is randomised)",
    defaultOn: true,
    mask: [{ fromClient: true, kind: "ticket", field: "ticket", start: 0 }],
  },
  {
    name: "mm-time",
    description: "multimedia times: MAIN_INIT, MULTI_MEDIA_TIME, STREAM_*, playback/record time",
    defaultOn: true,
    mask: [
      { channel: MAIN, fromClient: false, type: 103, field: "multiMediaTime", start: 24, end: 28 },
      { channel: MAIN, fromClient: false, type: 106, field: "multiMediaTime", start: 0, end: 4 },
      { channel: DISPLAY, fromClient: false, type: 122, field: "stamp", start: 10, end: 18 },
      { channel: DISPLAY, fromClient: false, type: 123, field: "multiMediaTime", start: 4, end: 8 },
      { channel: DISPLAY, fromClient: false, type: 316, field: "multiMediaTime", start: 4, end: 8 },
      { channel: PLAYBACK, fromClient: false, type: 101, field: "time", start: 0, end: 4 },
      { channel: PLAYBACK, fromClient: false, type: 102, field: "time", start: 0, end: 4 },
      { channel: PLAYBACK, fromClient: false, type: 103, field: "time", start: 10, end: 14 },
      { channel: RECORD, fromClient: true, type: 101, field: "time", start: 0, end: 4 },
      { channel: RECORD, fromClient: true, type: 102, field: "time", start: 0, end: 4 },
      { channel: RECORD, fromClient: true, type: 103, field: "time", start: 0, end: 4 },
    ],
  },
  {
    name: "timestamps",
    description: "NOTIFY / DISCONNECTING time_stamp (host clock)",
    defaultOn: true,
    mask: [
      { fromClient: false, type: MSG_NOTIFY, field: "timeStamp", start: 0, end: 8 },
      { fromClient: false, type: MSG_DISCONNECTING, field: "timeStamp", start: 0, end: 8 },
      { fromClient: true, type: MSGC_DISCONNECTING, field: "timeStamp", start: 0, end: 8 },
    ],
  },
  {
    name: "image-ids",
    description:
      "DRAW_* source image ids, and a GLZ image's header id and window (guest-progress counters)",
    defaultOn: true,
    // DRAW_OPAQUE, COPY, BLEND, ROP3, TRANSPARENT start with src_bitmap; ALPHA_BLEND has
    // u8 flags + u8 alpha first, COMPOSITE a u32 flags word.
    imageIds: [[303, 0], [304, 0], [305, 0], [309, 0], [312, 0], [313, 2], [318, 4]],
  },
  {
    name: "ping",
    description: "PING / PONG dropped (ids, timestamps and positions depend on timing)",
    defaultOn: true,
    drop: [{ fromClient: false, type: MSG_PING }, { fromClient: true, type: MSGC_PONG }],
  },
  {
    name: "ack",
    description: "ACK_SYNC / ACK dropped (positions depend on timing); SET_ACK is compared",
    defaultOn: true,
    drop: [{ fromClient: true, type: MSGC_ACK_SYNC }, { fromClient: true, type: MSGC_ACK }],
  },
  {
    name: "serial",
    description: "full-header serials ignored (shifted by dropped pings and acks)",
    defaultOn: true,
    ignoresSerial: true,
  },
  {
    name: "draw-images",
    description: "DRAW_* bodies compared only up to the box (image bytes ignored)",
    defaultOn: false,
    // DisplayBase: u32 surface_id + 4 × i32 box = 20 bytes; clip and image data follow.
    mask: [{
      channel: DISPLAY,
      fromClient: false,
      typeMin: 302,
      typeMax: 313,
      field: "image",
      start: 20,
    }, { channel: DISPLAY, fromClient: false, type: 318, field: "image", start: 20 }],
  },
  {
    name: "blink",
    description: "periodic blink draws (a small box redrawn alternating two images) left out",
    defaultOn: false,
    foldsBlinks: true,
  },
]);

/** Names of all normalisers. */
export const NORMALISER_NAMES: readonly string[] = Object.freeze(NORMALISERS.map((n) => n.name));

/** Only for tests and the help text: the SET_ACK number, compared but never dropped. */
export const SET_ACK_TYPE: number = MSG_SET_ACK;

/**
 * Whether a selector matches a unit.
 *
 * @param s the selector
 * @param unit the unit's channel, direction, kind and type
 */
export function selectorMatches(s: UnitSelector, unit: UnitClass): boolean {
  const { channelType: channel, fromClient, kind, type } = unit;
  if (s.fromClient !== fromClient) return false;
  if ((s.kind ?? "message") !== kind) return false;
  if (s.channel !== undefined && s.channel !== channel) return false;
  if (s.type !== undefined && s.type !== type) return false;
  if (s.typeMin !== undefined && (type === undefined || type < s.typeMin)) return false;
  if (s.typeMax !== undefined && (type === undefined || type > s.typeMax)) return false;
  return true;
}
