/**
 * What the LZ family (LZ, GLZ, the JPEG alpha plane) shares: image types, the literal pixel
 * readers and a bounds-checked byte cursor. Pixels are handled as u32 words (B | G<<8 | R<<16 |
 * A<<24) over the output buffer.
 *
 * @module
 */
import { ImageDecodeError } from "../image.ts";
import { expand5 } from "./_pixels.ts";

/** LZ image types (`LzImageType`); the PLT types carry 1, 4 or 8 bit palette indices. */
export const LZ_TYPES = {
  PLT1_LE: 1,
  PLT1_BE: 2,
  PLT4_LE: 3,
  PLT4_BE: 4,
  PLT8: 5,
  RGB16: 6,
  RGB24: 7,
  RGB32: 8,
  RGBA: 9,
  XXXA: 10,
  A8: 11,
} as const;

/** "  ZL" read as a big-endian u32: the LZ and GLZ magic. */
export const LZ_MAGIC = 0x20205a4c;
/** LZ and GLZ version 1.1. */
export const LZ_VERSION = 0x00010001;

/** Pixels per stream byte of the PLT types, indexed by type. */
export const PLT_PIXELS_PER_BYTE: Record<number, number> = { 1: 8, 2: 8, 3: 2, 4: 2, 5: 1 };
/** Bytes per pixel of the RGB types, indexed by type. */
export const RGB_BYTES_PER_PIXEL: Record<number, number> = {
  6: 2,
  7: 3,
  8: 4,
  9: 4,
  10: 4,
  11: 1,
};

/** A bounds-checked reader over one codec's input. */
export class ByteCursor {
  /** The input. */
  readonly src: Uint8Array;
  /** The codec name for errors. */
  readonly codec: string;
  /** Offset of the next byte. */
  pos: number;

  /**
   * Starts reading `src` at `start`.
   *
   * @param codec the codec, for errors
   * @param input the bytes and the start offset
   */
  constructor(codec: string, input: { src: Uint8Array; start?: number }) {
    this.codec = codec;
    this.src = input.src;
    this.pos = input.start ?? 0;
  }

  /** The next byte. */
  u8(): number {
    if (this.pos >= this.src.length) throw this.truncated("another byte");
    return this.src[this.pos++];
  }

  /** The next big-endian u32. */
  u32(): number {
    this.need(4, "a 32-bit field");
    const s = this.src, p = this.pos;
    this.pos += 4;
    return ((s[p] << 24) | (s[p + 1] << 16) | (s[p + 2] << 8) | s[p + 3]) >>> 0;
  }

  /** Throws unless `n` more bytes are there. */
  need(n: number, what: string): void {
    if (this.pos + n > this.src.length) throw this.truncated(what);
  }

  /** An error at the current offset. */
  error(expected: string, at = this.pos): ImageDecodeError {
    return new ImageDecodeError(this.codec, { offset: at, expected });
  }

  /** The end-of-input error. */
  truncated(what: string): ImageDecodeError {
    return this.error(`${what}, found end of data`, this.src.length);
  }
}

/**
 * How one image type's literals decode: each literal unit is `bytes` stream bytes giving `unit`
 * pixels; `alphaOnly` literals and copies touch only the A byte.
 */
export interface LiteralKind {
  /** Pixels per literal unit (8 for PLT1, 2 for PLT4, else 1). */
  unit: number;
  /** Stream bytes per literal unit. */
  bytes: number;
  /** True for the alpha pass: only the A byte is written. */
  alphaOnly: boolean;
  /** What LZ adds to a coded match length (GLZ adds one less). */
  lenBias: number;
  /** Decodes `count` units from `src[s]` into `px[op]`. */
  copy(src: Uint8Array, s: number, px: Uint32Array, op: number, count: number): void;
}

// The literal copiers take positional parameters: they run for every literal run of an image.
function rgbLiterals(src: Uint8Array, s: number, px: Uint32Array, op: number, n: number): void {
  const end = op + n;
  for (; op < end; op++, s += 3) {
    px[op] = src[s] | (src[s + 1] << 8) | (src[s + 2] << 16);
  }
}

