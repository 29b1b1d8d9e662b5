/**
 * Display channel messages in one line each, for `inspect --messages`: what a draw paints where,
 * with each image's codec, size, cache and GLZ dictionary ids, and what a video stream carries.
 * Built on the same parsers as the display model (messages.ts, image_ref.ts), so inspect shows
 * what `render` reads.
 *
 * @module
 */
import { inflateSync } from "node:zlib";
import { messageBody } from "../spice/messages.ts";
import { maskNames, ROPD_BITS } from "../spice/value_names.ts";
import type { MessageEvent } from "../session/types.ts";
import { BITMAP_FORMATS, IMAGE_TYPES } from "./image.ts";
import { IMAGE_FLAGS, imageTypeName } from "./image_ref.ts";
import { parseDisplayMessage } from "./messages.ts";
import { VIDEO_CODECS } from "./streams.ts";
import type { Brush, DisplayCommand, DrawOp, ImageRef, Rect } from "./types.ts";

/** The display channel's type number. */
const DISPLAY_CHANNEL = 2;
/** Bytes of a GLZ header before its u64 image id: magic, version, type, width, height, stride. */
const GLZ_ID_AT = 21;
/** The LZ/GLZ magic `"  ZL"`. */
const LZ_MAGIC = 0x20205a4c;

function box(r: Rect): string {
  return `${r.left},${r.top}+${r.right - r.left}×${r.bottom - r.top}`;
}

function hex(v: bigint | number): string {
  return `0x${v.toString(16)}`;
}

/** `glz-id=N win=N` from a GLZ stream's header, or "" when it is not one. */
function glzIds(glz: Uint8Array): string {
  if (glz.length < GLZ_ID_AT + 12) return "";
  const v = new DataView(glz.buffer, glz.byteOffset, glz.byteLength);
  if (v.getUint32(0) !== LZ_MAGIC) return "";
  return ` glz-id=${v.getBigUint64(GLZ_ID_AT)} win=${v.getUint32(GLZ_ID_AT + 8)}`;
}

/** A ZLIB_GLZ_RGB image's GLZ ids, read from its inflated header (or "" when it fails). */
function zlibGlzIds(data: Uint8Array, glzSize: number): string {
  try {
    return glzIds(inflateSync(data, { maxOutputLength: glzSize }));
  } catch {
    return "";
  }
}

function imageData(img: ImageRef): string {
  const d = img.data;
  switch (d.kind) {
    case "bitmap": {
      const name = Object.entries(BITMAP_FORMATS).find(([, n]) => n === d.format)?.[0];
      const pal = d.paletteId !== undefined ? ` palette=${hex(d.paletteId)}` : "";
      return ` ${name ?? `format ${d.format}`} ${d.data.length}B${pal}`;
    }
    case "binary":
      return ` ${d.data.length}B${img.type === IMAGE_TYPES.GLZ_RGB ? glzIds(d.data) : ""}`;
    case "lzPlt":
      return ` ${d.data.length}B`;
    case "zlibGlz":
      return ` ${d.data.length}B (glz ${d.glzDataSize}B)${zlibGlzIds(d.data, d.glzDataSize)}`;
    case "jpegAlpha":
      return ` ${d.data.length}B (jpeg ${d.jpegSize}B, alpha ${d.data.length - d.jpegSize}B)`;
    case "surface":
      return ` surface=${d.surfaceId}`;
    case "cache":
    case "unknown":
      return "";
  }
}

/**
 * One image: `TYPE W×H id=0x… [cache_me] [replace_me] [high_bits] <size and codec ids>`.
 *
 * @param img a parsed image reference
 */
export function describeImage(img: ImageRef): string {
  const flags = [
    img.flags & IMAGE_FLAGS.CACHE_ME ? " cache_me" : "",
    img.flags & IMAGE_FLAGS.CACHE_REPLACE_ME ? " replace_me" : "",
    img.flags & IMAGE_FLAGS.HIGH_BITS_SET ? " high_bits" : "",
  ].join("");
  return `${imageTypeName(img.type)} ${img.width}×${img.height} id=${hex(img.id)}${flags}` +
    imageData(img);
}

