/**
 * SPICE LZ images (`LZ_RGB`, `LZ_PLT`): a 28-byte big-endian header, then one LZ77 stream of
 * literal runs and back-references (an RGBA image carries a second stream for alpha).
 *
 * @module
 */
import { checkImageSize, type DecodedImage, type Palette } from "../image.ts";
import { finishImage } from "./_pixels.ts";
import {
  A8_KIND,
  ALPHA_KIND,
  ByteCursor,
  copyMatch,
  type LiteralKind,
  LZ_MAGIC,
  LZ_TYPES,
  LZ_VERSION,
  paletteKind,
  PLT_PIXELS_PER_BYTE,
  RGB_BYTES_PER_PIXEL,
  rgbKind,
} from "./_lz_common.ts";

const CODEC = "lz";
/** Literal runs are at most this long; a control byte at or above it is a back-reference. */
const MAX_COPY = 32;
/** Distances beyond this are coded with two extra bytes. */
const MAX_DISTANCE = 8191;

/** The fields of an LZ header. */
export interface LzHeader {
  /** One of `LZ_TYPES`. */
  type: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bytes per row of the encoded image (PLT rows may be padded). */
  stride: number;
  /** True when the first row in the stream is the top one. */
  topDown: boolean;
  /** Pixels in the stream: `stride * pixels-per-byte * height` for PLT, else width*height. */
  grossPixels: number;
  /** Offset of the first byte after the header. */
  bodyOffset: number;
}

/**
 * Reads and checks an LZ header at `start`.
 *
 * @throws {ImageDecodeError} on bad magic, version, type, sizes or stride
 */
export function readLzHeader(data: Uint8Array, start = 0): LzHeader {
  const cur = new ByteCursor(CODEC, { src: data, start });
  const magic = cur.u32();
  if (magic !== LZ_MAGIC) throw cur.error(`LZ magic "  ZL", found 0x${magic.toString(16)}`, start);
  const version = cur.u32();
  if (version !== LZ_VERSION) {
    throw cur.error(`LZ version 1.1, found 0x${version.toString(16)}`, start + 4);
  }
  const type = cur.u32();
  if (type < LZ_TYPES.PLT1_LE || type > LZ_TYPES.A8) {
    throw cur.error(`an LZ image type in 1..11, found ${type}`, start + 8);
  }
  const width = cur.u32(), height = cur.u32(), stride = cur.u32();
  const topDown = cur.u32() !== 0;
  checkImageSize(CODEC, { width, height, offset: start + 12 });
  const ppb = PLT_PIXELS_PER_BYTE[type];
  let grossPixels = width * height;
  if (ppb !== undefined) {
    if (stride * ppb < width || stride > Math.ceil(width / ppb)) {
      throw cur.error(
        `a PLT stride of ${Math.ceil(width / ppb)} bytes, found ${stride}`,
        start + 20,
      );
    }
    grossPixels = stride * ppb * height;
    checkImageSize(CODEC, { width: stride * ppb, height, offset: start + 20 });
  } else if (stride !== width * RGB_BYTES_PER_PIXEL[type]) {
    throw cur.error(
      `stride ${width * RGB_BYTES_PER_PIXEL[type]} (width × bytes per pixel), found ${stride}`,
      start + 20,
    );
  }
  return { type, width, height, stride, topDown, grossPixels, bodyOffset: cur.pos };
}

/**
 * Decodes one LZ stream from `cur` into `px` (all of it), returning nothing; the cursor ends
 * after the stream.
 *
 * @throws {ImageDecodeError} on truncation, a reference before the start or past the end
 */
export function lzDecompress(
  cur: ByteCursor,
  into: { px: Uint32Array; kind: LiteralKind },
): void {
  const { px, kind } = into;
  const limit = px.length;
  const { unit, bytes, alphaOnly } = kind;
  const lenBias = kind.lenBias;
  const src = cur.src;
  let op = 0;
  while (op < limit) {
    const at = cur.pos;
    const ctrl = cur.u8();
    if (ctrl >= MAX_COPY) {
      let len = (ctrl >> 5) - 1;
      let ofs = (ctrl & 31) << 8;
      let code: number;
      if (len === 6) {
        do {
          code = cur.u8();
          len += code;
        } while (code === 255);
      }
      code = cur.u8();
      ofs += code;
      if (code === 255 && ofs - code === 31 << 8) {
        ofs = (cur.u8() << 8) + cur.u8() + MAX_DISTANCE;
      }
      len = (len + lenBias) * unit;
      ofs = (ofs + 1) * unit;
      const ref = op - ofs;
      if (ref < 0) {
        throw cur.error(
          `a back-reference within the ${op} pixels decoded, found distance ${ofs}`,
          at,
        );
      }
      if (op + len > limit) {
        throw cur.error(`a match of at most ${limit - op} pixels, found ${len}`, at);
      }
      copyMatch(px, { ref, op, len, alphaOnly });
      op += len;
    } else {
      const count = ctrl + 1;
      if (op + count * unit > limit) {
        throw cur.error(
          `a literal run of at most ${Math.ceil((limit - op) / unit)} units, found ${count}`,
          at,
        );
      }
      cur.need(count * bytes, `${count} literal pixels`);
      kind.copy(src, cur.pos, px, op, count);
      cur.pos += count * bytes;
      op += count * unit;
    }
  }
}

/**
 * Decodes an LZ image (`LZ_RGB` or `LZ_PLT` payload, starting at the LZ magic). PLT types need
 * the palette; RGB16 is widened to 8 bits per channel; A8 and XXXA give black pixels with alpha.
 *
 * @param data the LZ stream
 * @param options the palette, for the PLT types
 * @returns the pixels, top-down
 * @throws {ImageDecodeError} on corrupt input or a missing palette
 */
export function decodeLz(data: Uint8Array, options: { palette?: Palette } = {}): DecodedImage {
  const header = readLzHeader(data);
  const { type, width, height, grossPixels } = header;
  const cur = new ByteCursor(CODEC, { src: data, start: header.bodyOffset });
  const gross = new Uint8Array(grossPixels * 4);
  const px = new Uint32Array(gross.buffer);
  if (PLT_PIXELS_PER_BYTE[type] !== undefined) {
    if (!options.palette || options.palette.colors.length === 0) {
      throw cur.error("a palette for this PLT image", 8);
    }
    lzDecompress(cur, { px, kind: paletteKind(type, options.palette.colors) });
  } else if (type === LZ_TYPES.A8) {
    lzDecompress(cur, { px, kind: A8_KIND });
  } else if (type === LZ_TYPES.XXXA) {
    lzDecompress(cur, { px, kind: ALPHA_KIND });
  } else {
    lzDecompress(cur, { px, kind: rgbKind(type) });
    if (type === LZ_TYPES.RGBA) lzDecompress(cur, { px, kind: ALPHA_KIND });
  }
  const hasAlpha = type === LZ_TYPES.RGBA || type === LZ_TYPES.XXXA || type === LZ_TYPES.A8;
  const pixels = cropRows(gross, { grossWidth: grossPixels / height, width, height });
  return finishImage(pixels, { width, height, topDown: header.topDown, hasAlpha });
}

/** Drops the padding pixels at the end of each gross row. */
export function cropRows(
  gross: Uint8Array,
  shape: { grossWidth: number; width: number; height: number },
): Uint8Array {
  const { grossWidth, width, height } = shape;
  if (grossWidth === width) return gross;
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    out.set(gross.subarray(y * grossWidth * 4, (y * grossWidth + width) * 4), y * width * 4);
  }
  return out;
}
