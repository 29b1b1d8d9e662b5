/**
 * The decoder table behind decodeMessage: one entry per (channel, direction, type), checked
 * against the name tables when the module loads (private to lib/spice).
 */
import type { Direction } from "../net/types.ts";
import {
  type Decoder,
  fields,
  K,
  type MessageFields,
  rect,
  RECT_BYTES,
  S,
  seq,
  text,
} from "./_body_reader.ts";
import { agentData } from "./_agent.ts";
import { BUTTON_BITS, BUTTONS, MODIFIER_BITS } from "./scancodes.ts";
import {
  CHANNEL_TYPES,
  channelName,
  FIRST_CHANNEL_MESSAGE,
  linkErrorName,
  messageTable,
} from "./tables.ts";
import {
  BRUSH_TYPES,
  CLIP_TYPES,
  CURSOR_FLAGS,
  CURSOR_TYPES,
  maskNames,
  MOUSE_MODE_BITS,
  ROPD_BITS,
  SCALE_MODES,
  SURFACE_FLAGS,
  SURFACE_FORMATS,
  valueName,
} from "./value_names.ts";

/** DisplayBase: surface, box, clip. */
const displayBase: Decoder = (r, out) => {
  out.surfaceId = r.u32();
  out.box = rect(r);
  out.clipType = r.u8();
  out.clipTypeName = valueName(CLIP_TYPES, out.clipType as number);
  if (out.clipType === 1) {
    const n = r.u32();
    out.clipRects = n;
    r.bytes(n * RECT_BYTES);
  }
};

const IMAGE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, "BITMAP"],
  [1, "QUIC"],
  [100, "LZ_PLT"],
  [101, "LZ_RGB"],
  [102, "GLZ_RGB"],
  [103, "FROM_CACHE"],
  [104, "SURFACE"],
  [105, "JPEG"],
  [106, "FROM_CACHE_LOSSLESS"],
  [107, "ZLIB_GLZ_RGB"],
  [108, "JPEG_ALPHA"],
  [109, "LZ4"],
]);

/** A Brush: type, then a solid colour or a pattern's image offset and origin. */
const brush: Decoder = (r, out) => {
  const type = r.u8();
  const b: MessageFields = { type, typeName: valueName(BRUSH_TYPES, type) };
  out.brush = b;
  if (type === 1) b.color = r.u32();
  if (type === 2) Object.assign(b, { imageAt: r.u32(), x: r.i32(), y: r.i32() });
};

/** A raster operation descriptor (SpiceRopd) with the names of its bits. */
const ropDescriptor: Decoder = (r, out) => {
  out.ropDescriptor = r.u16();
  out.ropDescriptorNames = maskNames(ROPD_BITS, out.ropDescriptor as number);
};

const scaleMode: Decoder = (r, out) => {
  out.scaleMode = r.u8();
  out.scaleModeName = valueName(SCALE_MODES, out.scaleMode as number);
};

/**
 * DisplayBase, then `Image *src_bitmap; Rect src_area`, then what the draw has after its source
 * (copy, opaque, blend, rop3, transparent).
 */
const drawWithImage = (after: Decoder): Decoder => (r, out) => {
  displayBase(r, out);
  const at = r.u32();
  out.srcArea = rect(r);
  after(r, out);
  if (at === 0) return;
  r.seek(at);
  const image: MessageFields = {};
  out.image = image;
  image.id = r.u64();
  image.type = r.u8();
  image.typeName = IMAGE_TYPES.get(image.type as number) ?? `unknown(${image.type})`;
  image.flags = r.u8();
  image.width = r.u32();
  image.height = r.u32();
};

/** Cursor: u16 flags; unless NONE (1), a header and the shape bytes. */
const cursor: Decoder = (r, out) => {
  const c: MessageFields = {};
  out.cursor = c;
  c.flags = r.u16();
  c.flagNames = maskNames(CURSOR_FLAGS, c.flags as number);
  if ((c.flags as number) & 1) return;
  Object.assign(c, { unique: r.u64(), type: r.u8() });
  c.typeName = valueName(CURSOR_TYPES, c.type as number);
  Object.assign(c, { width: r.u16(), height: r.u16() });
  Object.assign(c, { hotX: r.u16(), hotY: r.u16(), dataBytes: r.left });
};

const timestampReason: Decoder = (r, out) => {
  out.timestamp = r.u64();
  out.reason = r.u32();
  out.reasonName = linkErrorName(out.reason as number);
};

