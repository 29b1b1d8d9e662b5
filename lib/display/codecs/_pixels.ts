/**
 * Pixel helpers shared by the codecs: output allocation, row flips, 5-bit expansion, palettes.
 *
 * @module
 */
import { checkImageSize, type DecodedImage, ImageDecodeError, type Palette } from "../image.ts";

/** Expands a 5-bit channel to 8 bits by replicating its top bits, as pixman does. */
export function expand5(v: number): number {
  return (v << 3) | (v >> 2);
}

/** Allocates a `width * height` BGRA image after checking the size against the limits. */
export function allocImage(
  codec: string,
  size: { width: number; height: number; offset: number },
): Uint8Array {
  checkImageSize(codec, size);
  return new Uint8Array(size.width * size.height * 4);
}

/** Reverses the row order of a BGRA buffer in place. */
export function flipRows(pixels: Uint8Array, width: number): void {
  const stride = width * 4;
  const rows = pixels.length / stride;
  const tmp = new Uint8Array(stride);
  for (let top = 0, bottom = rows - 1; top < bottom; top++, bottom--) {
    const a = top * stride;
    const b = bottom * stride;
    tmp.set(pixels.subarray(a, a + stride));
    pixels.copyWithin(a, b, b + stride);
    pixels.set(tmp, b);
  }
}

/** Sets every A byte of a BGRA buffer to 0xff. */
export function setOpaque(pixels: Uint8Array): void {
  if (pixels.byteOffset % 4 === 0) {
    const words = new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length >> 2);
    for (let i = 0; i < words.length; i++) words[i] |= 0xff000000;
    return;
  }
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 0xff;
}

/** Builds the result, flipping bottom-up rows and making non-alpha images opaque. */
export function finishImage(
  pixels: Uint8Array,
  shape: { width: number; height: number; topDown: boolean; hasAlpha: boolean },
): DecodedImage {
  if (!shape.topDown) flipRows(pixels, shape.width);
  if (!shape.hasAlpha) setOpaque(pixels);
  return { width: shape.width, height: shape.height, pixels, hasAlpha: shape.hasAlpha };
}

/**
 * Returns the palette's colours as a 256-entry table (missing entries black) for index lookups.
 *
 * @throws {ImageDecodeError} when there is no palette
 */
export function paletteTable(
  codec: string,
  palette: { palette: Palette | undefined; offset: number },
): Uint32Array {
  if (!palette.palette) {
    throw new ImageDecodeError(codec, { offset: palette.offset, expected: "a palette" });
  }
  const table = new Uint32Array(256);
  table.set(palette.palette.colors.subarray(0, 256));
  return table;
}

/** Writes the xRGB colour `c` as B,G,R,0xff at byte `o`. Positional: runs per pixel. */
export function putColor(out: Uint8Array, o: number, c: number): void {
  out[o] = c & 0xff;
  out[o + 1] = (c >>> 8) & 0xff;
  out[o + 2] = (c >>> 16) & 0xff;
  out[o + 3] = 0xff;
}
