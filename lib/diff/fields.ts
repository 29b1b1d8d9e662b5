/**
 * Byte layouts of the fixed fields of common SPICE units, as data: used to name the field at a
 * differing offset and to resolve `field` in `--rules`. Layouts as in docs/protocol.md "Link
 * phase" and "Message numbers"; offsets from the start of the compared bytes (the body for
 * messages, the whole unit for link-phase units). Variable parts are named by their first field
 * and run to the end.
 */
import { u32le } from "../bytes.ts";
import type { SpiceUnitKind } from "../spice/types.ts";
import type { UnitClass } from "./types.ts";

/** [name, start, end) — end undefined = to the end of the unit. */
export type FieldSpec = readonly [name: string, start: number, end?: number];

/** Layout of one unit kind / message type. */
export interface FieldLayout {
  /** Channel type; absent = common to every channel. */
  channel?: number;
  /** Direction: true client → server. */
  fromClient: boolean;
  /** Unit kind. @default "message" */
  kind?: SpiceUnitKind;
  /** Message type (messages only). */
  type?: number;
  /** The fields in offset order. */
  fields: readonly FieldSpec[];
}

const u32s = (names: string[], first = 0): FieldSpec[] =>
  names.map((n, i) => [n, first + 4 * i, first + 4 * i + 4] as const);

const DISPLAY_BASE: FieldSpec[] = [
  ["surfaceId", 0, 4],
  ["box.top", 4, 8],
  ["box.left", 8, 12],
  ["box.bottom", 12, 16],
  ["box.right", 16, 20],
  ["clip", 20, 21],
  ["drawData", 21],
];

/** Known layouts; lookup by {@link fieldLayout}. */
export const FIELD_LAYOUTS: readonly FieldLayout[] = Object.freeze([
  {
    fromClient: true,
    kind: "link",
    fields: [
      ["magic", 0, 4],
      ["majorVersion", 4, 8],
      ["minorVersion", 8, 12],
      ["size", 12, 16],
      ["connectionId", 16, 20],
      ["channelType", 20, 21],
      ["channelId", 21, 22],
      ["numCommonCaps", 22, 26],
      ["numChannelCaps", 26, 30],
      ["capsOffset", 30, 34],
      ["caps", 34],
    ],
  },
  {
    fromClient: false,
    kind: "linkReply",
    fields: [
      ["magic", 0, 4],
      ["majorVersion", 4, 8],
      ["minorVersion", 8, 12],
      ["size", 12, 16],
      ["error", 16, 20],
      ["pubKey", 20, 182],
      ["numCommonCaps", 182, 186],
      ["numChannelCaps", 186, 190],
      ["capsOffset", 190, 194],
      ["caps", 194],
    ],
  },
  { fromClient: true, kind: "authMechanism", fields: [["mechanism", 0, 4]] },
  { fromClient: true, kind: "ticket", fields: [["ticket", 0]] },
  { fromClient: false, kind: "linkResult", fields: [["result", 0, 4]] },
  { fromClient: false, type: 3, fields: u32s(["generation", "window"]) },
  { fromClient: false, type: 4, fields: [["id", 0, 4], ["timestamp", 4, 12], ["payload", 12]] },
  {
    fromClient: false,
    type: 7,
    fields: [
      ["timeStamp", 0, 8],
      ...u32s(["severity", "visibility", "what", "length"], 8),
      ["text", 24],
    ],
  },
  { fromClient: false, type: 6, fields: [["timeStamp", 0, 8], ["reason", 8, 12]] },
  { fromClient: true, type: 1, fields: [["generation", 0, 4]] },
  { fromClient: true, type: 3, fields: [["id", 0, 4], ["timestamp", 4, 12]] },
  { fromClient: true, type: 6, fields: [["timeStamp", 0, 8], ["reason", 8, 12]] },
  {
    channel: 1,
    fromClient: false,
    type: 103,
    fields: u32s([
      "sessionId",
      "displayChannelsHint",
      "supportedMouseModes",
      "currentMouseMode",
      "agentConnected",
      "agentTokens",
      "multiMediaTime",
      "ramHint",
    ]),
  },
  { channel: 1, fromClient: false, type: 104, fields: [["count", 0, 4], ["channels", 4]] },
  {
    channel: 1,
    fromClient: false,
    type: 105,
    fields: [["supportedModes", 0, 2], ["currentMode", 2, 4]],
  },
  { channel: 1, fromClient: false, type: 106, fields: u32s(["multiMediaTime"]) },
  { channel: 1, fromClient: false, type: 113, fields: [["length", 0, 4], ["name", 4]] },
  { channel: 1, fromClient: false, type: 114, fields: [["uuid", 0, 16]] },
  { channel: 1, fromClient: true, type: 101, fields: [["cacheSize", 0, 8]] },
  { channel: 1, fromClient: true, type: 105, fields: [["mode", 0, 2]] },
  { channel: 1, fromClient: true, type: 106, fields: u32s(["tokens"]) },
  { channel: 2, fromClient: false, type: 101, fields: u32s(["x", "y", "bits"]) },
  {
    channel: 2,
    fromClient: false,
    type: 314,
    fields: u32s(["surfaceId", "width", "height", "format", "flags"]),
  },
  { channel: 2, fromClient: false, type: 315, fields: u32s(["surfaceId"]) },
  {
    channel: 2,
    fromClient: false,
    type: 317,
    fields: [["count", 0, 2], ["maxAllowed", 2, 4], ["heads", 4]],
  },
  ...[302, 303, 304, 305, 306, 307, 308, 309, 310, 311, 312, 313, 318].map((type) => ({
    channel: 2,
    fromClient: false,
    type,
    fields: DISPLAY_BASE,
  })),
  {
    channel: 2,
    fromClient: true,
    type: 101,
    fields: [
      ["pixmapCacheId", 0, 1],
      ["pixmapCacheSize", 1, 9],
      ["glzDictId", 9, 10],
      ["glzWindow", 10, 14],
    ],
  },
  { channel: 3, fromClient: false, type: 101, fields: [["modifiers", 0, 2]] },
  { channel: 3, fromClient: false, type: 102, fields: [["modifiers", 0, 2]] },
  { channel: 3, fromClient: true, type: 101, fields: u32s(["scancode"]) },
  { channel: 3, fromClient: true, type: 102, fields: u32s(["scancode"]) },
  { channel: 3, fromClient: true, type: 103, fields: [["modifiers", 0, 2]] },
  {
    channel: 3,
    fromClient: true,
    type: 111,
    fields: [["dx", 0, 4], ["dy", 4, 8], ["buttons", 8, 10]],
  },
  {
    channel: 3,
    fromClient: true,
    type: 112,
    fields: [["x", 0, 4], ["y", 4, 8], ["buttons", 8, 10], ["displayId", 10, 11]],
  },
  { channel: 3, fromClient: true, type: 113, fields: [["button", 0, 1], ["buttons", 1, 3]] },
  { channel: 3, fromClient: true, type: 114, fields: [["button", 0, 1], ["buttons", 1, 3]] },
  { channel: 5, fromClient: false, type: 101, fields: [["time", 0, 4], ["data", 4]] },
  {
    channel: 5,
    fromClient: false,
    type: 102,
    fields: [["time", 0, 4], ["mode", 4, 6], ["data", 6]],
  },
  {
    channel: 5,
    fromClient: false,
    type: 103,
    fields: [["channels", 0, 4], ["format", 4, 6], ["frequency", 6, 10], ["time", 10, 14]],
  },
  { channel: 6, fromClient: true, type: 101, fields: [["time", 0, 4], ["data", 4]] },
  { channel: 6, fromClient: true, type: 103, fields: [["time", 0, 4]] },
]);