function rgb16Literals(src: Uint8Array, s: number, px: Uint32Array, op: number, n: number): void {
  const end = op + n;
  for (; op < end; op++, s += 2) {
    const v = (src[s] << 8) | src[s + 1];
    px[op] = expand5(v & 0x1f) | (expand5((v >> 5) & 0x1f) << 8) |
      (expand5((v >> 10) & 0x1f) << 16);
  }
}

function alphaLiterals(src: Uint8Array, s: number, px: Uint32Array, op: number, n: number): void {
  const end = op + n;
  for (; op < end; op++, s++) px[op] = (px[op] & 0xffffff) | (src[s] << 24);
}

function a8Literals(src: Uint8Array, s: number, px: Uint32Array, op: number, n: number): void {
  const end = op + n;
  for (; op < end; op++, s++) px[op] = (src[s] << 24) >>> 0;
}

/** The literal decoder of an RGB type (RGB16, RGB24, RGB32, the RGB pass of RGBA). */
export function rgbKind(type: number): LiteralKind {
  if (type === LZ_TYPES.RGB16) {
    return { unit: 1, bytes: 2, alphaOnly: false, lenBias: 2, copy: rgb16Literals };
  }
  return { unit: 1, bytes: 3, alphaOnly: false, lenBias: 1, copy: rgbLiterals };
}

/** The literal decoder of the alpha pass (RGBA after its RGB pass, XXXA). */
export const ALPHA_KIND: LiteralKind = {
  unit: 1,
  bytes: 1,
  alphaOnly: true,
  lenBias: 3,
  copy: alphaLiterals,
};
/** The literal decoder of A8 images: black pixels carrying the alpha byte. */
export const A8_KIND: LiteralKind = {
  unit: 1,
  bytes: 1,
  alphaOnly: false,
  lenBias: 3,
  copy: a8Literals,
};

/**
 * The literal decoder of a PLT type. PLT4 indices wrap modulo the palette size and PLT1 uses
 * entries 0 and 1, as spice-common does; entries beyond the palette are black.
 */
export function paletteKind(type: number, colors: Uint32Array): LiteralKind {
  const table = new Uint32Array(256);
  const n = Math.min(colors.length, 256);
  for (let i = 0; i < 256; i++) {
    const c = type === LZ_TYPES.PLT8 ? colors[i] : colors[i % n];
    table[i] = (c ?? 0) & 0xffffff;
  }
  const ppb = PLT_PIXELS_PER_BYTE[type];
  const bits = 8 / ppb;
  const mask = (1 << bits) - 1;
  const littleEndian = type === LZ_TYPES.PLT1_LE || type === LZ_TYPES.PLT4_LE;
  const copy = (src: Uint8Array, s: number, px: Uint32Array, op: number, n: number): void => {
    const end = s + n;
    for (; s < end; s++) {
      const byte = src[s];
      for (let k = 0; k < ppb; k++) {
        const shift = littleEndian ? k * bits : (ppb - 1 - k) * bits;
        px[op++] = table[(byte >> shift) & mask];
      }
    }
  };
  return { unit: ppb, bytes: 1, alphaOnly: false, lenBias: 3, copy };
}

/** Copies `len` pixels from `ref` to `op` forwards (overlap repeats), or only their A bytes. */
export function copyMatch(
  px: Uint32Array,
  at: { ref: number; op: number; len: number; alphaOnly: boolean; from?: Uint32Array },
): void {
  const src = at.from ?? px;
  let { ref, op } = at;
  const end = op + at.len;
  if (at.alphaOnly) {
    for (; op < end; op++, ref++) px[op] = (px[op] & 0xffffff) | (src[ref] & 0xff000000);
  } else if (src !== px || op - ref >= at.len) {
    px.set(src.subarray(ref, ref + at.len), op);
  } else {
    for (; op < end; op++, ref++) px[op] = px[ref];
  }
}
