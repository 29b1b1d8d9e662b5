/**
 * The shapes shared by the SPICE image codecs (`lib/display/codecs/`) and the display model:
 * the decoded image, the palette and the one error every codec throws on corrupt input.
 *
 * @module
 */

/**
 * A decoded image: 32-bit pixels, top-down rows, B,G,R,A byte order (SPICE's little-endian
 * 32-bit), stride = width*4. When `hasAlpha` is false the A bytes are 0xff.
 */
export interface DecodedImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** `width * height * 4` bytes, B,G,R,A per pixel, first row at the top. */
  pixels: Uint8Array;
  /** True when the A bytes carry the image's own alpha. */
  hasAlpha: boolean;
}

/** Palette: up to 256 32-bit colours (xRGB as u32 little-endian). */
export interface Palette {
  /** The palette's cache id. */
  id: bigint;
  /** The colours, entry `i` as 0xXXRRGGBB. */
  colors: Uint32Array;
}

/** Corrupt or unsupported image data: names the codec, the byte offset and what was expected. */
export class ImageDecodeError extends Error {
  /** Always "ImageDecodeError". */
  override name = "ImageDecodeError";
  /** The codec that failed, e.g. "quic", "lz", "glz", "bitmap". */
  readonly codec: string;
  /** Offset of the bad byte in the codec's input. */
  readonly offset: number;
  /** What the codec expected to find at `offset`. */
  readonly expected: string;
  /**
   * Builds the error; the message is `<codec> byte <offset>: expected <expected>`.
   *
   * @param codec the codec that failed
   * @param where the offset in the codec's input and what should have been there
   */
  constructor(codec: string, where: { offset: number; expected: string }) {
    super(`${codec} byte ${where.offset}: expected ${where.expected}`);
    this.codec = codec;
    this.offset = where.offset;
    this.expected = where.expected;
  }
}

/** A GLZ reference to an image the dictionary does not (or no longer) hold. */
export class GlzMissingImageError extends ImageDecodeError {
  /** Always "GlzMissingImageError". */
  override name = "GlzMissingImageError";
  /** The id of the missing image. */
  readonly missingId: bigint;
  /**
   * Builds the error.
   *
   * @param missingId the referenced image id
   * @param where the offset of the reference in the GLZ input
   */
  constructor(missingId: bigint, where: { offset: number }) {
    super("glz", { offset: where.offset, expected: `image ${missingId} in the dictionary` });
    this.missingId = missingId;
  }
}

/** SPICE bitmap formats (`SpiceBitmapFmt`). */
export const BITMAP_FORMATS = {
  INVALID: 0,
  "1BIT_LE": 1,
  "1BIT_BE": 2,
  "4BIT_LE": 3,
  "4BIT_BE": 4,
  "8BIT": 5,
  "16BIT": 6,
  "24BIT": 7,
  "32BIT": 8,
  RGBA: 9,
  "8BIT_A": 10,
} as const;

/** SPICE bitmap flags (`SpiceBitmapFlags`). */
export const BITMAP_FLAGS = { PAL_CACHE_ME: 1, PAL_FROM_CACHE: 2, TOP_DOWN: 4 } as const;

/** SPICE image descriptor types (`SpiceImageType`). */
export const IMAGE_TYPES = {
  BITMAP: 0,
  QUIC: 1,
  LZ_PLT: 100,
  LZ_RGB: 101,
  GLZ_RGB: 102,
  FROM_CACHE: 103,
  SURFACE: 104,
  JPEG: 105,
  FROM_CACHE_LOSSLESS: 106,
  ZLIB_GLZ_RGB: 107,
  JPEG_ALPHA: 108,
  LZ4: 109,
} as const;

/** Largest width or height any codec accepts. */
export const MAX_IMAGE_SIDE = 16_384;
/** Largest pixel count any codec allocates for (128 MiB of output). */
export const MAX_IMAGE_PIXELS = 1 << 25;

/**
 * Checks declared dimensions against the limits before anything is allocated.
 *
 * @param codec the codec, for the error
 * @param size the declared width and height and the offset they were read at
 * @throws {ImageDecodeError} when a side is 0 or too large, or the area is too large
 */
export function checkImageSize(
  codec: string,
  size: { width: number; height: number; offset: number },
): void {
  const { width, height, offset } = size;
  const ok = Number.isInteger(width) && Number.isInteger(height) && width >= 1 && height >= 1 &&
    width <= MAX_IMAGE_SIDE && height <= MAX_IMAGE_SIDE && width * height <= MAX_IMAGE_PIXELS;
  if (!ok) {
    throw new ImageDecodeError(codec, {
      offset,
      expected: `width and height in 1..${MAX_IMAGE_SIDE} and at most ${MAX_IMAGE_PIXELS} ` +
        `pixels, found ${width}x${height}`,
    });
  }
}
