/**
 * Display channel message parsers, as data: each message is a list of (field, kind) pairs read
 * in order by one struct reader; pointers are offsets from the body start, checked against the
 * body length (docs/protocol.md, "Display channel: drawing").
 */
import { BodyCursor } from "./_reader.ts";
import { readImagePointer } from "./image_ref.ts";
import type { Brush, DisplayCommand, DrawOp, Point, QMask, Rect } from "./types.ts";

function readRect(c: BodyCursor, f: string): Rect {
  const top = c.i32(`${f}.top`);
  const left = c.i32(`${f}.left`);
  const bottom = c.i32(`${f}.bottom`);
  const right = c.i32(`${f}.right`);
  return { top, left, bottom, right };
}

/** Bytes of one Rect on the wire. */
const RECT_BYTES = 16;
/** Clip type with rects following (`SPICE_CLIP_TYPE_RECTS`). */
const CLIP_RECTS = 1;

/** Clip: u8 type; type RECTS → u32 count and the rects inline. Undefined = no clip. */
function readClip(c: BodyCursor, f: string): Rect[] | undefined {
  const type = c.u8(`${f}.type`);
  if (type === 0) return undefined;
  if (type !== CLIP_RECTS) c.fail(`${f}.type`, `expected 0 (none) or 1 (rects), found ${type}`);
  const n = c.u32(`${f}.num_rects`);
  if (n * RECT_BYTES > c.body.length - c.pos) {
    c.fail(`${f}.rects`, `need ${n * RECT_BYTES} bytes, found ${c.body.length - c.pos}`);
  }
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) rects.push(readRect(c, `${f}.rects[${i}]`));
  return rects;
}

function readPoint(c: BodyCursor, f: string): Point {
  return { x: c.i32(`${f}.x`), y: c.i32(`${f}.y`) };
}

function readPoint16(c: BodyCursor, f: string): Point {
  return { x: c.i16(`${f}.x`), y: c.i16(`${f}.y`) };
}

/** Brush types (`SpiceBrushType`). */
const BRUSH_TYPES = { NONE: 0, SOLID: 1, PATTERN: 2 } as const;

function readBrush(c: BodyCursor, f: string): Brush {
  const type = c.u8(`${f}.type`);
  if (type === BRUSH_TYPES.SOLID) return { type: "solid", color: c.u32(`${f}.color`) };
  if (type === BRUSH_TYPES.PATTERN) {
    const image = readImagePointer(c, `${f}.pattern.pat`);
    return { type: "pattern", image, pos: readPoint(c, `${f}.pattern.pos`) };
  }
  if (type !== BRUSH_TYPES.NONE) c.fail(`${f}.type`, `expected 0, 1 or 2, found ${type}`);
  return { type: "none" };
}

function readQMask(c: BodyCursor, f: string): QMask {
  const flags = c.u8(`${f}.flags`);
  const pos = readPoint(c, `${f}.pos`);
  return { flags, pos, image: readImagePointer(c, `${f}.bitmap`) };
}

/** Field kinds a spec may use, with their readers. */
const FIELD_READERS = {
  u8: (c: BodyCursor, f: string) => c.u8(f),
  u16: (c: BodyCursor, f: string) => c.u16(f),
  u32: (c: BodyCursor, f: string) => c.u32(f),
  u64: (c: BodyCursor, f: string) => c.u64(f),
  rect: readRect,
  clip: readClip,
  point: readPoint,
  point16: readPoint16,
  image: readImagePointer,
  brush: readBrush,
  qmask: readQMask,
} as const;

type FieldKind = keyof typeof FIELD_READERS;
type Spec = readonly (readonly [string, FieldKind])[];
type StructOf<S extends Spec> = {
  -readonly [E in S[number] as E[0]]: ReturnType<(typeof FIELD_READERS)[E[1]]>;
};

/** Reads the fields of `spec` in order; field names in errors are the spec's names. */
function readStruct<const S extends Spec>(c: BodyCursor, spec: S): StructOf<S> {
  const out: Record<string, unknown> = {};
  for (const [name, kind] of spec) out[name] = FIELD_READERS[kind](c, name);
  return out as StructOf<S>;
}

