/**
 * Uncompressed SPICE bitmaps (`SPICE_IMAGE_TYPE_BITMAP`) to BGRA pixels.
 *
 * @module
 */
import {
  BITMAP_FLAGS,
  BITMAP_FORMATS,
  type DecodedImage,
  ImageDecodeError,
  type Palette,
} from "../image.ts";
import { allocImage, expand5, finishImage, paletteTable, putColor } from "./_pixels.ts";

const CODEC = "bitmap";

/** A SPICE bitmap as it arrives in an image descriptor. */
export interface BitmapInput {
  /** One of `BITMAP_FORMATS`. */
  format: number;
  /** `BITMAP_FLAGS` bits; without TOP_DOWN the first row in `data` is the bottom one. */
  flags: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bytes per row in `data`. */
  stride: number;
  /** The palette, for the 1, 4 and 8 bit formats. */
  palette?: Palette;
  /** The rows. */
  data: Uint8Array;
}

/** Bits per pixel of each bitmap format. */
const BITS_PER_PIXEL: Record<number, number> = {
  [BITMAP_FORMATS["1BIT_LE"]]: 1,
  [BITMAP_FORMATS["1BIT_BE"]]: 1,
  [BITMAP_FORMATS["4BIT_LE"]]: 4,
  [BITMAP_FORMATS["4BIT_BE"]]: 4,
  [BITMAP_FORMATS["8BIT"]]: 8,
  [BITMAP_FORMATS["16BIT"]]: 16,
  [BITMAP_FORMATS["24BIT"]]: 24,
  [BITMAP_FORMATS["32BIT"]]: 32,
  [BITMAP_FORMATS.RGBA]: 32,
  [BITMAP_FORMATS["8BIT_A"]]: 8,
};

type RowDecoder = (src: Uint8Array, s: number, out: Uint8Array, o: number) => void;

/**
 * Decodes an uncompressed bitmap of any SPICE format. Palette entries beyond the palette are
 * black; 8BIT_A gives black pixels with the bitmap's alpha; 16BIT is x1r5g5b5 little-endian.
 *
 * @param bitmap the bitmap fields and its rows
 * @returns the pixels, top-down
 * @throws {ImageDecodeError} on an unknown format, a short buffer, a short stride or a
 *   missing palette
 */
export function decodeBitmap(bitmap: BitmapInput): DecodedImage {
  const { format, width, height, stride, data } = bitmap;
  const bpp = BITS_PER_PIXEL[format];
  if (bpp === undefined) {
    throw new ImageDecodeError(CODEC, { offset: 0, expected: `a bitmap format, found ${format}` });
  }
  const out = allocImage(CODEC, { width, height, offset: 0 });
  const rowBytes = Math.ceil((width * bpp) / 8);
  if (!Number.isInteger(stride) || stride < rowBytes) {
    throw new ImageDecodeError(CODEC, {
      offset: 0,
      expected: `stride of at least ${rowBytes} bytes, found ${stride}`,
    });
  }
  const need = stride * (height - 1) + rowBytes;
  if (data.length < need) {
    throw new ImageDecodeError(CODEC, {
      offset: data.length,
      expected: `${need} bytes of rows, found ${data.length}`,
    });
  }
  const row = rowDecoder(format, { width, palette: bitmap.palette });
  for (let y = 0; y < height; y++) row(data, y * stride, out, y * width * 4);
  const hasAlpha = format === BITMAP_FORMATS.RGBA || format === BITMAP_FORMATS["8BIT_A"];
  const topDown = (bitmap.flags & BITMAP_FLAGS.TOP_DOWN) !== 0;
  return finishImage(out, { width, height, topDown, hasAlpha });
}

function rowDecoder(
  format: number,
  { width, palette }: { width: number; palette: Palette | undefined },
): RowDecoder {
  switch (format) {
    case BITMAP_FORMATS["32BIT"]:
    case BITMAP_FORMATS.RGBA:
      return (src, s, out, o) => out.set(src.subarray(s, s + width * 4), o);
    case BITMAP_FORMATS["24BIT"]:
      return (src, s, out, o) => {
        for (let x = 0; x < width; x++, s += 3, o += 4) {
          out[o] = src[s];
          out[o + 1] = src[s + 1];
          out[o + 2] = src[s + 2];
        }
      };
    case BITMAP_FORMATS["16BIT"]:
      return (src, s, out, o) => {
        for (let x = 0; x < width; x++, s += 2, o += 4) put555(out, o, src[s] | (src[s + 1] << 8));
      };
    case BITMAP_FORMATS["8BIT_A"]:
      return (src, s, out, o) => {
        for (let x = 0; x < width; x++, o += 4) out[o + 3] = src[s + x];
      };
    default:
      return paletteRowDecoder(format, {
        width,
        table: paletteTable(CODEC, { palette, offset: 0 }),
      });
  }
}

function paletteRowDecoder(
  format: number,
  { width, table }: { width: number; table: Uint32Array },
): RowDecoder {
  const bpp = BITS_PER_PIXEL[format];
  const perByte = 8 / bpp;
  const mask = (1 << bpp) - 1;
  const bigEndian = format === BITMAP_FORMATS["1BIT_BE"] || format === BITMAP_FORMATS["4BIT_BE"];
  return (src, s, out, o) => {
    for (let x = 0; x < width; x++, o += 4) {
      const byte = src[s + Math.floor(x / perByte)];
      const slot = x % perByte;
      const shift = bigEndian ? (perByte - 1 - slot) * bpp : slot * bpp;
      putColor(out, o, table[(byte >> shift) & mask]);
    }
  };
}

/** Writes the x1r5g5b5 value `v` as B,G,R at byte `o`. Positional: runs per pixel. */
export function put555(out: Uint8Array, o: number, v: number): void {
  out[o] = expand5(v & 0x1f);
  out[o + 1] = expand5((v >> 5) & 0x1f);
  out[o + 2] = expand5((v >> 10) & 0x1f);
}
