/**
 * Known test images for the codec round trips: gradients, noise, flat areas, 1×1, odd widths.
 *
 * @module
 */
import { ImageDecodeError } from "../lib/display/image.ts";

/** A BGRA test image, top-down. */
export interface TestImage {
  name: string;
  width: number;
  height: number;
  pixels: Uint8Array;
}

/** Builds a BGRA image from a function of (x, y, channel). */
export function makeImage(
  name: string,
  size: { width: number; height: number; f: (x: number, y: number, c: number) => number },
): TestImage {
  const { width, height, f } = size;
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) pixels[(y * width + x) * 4 + c] = f(x, y, c) & 255;
    }
  }
  return { name, width, height, pixels };
}

/** A small deterministic pseudo-random generator. */
export function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 16;
}

/** The standard set. */
export function testImages(): TestImage[] {
  const rnd = lcg(42);
  return [
    makeImage("1x1", { width: 1, height: 1, f: (_x, _y, c) => 40 + c * 60 }),
    makeImage("gradient 17x9", { width: 17, height: 9, f: (x, y, c) => x * 13 + y * 7 + c * 50 }),
    makeImage("flat bands 64x40", { width: 64, height: 40, f: (x, _y, c) => (x >> 3) * 20 + c }),
    makeImage("noise 33x21", { width: 33, height: 21, f: () => rnd() }),
    makeImage("wide 3000x3", {
      width: 3000,
      height: 3,
      f: (x, _y, c) => ((x / 100) | 0) * (c + 1),
    }),
    makeImage("mixed 301x97", {
      width: 301,
      height: 97,
      f: (x, y, c) => (((x ^ y) >> 4) * (c + 3) * 9) + (rnd() & 3),
    }),
  ];
}

/** Returns the image with its rows in reverse order. */
export function flipped(image: TestImage): Uint8Array {
  const out = new Uint8Array(image.pixels.length), stride = image.width * 4;
  for (let y = 0; y < image.height; y++) {
    out.set(image.pixels.subarray(y * stride, (y + 1) * stride), (image.height - 1 - y) * stride);
  }
  return out;
}

/** Maps each pixel through `f` (BGRA in, BGRA out), e.g. to what a lossy depth keeps. */
export function mapPixels(pixels: Uint8Array, f: (p: number[]) => number[]): Uint8Array {
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i += 4) out.set(f([...pixels.subarray(i, i + 4)]), i);
  return out;
}

/** What 555 keeps of an 8-bit channel, expanded back as the decoders do. */
export function via5(v: number): number {
  const t = v >> 3;
  return (t << 3) | (t >> 2);
}

/** Runs `f`, which must throw an ImageDecodeError of `codec`, and returns that error. */
export function decodeError(codec: string, f: () => unknown): ImageDecodeError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ImageDecodeError)) throw new Error(`expected an ImageDecodeError, got ${e}`);
    if (e.codec !== codec) throw new Error(`expected codec ${codec}, got ${e.codec}: ${e.message}`);
    return e;
  }
  throw new Error("expected an ImageDecodeError, nothing was thrown");
}