/**
 * The layout of a unit, when known: a channel-specific one first, then a common one (< 101).
 */
export function fieldLayout(unit: UnitClass): FieldLayout | undefined {
  const { channelType: channel, fromClient, kind, type } = unit;
  const fits = (l: FieldLayout) =>
    l.fromClient === fromClient && (l.kind ?? "message") === kind &&
    (kind !== "message" || l.type === type);
  const isCommon = kind !== "message" || (type !== undefined && type < 101);
  return FIELD_LAYOUTS.find((l) =>
    fits(l) && (isCommon ? l.channel === undefined : l.channel === channel)
  );
}

/**
 * Name of the field that holds `offset`, or undefined.
 *
 * @param layout the unit's layout
 * @param offset offset in the compared bytes
 */
export function fieldAt(layout: FieldLayout | undefined, offset: number): string | undefined {
  return layout?.fields.find(([, s, e]) => offset >= s && (e === undefined || offset < e))?.[0];
}

/**
 * Byte range of a named field (case-insensitive), or undefined.
 *
 * @param layout the unit's layout
 * @param name field name, e.g. "sessionId"
 */
export function fieldRange(
  layout: FieldLayout | undefined,
  name: string,
): { start: number; end?: number } | undefined {
  const f = layout?.fields.find(([n]) => n.toLowerCase() === name.toLowerCase());
  return f ? { start: f[1], end: f[2] } : undefined;
}

/** DisplayBase: u32 surface_id + 4 × i32 box, then the u8 clip type. */
const CLIP_TYPE_OFFSET = 20;
const CLIP_RECTS = 1;
const RECT_BYTES = 16;
/** Size of an image descriptor's id. */
export const IMAGE_ID_BYTES = 8;

/**
 * Offset (in the body) of the source image descriptor's u64 id in a DRAW_* message, or -1 when
 * the body is too short or the offset points nowhere.
 *
 * @param bytes the message bytes
 * @param bodyOffset where the body starts in `bytes`
 * @param srcField offset of the src_bitmap u32 counted from the end of the DisplayBase clip
 */
export function imageIdOffset(bytes: Uint8Array, bodyOffset: number, srcField: number): number {
  const length = bytes.length - bodyOffset;
  if (length <= CLIP_TYPE_OFFSET) return -1;
  let at = CLIP_TYPE_OFFSET + 1;
  if (bytes[bodyOffset + CLIP_TYPE_OFFSET] === CLIP_RECTS) {
    if (length < at + 4) return -1;
    at += 4 + RECT_BYTES * u32le(bytes, bodyOffset + at);
  }
  at += srcField;
  if (length < at + 4) return -1;
  const offset = u32le(bytes, bodyOffset + at);
  return offset === 0 || offset + IMAGE_ID_BYTES > length ? -1 : offset;
}
