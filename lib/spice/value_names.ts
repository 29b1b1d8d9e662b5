/**
 * Names of the values inside SPICE message bodies, as data: clip types, raster operation
 * descriptors, scale modes, surface formats and flags, cursor types and flags, mouse modes, and
 * the VD agent messages carried by the main channel's AGENT_DATA (their types, capabilities,
 * clipboard types and selections, replies, file-transfer results). Numbers are those of the
 * SPICE protocol headers (enums.h and vd_agent.h). The decoders put these names beside the
 * numbers (`clipTypeName`, `ropDescriptorNames`); mouse buttons and keyboard modifiers are in
 * scancodes.ts.
 *
 * @module
 */
import type { NameTable } from "./tables.ts";

/** Bits of a mask, in bit order: [bit value, name]. */
export type BitTable = ReadonlyArray<readonly [number, string]>;

function names(entries: [number, string][]): NameTable {
  return Object.freeze(new Map(entries));
}

/** Consecutive names from `first`. */
function from(first: number, list: string[]): NameTable {
  return names(list.map((n, i) => [first + i, n]));
}

/** One bit per name, bit 0 first. */
function bits(list: string[]): BitTable {
  return Object.freeze(list.map((n, i) => Object.freeze([1 << i, n] as const)));
}

/** SpiceClipType: a draw's clip. */
export const CLIP_TYPES: NameTable = from(0, ["NONE", "RECTS"]);

/** SpiceRopd: the raster operation descriptor of FILL, OPAQUE, COPY and BLEND. */
export const ROPD_BITS: BitTable = bits([
  "INVERS_SRC",
  "INVERS_BRUSH",
  "INVERS_DEST",
  "OP_PUT",
  "OP_OR",
  "OP_AND",
  "OP_XOR",
  "OP_BLACKNESS",
  "OP_WHITENESS",
  "OP_INVERS",
  "INVERS_RES",
]);

/** SpiceImageScaleMode. */
export const SCALE_MODES: NameTable = from(0, ["INTERPOLATE", "NEAREST"]);

/** SpiceBrushType. */
export const BRUSH_TYPES: NameTable = from(0, ["NONE", "SOLID", "PATTERN"]);

/** SpiceSurfaceFmt: SURFACE_CREATE's format. */
export const SURFACE_FORMATS: NameTable = names([
  [0, "INVALID"],
  [1, "1_A"],
  [8, "8_A"],
  [16, "16_555"],
  [32, "32_xRGB"],
  [80, "16_565"],
  [96, "32_ARGB"],
]);

/** SpiceSurfaceFlags. */
export const SURFACE_FLAGS: BitTable = bits(["PRIMARY", "STREAMING_MODE"]);

/** SpiceCursorType: a cursor shape's pixel format. */
export const CURSOR_TYPES: NameTable = from(0, [
  "ALPHA",
  "MONO",
  "COLOR4",
  "COLOR8",
  "COLOR16",
  "COLOR24",
  "COLOR32",
]);

/** SpiceCursorFlags. */
export const CURSOR_FLAGS: BitTable = bits(["NONE", "CACHE_ME", "FROM_CACHE"]);

/** SpiceMouseMode bits (main INIT, MOUSE_MODE, MOUSE_MODE_REQUEST). */
export const MOUSE_MODE_BITS: BitTable = bits(["SERVER", "CLIENT"]);

/** The VD agent protocol number every VDAgentMessage header carries. */
export const VD_AGENT_PROTOCOL = 1;

/** VD agent message types (VD_AGENT_*), inside main AGENT_DATA. */
export const VD_AGENT_MESSAGES: NameTable = from(1, [
  "MOUSE_STATE",
  "MONITORS_CONFIG",
  "REPLY",
  "CLIPBOARD",
  "DISPLAY_CONFIG",
  "ANNOUNCE_CAPABILITIES",
  "CLIPBOARD_GRAB",
  "CLIPBOARD_REQUEST",
  "CLIPBOARD_RELEASE",
  "FILE_XFER_START",
  "FILE_XFER_STATUS",
  "FILE_XFER_DATA",
  "CLIENT_DISCONNECTED",
  "MAX_CLIPBOARD",
  "AUDIO_VOLUME_SYNC",
  "GRAPHICS_DEVICE_INFO",
]);