function brush(b: Brush): string {
  if (b.type === "solid") return ` brush=#${(b.color & 0xffffff).toString(16).padStart(6, "0")}`;
  if (b.type === "pattern") return ` brush=pattern${b.image ? `(${describeImage(b.image)})` : ""}`;
  return "";
}

/** What a draw adds after its base: rop, brush, source area and images. */
function drawOp(op: DrawOp): string {
  const parts: string[] = [];
  if ("ropd" in op && op.ropd !== 8) parts.push(` ropd=${maskNames(ROPD_BITS, op.ropd).join("|")}`);
  if ("rop3" in op) parts.push(` rop3=${hex(op.rop3)}`);
  if ("brush" in op) parts.push(brush(op.brush));
  if ("alpha" in op) parts.push(` alpha=${op.alpha}`);
  if ("srcArea" in op) parts.push(` src=${box(op.srcArea)}`);
  if (op.kind === "copyBits") parts.push(` from=${op.srcPos.x},${op.srcPos.y}`);
  if ("src" in op && op.src) parts.push(` image=${describeImage(op.src)}`);
  if ("mask" in op && op.mask.image) parts.push(` mask=${describeImage(op.mask.image)}`);
  if (op.kind === "composite" && op.maskImage) parts.push(` mask=${describeImage(op.maskImage)}`);
  return parts.join("");
}

/** JPEG frame size from its first SOF marker, or "" when there is none. */
function jpegSize(data: Uint8Array): string {
  let i = 2;
  while (i + 9 < data.length && data[i] === 0xff) {
    const marker = data[i + 1];
    const length = (data[i + 2] << 8) | data[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      const h = (data[i + 5] << 8) | data[i + 6];
      const w = (data[i + 7] << 8) | data[i + 8];
      return ` ${w}×${h}`;
    }
    i += 2 + length;
  }
  return "";
}

/** The text of one parsed command, or undefined to keep the generic fields. */
function describeCommand(cmd: DisplayCommand): string | undefined {
  switch (cmd.kind) {
    case "draw": {
      const clip = cmd.base.clip ? ` clip=${cmd.base.clip.length}` : "";
      return `surface=${cmd.base.surfaceId} box=${box(cmd.base.box)}${clip}${drawOp(cmd.op)}`;
    }
    case "streamCreate": {
      const codec = VIDEO_CODECS.get(cmd.codec) ?? `codec ${cmd.codec}`;
      return `stream=${cmd.id} surface=${cmd.surfaceId} ${codec} ${cmd.width}×${cmd.height} ` +
        `src=${cmd.srcWidth}×${cmd.srcHeight} dest=${box(cmd.dest)}` +
        (cmd.clip ? ` clip=${cmd.clip.length}` : "");
    }
    case "streamData":
      return `stream=${cmd.id} ${cmd.data.length}B${jpegSize(cmd.data)}` +
        (cmd.sized ? ` dest=${box(cmd.sized.dest)}` : "");
    case "streamClip":
      return `stream=${cmd.id}${cmd.clip ? ` clip=${cmd.clip.length}` : " clip=none"}`;
    case "streamDestroy":
      return `stream=${cmd.id}`;
    case "invalList":
      return `ids=${cmd.resources.map((r) => hex(r.id)).join(",")}`;
    default:
      return undefined;
  }
}

/**
 * The `inspect --messages` text of a display channel message: for draws `surface=0
 * box=LEFT,TOP+W×H [clip=N] … image=GLZ_RGB 640×16 id=0x… cache_me 812B glz-id=… win=…`, for
 * streams their codec, sizes and frame sizes. Other units, and messages that do not parse,
 * give undefined (the generic fields are printed instead).
 *
 * @param ev a unit read from a session
 * @returns the text after the message name and size, or undefined
 */
export function describeDisplayEvent(ev: MessageEvent): string | undefined {
  const u = ev.unit;
  if (u.kind !== "message" || u.type === undefined || u.fromClient) return undefined;
  if (ev.connection.channelType !== DISPLAY_CHANNEL || u.type < 101) return undefined;
  let cmd: DisplayCommand;
  try {
    cmd = parseDisplayMessage(u.type, messageBody(u), {
      fromClient: false,
      messageIndex: 0,
      messageName: u.name,
    });
  } catch (e) {
    return `unparsable: ${(e as Error).message}`;
  }
  return describeCommand(cmd);
}
