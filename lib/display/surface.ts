/**
 * A drawing surface: 32-bit pixels (0xAARRGGBB words, B,G,R,A bytes) whatever the SPICE format,
 * plus a per-pixel "known" mask, and the draw region type (box ∩ clip ∩ mask).
 */
import type { Rect } from "./types.ts";

/** SPICE surface formats (`SpiceSurfaceFmt`). */
export const SURFACE_FORMATS = {
  INVALID: 0,
  "1_A": 1,
  "8_A": 8,
  "16_555": 16,
  "32_xRGB": 32,
  "16_565": 80,
  "32_ARGB": 96,
} as const;

/** SURFACE_CREATE flag: the surface is the primary (the screen). */
export const SURFACE_FLAG_PRIMARY = 1;

/** Pixels a draw touches: `bounds` (inside the surface) and, when not all of it, a coverage mask. */
export interface Region {
  /** Bounding rectangle, already clipped to the surface; empty when right ≤ left or bottom ≤ top. */
  bounds: Rect;
  /** One byte per pixel of `bounds` (row-major), non-zero = covered; absent = all covered. */
  cover?: Uint8Array;
}

/** Whether a region covers no pixel (its coverage mask may still be all zero). */
export function regionIsEmpty(r: Region): boolean {
  return r.bounds.right <= r.bounds.left || r.bounds.bottom <= r.bounds.top;
}

/** Intersection of two rects (possibly empty). */
export function intersectRects(a: Rect, b: Rect): Rect {
  return {
    top: Math.max(a.top, b.top),
    left: Math.max(a.left, b.left),
    bottom: Math.min(a.bottom, b.bottom),
    right: Math.min(a.right, b.right),
  };
}

/** A surface of the display model. */
export class Surface {
  readonly id: number;
  readonly width: number;
  readonly height: number;
  /** SPICE format (SURFACE_FORMATS); 16-bit formats are stored as 32-bit words. */
  readonly format: number;
  /** Whether this is the primary surface. */
  readonly primary: boolean;
  /** One word per pixel, 0xAARRGGBB, row-major, stride = width. */
  readonly words: Uint32Array;
  /** One byte per pixel: 1 known, 0 unknown (a draw that could not be rendered). */
  readonly known: Uint8Array;

  /** A zero-filled surface (what spice-gtk allocates), every pixel known. */
  constructor(
    init: { id: number; width: number; height: number; format: number; primary: boolean },
  ) {
    this.id = init.id;
    this.width = init.width;
    this.height = init.height;
    this.format = init.format;
    this.primary = init.primary;
    this.words = new Uint32Array(init.width * init.height);
    this.known = new Uint8Array(init.width * init.height).fill(1);
  }

  /** Whether the format keeps an alpha channel. */
  get hasAlpha(): boolean {
    return this.format === SURFACE_FORMATS["32_ARGB"];
  }

  /** The surface as a rect. */
  get rect(): Rect {
    return { top: 0, left: 0, bottom: this.height, right: this.width };
  }

  /**
   * The region of a draw: `box` clipped to the surface and to the union of `clip` rects.
   *
   * @param box the draw's bounding box
   * @param clip clip rects, undefined for none
   */
  region(box: Rect, clip?: readonly Rect[]): Region {
    const bounds = intersectRects(box, this.rect);
    if (!clip || regionIsEmpty({ bounds })) return { bounds };
    if (clip.length === 1) return { bounds: intersectRects(bounds, clip[0]) };
    const w = bounds.right - bounds.left;
    const cover = new Uint8Array(Math.max(0, w * (bounds.bottom - bounds.top)));
    for (const c of clip) {
      const r = intersectRects(c, bounds);
      for (let y = r.top; y < r.bottom; y++) {
        const row = (y - bounds.top) * w - bounds.left;
        cover.fill(1, row + r.left, row + Math.max(r.left, r.right));
      }
    }
    return { bounds, cover };
  }

  /**
   * Calls `fn(index)` for every covered pixel of `region` (index = y * width + x) with its
   * coordinates, row by row.
   */
  forEach(region: Region, fn: (index: number, x: number, y: number) => void): void {
    const { bounds, cover } = region;
    const w = bounds.right - bounds.left;
    for (let y = bounds.top; y < bounds.bottom; y++) {
      const row = y * this.width;
      const crow = (y - bounds.top) * w - bounds.left;
      for (let x = bounds.left; x < bounds.right; x++) {
        if (cover && !cover[crow + x]) continue;
        fn(row + x, x, y);
      }
    }
  }

  /** Marks every pixel of `region` known (true) or unknown (false). */
  markKnown(region: Region, known: boolean): void {
    const v = known ? 1 : 0;
    if (!region.cover) {
      const { top, bottom, left, right } = region.bounds;
      for (let y = top, row = top * this.width; y < bottom; y++, row += this.width) {
        this.known.fill(v, row + left, row + right);
      }
      return;
    }
    this.forEach(region, (i) => {
      this.known[i] = v;
    });
  }

  /** Rectangles covering the unknown pixels (row runs merged with identical runs below). */
  unknownRects(): Rect[] {
    if (!this.known.includes(0)) return [];
    const done: Rect[] = [];
    let open = new Map<string, Rect>();
    for (let y = 0; y <= this.height; y++) {
      const next = new Map<string, Rect>();
      if (y < this.height) {
        const row = y * this.width;
        let x = 0;
        while (x < this.width) {
          if (this.known[row + x]) {
            x++;
            continue;
          }
          const left = x;
          while (x < this.width && !this.known[row + x]) x++;
          const key = `${left}:${x}`;
          const prev = open.get(key);
          if (prev) {
            prev.bottom = y + 1;
            open.delete(key);
            next.set(key, prev);
          } else next.set(key, { top: y, left, bottom: y + 1, right: x });
        }
      }
      done.push(...open.values());
      open = next;
    }
    return done.sort((a, b) => a.top - b.top || a.left - b.left);
  }
}
