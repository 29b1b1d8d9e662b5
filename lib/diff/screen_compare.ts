/**
 * Comparing two rendered screens pixel by pixel for `diff --screens`: masked rectangles and
 * either screen's unknown (unrenderable) regions skipped, a per-channel tolerance for lossy
 * codecs, the differing pixels counted and bounded, and a picture of where they are.
 *
 * @module
 */
import type { DisplaySnapshot } from "../display/display_model.ts";
import type { RgbaImage } from "../display/image_files.ts";
import type { Rect } from "../display/types.ts";

/** How two screens differ. */
export interface ScreenComparison {
  /** Pixels outside the masks whose R, G, B or A differ by more than the tolerance. */
  differing: number;
  /** The smallest rectangle holding every differing pixel; undefined when none differ. */
  box?: Rect;
  /** Whether the two screens have different sizes (the area outside one of them differs). */
  sizeDiffers: boolean;
}

/** Options of {@link compareScreens} and {@link screenDiffPicture}. */
export interface ScreenCompareOptions {
  /** Rectangles skipped (screen pixels). */
  masks?: readonly Rect[];
  /** Largest difference of one channel value (0–255) that still counts as equal. @default 0 */
  tolerance?: number;
}

/** 1 where a rectangle covers the pixel, for `width × height` pixels. */
function maskBitmap(size: { width: number; height: number }, rects: readonly Rect[]): Uint8Array {
  const { width, height } = size;
  const bits = new Uint8Array(width * height);
  for (const r of rects) {
    const top = Math.max(0, r.top);
    const bottom = Math.min(height, r.bottom);
    const left = Math.max(0, r.left);
    const right = Math.min(width, r.right);
    for (let y = top; y < bottom; y++) bits.fill(1, y * width + left, y * width + right);
  }
  return bits;
}

/** Whether a channel of the pixels at byte offsets i (of `a`) and j (of `b`) differs beyond `tol`. */
function differs(a: Uint8Array, b: Uint8Array, at: { i: number; j: number; tol: number }): boolean {
  const { i, j, tol } = at;
  for (let k = 0; k < 4; k++) if (Math.abs(a[i + k] - b[j + k]) > tol) return true;
  return false;
}

/** Walks the pixels of the larger area, calling `each` with whether the pixel differs. */
function walk(
  expected: DisplaySnapshot,
  actual: DisplaySnapshot,
  options: ScreenCompareOptions & { each: (x: number, y: number, state: 0 | 1 | 2) => void },
): void {
  const width = Math.max(expected.width, actual.width);
  const height = Math.max(expected.height, actual.height);
  const skip = maskBitmap({ width, height }, [
    ...(options.masks ?? []),
    ...expected.unknown,
    ...actual.unknown,
  ]);
  const tol = options.tolerance ?? 0;
  const pe = new Uint32Array(
    expected.pixels.buffer,
    expected.pixels.byteOffset,
    expected.width * expected.height,
  );
  const pa = new Uint32Array(
    actual.pixels.buffer,
    actual.pixels.byteOffset,
    actual.width * actual.height,
  );
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const inBoth = x < expected.width && y < expected.height && x < actual.width &&
        y < actual.height;
      if (!inBoth) {
        options.each(x, y, 1);
        continue;
      }
      if (skip[y * width + x]) {
        options.each(x, y, 2);
        continue;
      }
      const ie = y * expected.width + x;
      const ia = y * actual.width + x;
      const same = pe[ie] === pa[ia] ||
        tol > 0 && !differs(expected.pixels, actual.pixels, { i: ie * 4, j: ia * 4, tol });
      options.each(x, y, same ? 0 : 1);
    }
  }
}

/**
 * Compares two screens.
 *
 * @param expected the golden screen
 * @param actual the screen of the run under test
 * @param options masks and tolerance
 * @returns the differing pixel count and their bounding box
 */
export function compareScreens(
  expected: DisplaySnapshot,
  actual: DisplaySnapshot,
  options: ScreenCompareOptions = {},
): ScreenComparison {
  const sizeDiffers = expected.width !== actual.width || expected.height !== actual.height;
  if (
    !sizeDiffers && !options.masks?.length && !expected.unknown.length && !actual.unknown.length
  ) {
    const n = expected.width * expected.height;
    const pe = new Uint32Array(expected.pixels.buffer, expected.pixels.byteOffset, n);
    const pa = new Uint32Array(actual.pixels.buffer, actual.pixels.byteOffset, n);
    let i = 0;
    while (i < n && pe[i] === pa[i]) i++;
    if (i === n) return { differing: 0, sizeDiffers };
  }
  let differing = 0;
  let top = Infinity, left = Infinity, bottom = -1, right = -1;
  walk(expected, actual, {
    ...options,
    each: (x, y, state) => {
      if (state !== 1) return;
      differing++;
      if (y < top) top = y;
      if (x < left) left = x;
      if (y > bottom) bottom = y;
      if (x > right) right = x;
    },
  });
  if (differing === 0) return { differing, sizeDiffers };
  return { differing, box: { top, left, bottom: bottom + 1, right: right + 1 }, sizeDiffers };
}

/**
 * A picture of where two screens differ: differing pixels red, skipped ones (masks, unknown
 * regions) dark blue, the rest the actual screen dimmed to a quarter.
 *
 * @param expected the golden screen
 * @param actual the screen of the run under test
 * @param options masks and tolerance, as given to {@link compareScreens}
 * @returns RGBA of the larger width and height
 */
export function screenDiffPicture(
  expected: DisplaySnapshot,
  actual: DisplaySnapshot,
  options: ScreenCompareOptions = {},
): RgbaImage {
  const width = Math.max(expected.width, actual.width);
  const height = Math.max(expected.height, actual.height);
  const pixels = new Uint8Array(width * height * 4);
  walk(expected, actual, {
    ...options,
    each: (x, y, state) => {
      const o = (y * width + x) * 4;
      if (state === 1) pixels.set([255, 0, 0, 255], o);
      else if (state === 2) pixels.set([0, 0, 160, 255], o);
      else {
        const ia = (y * actual.width + x) * 4;
        const p = actual.pixels;
        pixels.set([p[ia] >> 2, p[ia + 1] >> 2, p[ia + 2] >> 2, 255], o);
      }
    },
  });
  return { width, height, pixels };
}