const volume: Decoder = (r, out) => {
  const n = r.u8();
  out.count = n;
  out.volumes = Array.from({ length: n }, () => r.u16());
};

const spicevmcCompressed = fields(["compressionType", "u8"], ["uncompressedSize", "u32"], [
  "dataBytes",
  "rest",
]);
const portInit: Decoder = (r, out) => {
  out.nameSize = r.u32();
  out.name = text(r.bytes(out.nameSize as number));
  out.opened = r.u8();
};
const smartcardData = fields(["vscType", "u32"], ["readerId", "u32"], ["length", "u32"], [
  "dataBytes",
  "rest",
]);

const modifiers: Decoder = (r, out) => {
  out.modifiers = r.u16();
  out.modifierNames = maskNames(MODIFIER_BITS, out.modifiers as number);
};
const buttons: Decoder = (r, out) => {
  out.buttons = r.u16();
  out.buttonNames = maskNames(BUTTON_BITS, out.buttons as number);
};
const button: Decoder = (r, out) => {
  out.button = r.u8();
  out.buttonName = BUTTONS.get(out.button as number) ?? `unknown(${out.button})`;
};

const C = CHANNEL_TYPES;

/** Decoder table. Keys: `common:<dir>:<type>` below 101, else `<channel>:<dir>:<type>`. */
export const DECODERS: ReadonlyMap<string, Decoder> = (() => {
  const m = new Map<string, Decoder>();
  const add = (channel: number | "common" | number[], dir: Direction, type: number, d: Decoder) => {
    for (const ch of Array.isArray(channel) ? channel : [channel]) {
      // A decoder for a message the tables do not know is a typo in this table.
      if (!messageTable(ch === "common" ? 0 : ch, { fromClient: dir === K, type }).has(type)) {
        throw new Error(`decoder for unknown message ${ch}:${dir}:${type}`);
      }
      m.set(`${ch}:${dir}:${type}`, d);
    }
  };
  // common
  add("common", S, 1, fields(["flags", "u32"]));
  add("common", S, 3, fields(["generation", "u32"], ["window", "u32"]));
  add("common", S, 4, fields(["id", "u32"], ["timestamp", "u64"], ["payloadBytes", "rest"]));
  add("common", S, 5, (r, out) => {
    const n = r.u8();
    out.count = n;
    out.channels = Array.from({ length: n }, () => {
      const type = r.u8();
      return { type, name: channelName(type), id: r.u8(), serial: r.u64() };
    });
  });
  add("common", S, 6, timestampReason);
  add("common", S, 7, (r, out) => {
    Object.assign(out, { timestamp: r.u64(), severity: r.u32(), visibility: r.u32() });
    out.what = r.u32();
    out.messageLength = r.u32();
    out.message = text(r.bytes(Math.min(out.messageLength as number, r.left)));
  });
  add("common", S, 8, fields(["count", "u16"]));
  add("common", K, 1, fields(["generation", "u32"]));
  add("common", K, 3, fields(["id", "u32"], ["timestamp", "u64"]));
  add("common", K, 6, timestampReason);
  // main
  add(
    C.main,
    S,
    103,
    fields(
      ["sessionId", "u32"],
      ["displayChannelsHint", "u32"],
      ["supportedMouseModes", "u32"],
      ["currentMouseMode", "u32"],
      ["agentConnected", "u32"],
      ["agentTokens", "u32"],
      ["multiMediaTime", "u32"],
      ["ramHint", "u32"],
    ),
  );
  add(C.main, S, 104, (r, out) => {
    const n = r.u32();
    out.count = n;
    out.channels = [];
    for (let i = 0; i < n; i++) {
      const type = r.u8();
      (out.channels as unknown[]).push({ type, name: channelName(type), id: r.u8() });
    }
  });
  add(C.main, S, 105, (r, out) => {
    out.supported = r.u16();
    out.supportedNames = maskNames(MOUSE_MODE_BITS, out.supported as number);
    out.current = r.u16();
    out.currentNames = maskNames(MOUSE_MODE_BITS, out.current as number);
  });
  add(C.main, S, 106, fields(["time", "u32"]));
  add(C.main, S, 108, fields(["error", "u32"]));
  add(C.main, S, 109, agentData);
  add(C.main, S, 110, fields(["tokens", "u32"]));
  add(C.main, S, 113, (r, out) => {
    out.nameLength = r.u32();
    out.name = text(r.bytes(Math.min(out.nameLength as number, r.left)));
  });
  add(C.main, S, 114, (r, out) => {
    const b = r.bytes(16);
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    const cut = (from: number, to: number) => hex.slice(from, to);
    out.uuid = [cut(0, 8), cut(8, 12), cut(12, 16), cut(16, 20), cut(20, 32)].join("-");
  });
  add(C.main, S, 115, fields(["tokens", "u32"]));
  add(C.main, K, 101, fields(["cacheSize", "u64"]));
  add(C.main, K, 105, (r, out) => {
    out.mode = r.u16();
    out.modeNames = maskNames(MOUSE_MODE_BITS, out.mode as number);
  });
  add(C.main, K, 106, fields(["tokens", "u32"]));
  add(C.main, K, 107, agentData);
  add(C.main, K, 108, fields(["tokens", "u32"]));
  add(C.main, K, 110, fields(["srcVersion", "u32"]));
  // display, server
  add(C.display, S, 101, fields(["x", "u32"], ["y", "u32"], ["bits", "u32"]));
  add(C.display, S, 104, seq(displayBase, fields(["srcX", "i32"], ["srcY", "i32"])));
  add(C.display, S, 105, fields(["count", "u16"]));
  add(C.display, S, 107, fields(["id", "u64"]));
  add(C.display, S, 122, (r, out) => {
    Object.assign(out, { surfaceId: r.u32(), id: r.u32(), flags: r.u8(), codecType: r.u8() });
    Object.assign(out, { stamp: r.u64(), streamWidth: r.u32(), streamHeight: r.u32() });
    Object.assign(out, { srcWidth: r.u32(), srcHeight: r.u32(), dest: rect(r) });
  });
  add(C.display, S, 123, fields(["id", "u32"], ["multiMediaTime", "u32"], ["dataSize", "u32"]));
  add(C.display, S, 124, fields(["id", "u32"], ["clipType", "u8"]));
  add(C.display, S, 125, fields(["id", "u32"]));
  for (const t of [306, 307, 308, 310, 311, 313, 318]) add(C.display, S, t, displayBase);
  add(C.display, S, 302, seq(displayBase, brush, ropDescriptor));
  add(C.display, S, 303, drawWithImage(seq(brush, ropDescriptor, scaleMode)));
  for (const t of [304, 305]) add(C.display, S, t, drawWithImage(seq(ropDescriptor, scaleMode)));
  add(C.display, S, 309, drawWithImage(seq(brush, fields(["rop3", "u8"]), scaleMode)));
  add(C.display, S, 312, drawWithImage(fields(["srcColor", "u32"], ["trueColor", "u32"])));
  add(C.display, S, 314, (r, out) => {
    Object.assign(out, { surfaceId: r.u32(), width: r.u32(), height: r.u32(), format: r.u32() });
    out.formatName = valueName(SURFACE_FORMATS, out.format as number);
    out.flags = r.u32();
    out.flagNames = maskNames(SURFACE_FLAGS, out.flags as number);
  });
  add(C.display, S, 315, fields(["surfaceId", "u32"]));
  add(C.display, S, 316, (r, out) => {
    Object.assign(out, { id: r.u32(), multiMediaTime: r.u32(), width: r.u32(), height: r.u32() });
    Object.assign(out, { dest: rect(r), dataSize: r.u32() });
  });
  add(C.display, S, 317, (r, out) => {
    const n = r.u16();
    Object.assign(out, { count: n, maxAllowed: r.u16(), heads: [] });
    for (let i = 0; i < n; i++) {
      (out.heads as unknown[]).push({
        id: r.u32(),
        surfaceId: r.u32(),
        width: r.u32(),
        height: r.u32(),
        x: r.u32(),
        y: r.u32(),
        flags: r.u32(),
      });
    }
  });
  add(
    C.display,
    S,
    319,
    fields(
      ["streamId", "u32"],
      ["uniqueId", "u32"],
      ["maxWindowSize", "u32"],
      ["timeoutMs", "u32"],
    ),
  );
  add(C.display, S, 321, fields(["x", "u32"], ["y", "u32"], ["w", "u32"], ["h", "u32"]));
  // display, client
  add(
    C.display,
    K,
    101,
    fields(
      ["pixmapCacheId", "u8"],
      ["pixmapCacheSize", "i64"],
      ["glzDictionaryId", "u8"],
      ["glzDictionaryWindowSize", "i32"],
    ),
  );
  add(
    C.display,
    K,
    102,
    fields(
      ["streamId", "u32"],
      ["uniqueId", "u32"],
      ["startFrameMmTime", "u32"],
      ["endFrameMmTime", "u32"],
      ["numFrames", "u32"],
      ["numDrops", "u32"],
      ["lastFrameDelay", "i32"],
      ["audioDelay", "u32"],
    ),
  );
  add(C.display, K, 103, fields(["imageCompression", "u8"]));
  add(C.display, K, 105, (r, out) => {
    const n = r.u8();
    out.count = n;
    out.codecs = Array.from(r.bytes(n));
  });
  // inputs
  add(C.inputs, S, 101, modifiers);
  add(C.inputs, S, 102, modifiers);
  add(C.inputs, K, 101, fields(["scancode", "u32"]));
  add(C.inputs, K, 102, fields(["scancode", "u32"]));
  add(C.inputs, K, 103, modifiers);
  add(C.inputs, K, 104, (r, out) => (out.scancodes = Array.from(r.bytes(r.left))));
  add(C.inputs, K, 111, seq(fields(["dx", "i32"], ["dy", "i32"]), buttons));
  add(
    C.inputs,
    K,
    112,
    seq(fields(["x", "u32"], ["y", "u32"]), buttons, fields(["displayId", "u8"])),
  );
  for (const t of [113, 114]) add(C.inputs, K, t, seq(button, buttons));
  // cursor
  add(
    C.cursor,
    S,
    101,
    seq(
      fields(["x", "i16"], ["y", "i16"], ["trailLength", "u16"], ["trailFrequency", "u16"]),
      fields(["visible", "u8"]),
      cursor,
    ),
  );
  add(C.cursor, S, 103, seq(fields(["x", "i16"], ["y", "i16"], ["visible", "u8"]), cursor));
  add(C.cursor, S, 104, fields(["x", "i16"], ["y", "i16"]));
  add(C.cursor, S, 106, fields(["length", "u16"], ["frequency", "u16"]));
  add(C.cursor, S, 107, fields(["id", "u64"]));
  // playback
  add(C.playback, S, 101, fields(["time", "u32"], ["dataBytes", "rest"]));
  add(C.playback, S, 102, fields(["time", "u32"], ["mode", "u16"], ["dataBytes", "rest"]));
  add(
    C.playback,
    S,
    103,
    fields(
      ["channels", "u32"],
      ["format", "u16"],
      ["frequency", "u32"],
      ["time", "u32"],
    ),
  );
  add(C.playback, S, 105, volume);
  add(C.playback, S, 106, fields(["mute", "u8"]));
  add(C.playback, S, 107, fields(["latencyMs", "u32"]));
  // record
  add(C.record, S, 101, fields(["channels", "u32"], ["format", "u16"], ["frequency", "u32"]));
  add(C.record, S, 103, volume);
  add(C.record, S, 104, fields(["mute", "u8"]));
  add(C.record, K, 101, fields(["time", "u32"], ["dataBytes", "rest"]));
  add(C.record, K, 102, fields(["time", "u32"], ["mode", "u16"], ["dataBytes", "rest"]));
  add(C.record, K, 103, fields(["time", "u32"]));
  // smartcard, spicevmc (usbredir, port, webdav)
  add(C.smartcard, S, 101, smartcardData);
  add(C.smartcard, K, 101, smartcardData);
  const vmc = [C.usbredir, C.port, C.webdav];
  for (const dir of [S, K] as Direction[]) {
    add(vmc, dir, 101, fields(["dataBytes", "rest"]));
    add(vmc, dir, 102, spicevmcCompressed);
  }
  add([C.port, C.webdav], S, 201, portInit);
  add([C.port, C.webdav], S, 202, fields(["event", "u8"]));
  add([C.port, C.webdav], K, 201, fields(["event", "u8"]));
  return Object.freeze(m);
})();

/** Table key for a message: the common entry below 101, the channel's from 101 on. */
export function decoderKey(channelType: number, fromClient: boolean, type: number): string {
  const ch = type < FIRST_CHANNEL_MESSAGE ? "common" : channelType;
  return `${ch}:${fromClient ? K : S}:${type}`;
}