const BASE = [["surfaceId", "u32"], ["box", "rect"], ["clip", "clip"]] as const;
const MASK = [["mask", "qmask"]] as const;
const SRC = [["src", "image"], ["srcArea", "rect"]] as const;
const COPY = [...SRC, ["ropd", "u16"], ["scaleMode", "u8"], ...MASK] as const;

/** Composite flag bits that add optional fields. */
const COMPOSITE = { HAS_MASK: 1 << 19, HAS_SRC_TRANSFORM: 1 << 20, HAS_MASK_TRANSFORM: 1 << 21 };
/** A Transform is six u32 (fixed 16.16). */
const TRANSFORM_BYTES = 24;

type OpReader = (c: BodyCursor) => DrawOp;

/** DRAW_* bodies after DisplayBase, by message type. */
const DRAW_OPS: ReadonlyMap<number, OpReader> = new Map<number, OpReader>([
  [
    302,
    (c) => ({ kind: "fill", ...readStruct(c, [["brush", "brush"], ["ropd", "u16"], ...MASK]) }),
  ],
  [303, (c) => ({
    kind: "opaque",
    ...readStruct(c, [...SRC, ["brush", "brush"], ["ropd", "u16"], ["scaleMode", "u8"], ...MASK]),
  })],
  [304, (c) => ({ kind: "copy", ...readStruct(c, COPY) })],
  [305, (c) => ({ kind: "blend", ...readStruct(c, COPY) })],
  [306, (c) => ({ kind: "blackness", ...readStruct(c, MASK) })],
  [307, (c) => ({ kind: "whiteness", ...readStruct(c, MASK) })],
  [308, (c) => ({ kind: "invers", ...readStruct(c, MASK) })],
  [309, (c) => ({
    kind: "rop3",
    ...readStruct(c, [...SRC, ["brush", "brush"], ["rop3", "u8"], ["scaleMode", "u8"], ...MASK]),
  })],
  [310, () => ({ kind: "unparsed" })],
  [311, () => ({ kind: "unparsed" })],
  [312, (c) => ({
    kind: "transparent",
    ...readStruct(c, [...SRC, ["srcColor", "u32"], ["trueColor", "u32"]]),
  })],
  [313, (c) => ({
    kind: "alphaBlend",
    ...readStruct(c, [["alphaFlags", "u8"], ["alpha", "u8"], ...SRC]),
  })],
  [318, readComposite],
  [104, (c) => ({ kind: "copyBits", srcPos: readPoint(c, "src_pos") })],
]);

function readComposite(c: BodyCursor): DrawOp {
  const { flags, src } = readStruct(c, [["flags", "u32"], ["src", "image"]]);
  const maskImage = flags & COMPOSITE.HAS_MASK ? readImagePointer(c, "mask_bitmap") : undefined;
  if (flags & COMPOSITE.HAS_SRC_TRANSFORM) c.bytes(TRANSFORM_BYTES, "src_transform");
  if (flags & COMPOSITE.HAS_MASK_TRANSFORM) c.bytes(TRANSFORM_BYTES, "mask_transform");
  const { srcOrigin, maskOrigin } = readStruct(c, [
    ["srcOrigin", "point16"],
    ["maskOrigin", "point16"],
  ]);
  return { kind: "composite", flags, src, maskImage, srcOrigin, maskOrigin };
}

type CommandReader = (c: BodyCursor) => DisplayCommand;

const simple = (cmd: DisplayCommand): CommandReader => () => cmd;