/** VD agent capability bits (VD_AGENT_CAP_*). */
export const VD_AGENT_CAPS: NameTable = from(0, [
  "MOUSE_STATE",
  "MONITORS_CONFIG",
  "REPLY",
  "CLIPBOARD",
  "DISPLAY_CONFIG",
  "CLIPBOARD_BY_DEMAND",
  "CLIPBOARD_SELECTION",
  "SPARSE_MONITORS_CONFIG",
  "GUEST_LINEEND_LF",
  "GUEST_LINEEND_CRLF",
  "MAX_CLIPBOARD",
  "AUDIO_VOLUME_SYNC",
  "MONITORS_CONFIG_POSITION",
  "FILE_XFER_DISABLED",
  "FILE_XFER_DETAILED_ERRORS",
  "GRAPHICS_DEVICE_INFO",
  "CLIPBOARD_NO_RELEASE_ON_REGRAB",
  "CLIPBOARD_GRAB_SERIAL",
]);

/** VD agent clipboard data types (VD_AGENT_CLIPBOARD_*). */
export const VD_AGENT_CLIPBOARD_TYPES: NameTable = from(0, [
  "NONE",
  "UTF8_TEXT",
  "IMAGE_PNG",
  "IMAGE_BMP",
  "IMAGE_TIFF",
  "IMAGE_JPG",
]);

/** VD agent clipboard selections (with the CLIPBOARD_SELECTION capability). */
export const VD_AGENT_SELECTIONS: NameTable = from(0, ["CLIPBOARD", "PRIMARY", "SECONDARY"]);

/** VDAgentReply errors. */
export const VD_AGENT_REPLY_ERRORS: NameTable = from(1, ["SUCCESS", "ERROR"]);

/** VD agent file-transfer results (VD_AGENT_FILE_XFER_STATUS_*). */
export const VD_AGENT_XFER_STATUS: NameTable = from(0, [
  "CAN_SEND_DATA",
  "CANCELLED",
  "ERROR",
  "SUCCESS",
  "NOT_ENOUGH_SPACE",
  "SESSION_LOCKED",
  "VDAGENT_NOT_CONNECTED",
  "DISABLED",
]);

/** VDAgentMonitorsConfig flags. */
export const VD_AGENT_MONITORS_FLAGS: BitTable = bits(["USE_POS", "PHYSICAL_SIZE"]);

/** VDAgentDisplayConfig flags. */
export const VD_AGENT_DISPLAY_FLAGS: BitTable = bits([
  "DISABLE_WALLPAPER",
  "DISABLE_FONT_SMOOTH",
  "DISABLE_ANIMATION",
  "SET_COLOR_DEPTH",
]);

/** VDAgentMouseState button bits (bit 0 unused). */
export const VD_AGENT_BUTTON_BITS: BitTable = Object.freeze(
  ["LEFT", "MIDDLE", "RIGHT", "UP", "DOWN"].map((n, i) => Object.freeze([2 << i, n] as const)),
);

/** The name of `n` in `table`, or `unknown(n)`. */
export function valueName(table: NameTable, n: number): string {
  return table.get(n) ?? `unknown(${n})`;
}

/**
 * The names of the bits set in `mask`, bit order; bits the table lacks as `unknown(0x…)`.
 *
 * @example maskNames(ROPD_BITS, 0x9) // ["INVERS_SRC", "OP_PUT"]
 */
export function maskNames(table: BitTable, mask: number): string[] {
  // One plain loop: this runs for every flags field `inspect --messages` prints.
  const out: string[] = [];
  let rest = mask >>> 0;
  for (let i = 0; i < table.length; i++) {
    const [bit, name] = table[i];
    if ((mask & bit) !== 0) out.push(name);
    rest &= ~bit;
  }
  if (rest !== 0) out.push(`unknown(0x${(rest >>> 0).toString(16)})`);
  return out;
}
