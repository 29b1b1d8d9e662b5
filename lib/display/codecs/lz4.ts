/**
 * SPICE LZ4 images (`SPICE_IMAGE_TYPE_LZ4`): a top-down byte and a bitmap format byte, then LZ4
 * blocks each prefixed by its big-endian u32 size, decoded as one stream (a block may refer back
 * into the output of the blocks before it). Rows are packed, `width * bytes-per-pixel` long.
 *
 * @module
 */
import { BITMAP_FORMATS, type DecodedImage, ImageDecodeError } from "../image.ts";
import { allocImage, finishImage } from "./_pixels.ts";
import { put555 } from "./bitmap.ts";

const CODEC = "lz4";

const BYTES_PER_PIXEL: Record<number, number> = {
  [BITMAP_FORMATS["16BIT"]]: 2,
  [BITMAP_FORMATS["24BIT"]]: 3,
  [BITMAP_FORMATS["32BIT"]]: 4,
  [BITMAP_FORMATS.RGBA]: 4,
};

function fail(offset: number, expected: string): ImageDecodeError {
  return new ImageDecodeError(CODEC, { offset, expected });
}

/** An LZ4 length extension at `s`: the sum and where it ends. Positional: runs per sequence. */
function readLength(src: Uint8Array, s: number, end: number): [number, number] {
  let add = 0, b: number;
  do {
    if (s >= end) throw fail(s, "a length byte inside the block");
    b = src[s++];
    add += b;
  } while (b === 255);
  return [add, s];
}

/**
 * Decodes one LZ4 block `src[s..end)` into `out` at `op`; matches may reach back to the start
 * of `out`. Returns the new output position.
 */
export function lz4Block(
  src: Uint8Array,
  at: { s: number; end: number; out: Uint8Array; op: number },
): number {
  let { s, op } = at;
  const { end, out } = at;
  while (s < end) {
    const token = src[s++];
    let lit = token >> 4;
    if (lit === 15) [lit, s] = ((r) => [15 + r[0], r[1]])(readLength(src, s, end));
    if (s + lit > end) throw fail(s, `${lit} literal bytes inside the block`);
    if (op + lit > out.length) {
      throw fail(s, `at most ${out.length - op} more output bytes, found ${lit} literals`);
    }
    out.set(src.subarray(s, s + lit), op);
    s += lit;
    op += lit;
    if (s === end) break;
    if (s + 2 > end) throw fail(s, "a 2-byte match offset");
    const offset = src[s] | (src[s + 1] << 8);
    if (offset === 0 || offset > op) throw fail(s, `a match offset in 1..${op}, found ${offset}`);
    s += 2;
    let len = token & 15;
    if (len === 15) [len, s] = ((r) => [15 + r[0], r[1]])(readLength(src, s, end));
    len += 4;
    if (op + len > out.length) {
      throw fail(s, `at most ${out.length - op} more output bytes, found a ${len}-byte match`);
    }
    if (offset >= len) out.copyWithin(op, op - offset, op - offset + len);
    else for (let i = 0; i < len; i++, op++) out[op] = out[op - offset];
    if (offset >= len) op += len;
  }
  return op;
}

/**
 * Decodes an LZ4 image payload. The width and height come from the image descriptor.
 *
 * @param data the payload: top-down byte, format byte, then size-prefixed LZ4 blocks
 * @param options the descriptor's width and height
 * @returns the pixels, top-down
 * @throws {ImageDecodeError} on an unsupported format, corrupt blocks or a short image
 */
export function decodeLz4(
  data: Uint8Array,
  options: { width: number; height: number },
): DecodedImage {
  const { width, height } = options;
  if (data.length < 2) throw fail(data.length, "the 2-byte LZ4 image header");
  const topDown = data[0] !== 0;
  const format = data[1];
  const bpp = BYTES_PER_PIXEL[format];
  if (bpp === undefined) {
    throw fail(1, `bitmap format 16BIT, 24BIT, 32BIT or RGBA, found ${format}`);
  }
  const out = allocImage(CODEC, { width, height, offset: 0 });
  const packed = bpp === 4 ? out : new Uint8Array(width * height * bpp);
  let s = 2, op = 0;
  do {
    if (s + 4 > data.length) throw fail(s, "a 4-byte block size");
    const size = ((data[s] << 24) | (data[s + 1] << 16) | (data[s + 2] << 8) | data[s + 3]) >>> 0;
    s += 4;
    if (size > data.length - s) {
      throw fail(s - 4, `a block of at most ${data.length - s} bytes, found ${size}`);
    }
    const before = op;
    op = lz4Block(data, { s, end: s + size, out: packed, op });
    if (op === before) throw fail(s, "a block that produces output");
    s += size;
  } while (s < data.length);
  if (op !== packed.length) throw fail(data.length, `${packed.length} decoded bytes, found ${op}`);
  unpack(packed, out, bpp);
  return finishImage(out, { width, height, topDown, hasAlpha: format === BITMAP_FORMATS.RGBA });
}

function unpack(packed: Uint8Array, out: Uint8Array, bpp: number): void {
  if (bpp === 4) return;
  const n = packed.length / bpp;
  for (let i = 0, s = 0, o = 0; i < n; i++, s += bpp, o += 4) {
    if (bpp === 2) put555(out, o, packed[s] | (packed[s + 1] << 8));
    else {
      out[o] = packed[s];
      out[o + 1] = packed[s + 1];
      out[o + 2] = packed[s + 2];
    }
  }
}