/** Server → client display messages that are not DRAW_*, by type. */
const SERVER_COMMANDS: ReadonlyMap<number, CommandReader> = new Map<number, CommandReader>([
  [101, (c) => {
    const m = readStruct(c, [["width", "u32"], ["height", "u32"], ["bits", "u32"]]);
    return { kind: "mode", ...m };
  }],
  [102, simple({ kind: "mark" })],
  [103, simple({ kind: "reset" })],
  [105, (c) => {
    const count = c.u16("count");
    const resources = [];
    for (let i = 0; i < count; i++) {
      resources.push(readStruct(c, [[`type`, "u8"], ["id", "u64"]]));
    }
    return { kind: "invalList", resources };
  }],
  [106, simple({ kind: "invalAllPixmaps" })],
  [107, (c) => ({ kind: "invalPalette", id: c.u64("id") })],
  [108, simple({ kind: "invalAllPalettes" })],
  [122, (c) => {
    const head = readStruct(c, [["surfaceId", "u32"], ["id", "u32"], ["flags", "u8"], [
      "codec",
      "u8",
    ]]);
    c.u64("stamp");
    const rest = readStruct(c, [
      ["width", "u32"],
      ["height", "u32"],
      ["srcWidth", "u32"],
      ["srcHeight", "u32"],
      ["dest", "rect"],
      ["clip", "clip"],
    ]);
    return { kind: "streamCreate", ...head, ...rest };
  }],
  [123, (c) => {
    const { id } = readStruct(c, [["id", "u32"], ["multiMediaTime", "u32"]]);
    return { kind: "streamData", id, data: c.bytes(c.u32("data_size"), "data") };
  }],
  [124, (c) => ({ kind: "streamClip", ...readStruct(c, [["id", "u32"], ["clip", "clip"]]) })],
  [125, (c) => ({ kind: "streamDestroy", id: c.u32("id") })],
  [126, simple({ kind: "streamDestroyAll" })],
  [314, (c) => ({
    kind: "surfaceCreate",
    ...readStruct(c, [
      ["surfaceId", "u32"],
      ["width", "u32"],
      ["height", "u32"],
      ["format", "u32"],
      ["flags", "u32"],
    ]),
  })],
  [315, (c) => ({ kind: "surfaceDestroy", surfaceId: c.u32("surface_id") })],
  [316, (c) => {
    const { id } = readStruct(c, [["id", "u32"], ["multiMediaTime", "u32"]]);
    const sized = readStruct(c, [["width", "u32"], ["height", "u32"], ["dest", "rect"]]);
    return { kind: "streamData", id, sized, data: c.bytes(c.u32("data_size"), "data") };
  }],
  [317, simple({ kind: "ignored" })], // MONITORS_CONFIG: head layout, no pixels
  [319, simple({ kind: "ignored" })], // STREAM_ACTIVATE_REPORT
  [320, simple({ kind: "unimplemented" })], // GL_SCANOUT_UNIX: pixels live in a dmabuf
  [321, simple({ kind: "unimplemented" })], // GL_DRAW
]);

/** Where a message comes from, for error context. */
export interface ParseContext {
  /** Message index among its direction's messages. */
  messageIndex: number;
  /** Message name, e.g. "DRAW_COPY". */
  messageName: string;
}

/**
 * Parses one display channel message body.
 *
 * @param type message type
 * @param body body bytes (header excluded); pointers are offsets into it
 * @param options direction and, for errors, message index and name
 * @returns the command; common messages (below 101) and unknown types are `ignored` /
 *   `unimplemented`
 * @throws {DisplayParseError} naming message index, field and body offset
 * @example
 * ```ts
 * const context = { fromClient: false, messageIndex: 3, messageName: "DRAW_COPY" };
 * const cmd = parseDisplayMessage(304, body, context); // { kind: "draw", base, op }
 * ```
 */
export function parseDisplayMessage(
  type: number,
  body: Uint8Array,
  options: ParseContext & { fromClient: boolean },
): DisplayCommand {
  const c = new BodyCursor(body, options);
  if (options.fromClient) {
    if (type !== 101) return { kind: "ignored" };
    const init = readStruct(c, [["cacheId", "u8"], ["pixmapCacheSize", "u64"], ["glzId", "u8"]]);
    return {
      kind: "displayInit",
      pixmapCacheSize: init.pixmapCacheSize,
      glzWindow: c.i32("glz_window"),
    };
  }
  if (type < 101) return { kind: "ignored" };
  const draw = DRAW_OPS.get(type);
  if (draw) {
    const base = readStruct(c, BASE);
    return { kind: "draw", base, op: draw(c) };
  }
  return SERVER_COMMANDS.get(type)?.(c) ?? { kind: "unimplemented" };
}
