/**
 * Pixel operations on a {@link Surface} inside a {@link Region}: solid and tiled fills, blits
 * (plain, scaled, with a raster op or ROP3), colour-keyed copies and alpha blending.
 */
import { applyRop, applyRop3, ROPS } from "./rop.ts";
import type { PixelSource } from "./image_store.ts";
import { type Region, regionIsEmpty, type Surface } from "./surface.ts";
import type { Point, Rect } from "./types.ts";

/** Maps a destination pixel to a source pixel index, or -1 when outside the source. */
export type SourceMap = (x: number, y: number) => number;

/** The offset of each map {@link offsetMap} made, so a plain copy can move whole rows. */
const OFFSETS = new WeakMap<SourceMap, Point>();

/** Source pixel at destination (x, y) for an unscaled copy: src = dest − offset. */
export function offsetMap(src: PixelSource, offset: Point): SourceMap {
  const map: SourceMap = (x, y) => {
    const sx = x - offset.x;
    const sy = y - offset.y;
    if (sx < 0 || sy < 0 || sx >= src.width || sy >= src.height) return -1;
    return sy * src.width + sx;
  };
  OFFSETS.set(map, offset);
  return map;
}

/** Nearest-neighbour map of `srcArea` onto `box` (pixel centres). */
export function scaledMap(src: PixelSource, area: { srcArea: Rect; box: Rect }): SourceMap {
  const { srcArea, box } = area;
  const sx = (srcArea.right - srcArea.left) / (box.right - box.left);
  const sy = (srcArea.bottom - srcArea.top) / (box.bottom - box.top);
  return (x, y) => {
    const u = srcArea.left + Math.floor((x - box.left + 0.5) * sx);
    const v = srcArea.top + Math.floor((y - box.top + 0.5) * sy);
    if (u < 0 || v < 0 || u >= src.width || v >= src.height) return -1;
    return v * src.width + u;
  };
}

/** Tiled source: dest (x, y) takes tile pixel ((x − pos.x) mod w, (y − pos.y) mod h). */
export function tileMap(tile: PixelSource, pos: Point): SourceMap {
  const mod = (a: number, n: number) => ((a % n) + n) % n;
  return (x, y) => mod(y - pos.y, tile.height) * tile.width + mod(x - pos.x, tile.width);
}

/**
 * Combines `src` into the surface with a binary raster op (COPY is a plain copy). Pixels whose
 * source lies outside the source image are left alone.
 */
export function blitRop(
  surface: Surface,
  region: Region,
  options: { src: PixelSource; map: SourceMap; rop: number },
): void {
  const { src, map, rop } = options;
  const words = surface.words;
  const sw = src.words;
  if (rop === ROPS.NOOP) return;
  const offset = rop === ROPS.COPY && !region.cover ? OFFSETS.get(map) : undefined;
  if (offset) return copyRows(surface, region.bounds, { src, offset });
  surface.forEach(region, (i, x, y) => {
    const j = map(x, y);
    if (j < 0) return;
    words[i] = rop === ROPS.COPY ? sw[j] : applyRop(rop, { s: sw[j], d: words[i] });
  });
}

/**
 * An unscaled copy of `src` into `bounds`, row by row (what {@link blitRop} does pixel by pixel
 * with an {@link offsetMap}): pixels whose source lies outside `src` are left alone.
 */
function copyRows(surface: Surface, bounds: Rect, o: { src: PixelSource; offset: Point }): void {
  const { src, offset } = o;
  const left = Math.max(bounds.left, offset.x);
  const right = Math.min(bounds.right, offset.x + src.width);
  if (right <= left) return;
  const top = Math.max(bounds.top, offset.y);
  const bottom = Math.min(bounds.bottom, offset.y + src.height);
  for (let y = top; y < bottom; y++) {
    const from = (y - offset.y) * src.width - offset.x;
    surface.words.set(src.words.subarray(from + left, from + right), y * surface.width + left);
  }
}

/** Fills with one colour through a binary raster op. */
export function fillRop(
  surface: Surface,
  region: Region,
  options: { color: number; rop: number },
): void {
  const { color, rop } = options;
  const words = surface.words;
  if (rop === ROPS.NOOP) return;
  if (rop === ROPS.COPY && !region.cover) {
    const { top, bottom, left, right } = region.bounds;
    for (let y = top, row = top * surface.width; y < bottom; y++, row += surface.width) {
      words.fill(color >>> 0, row + left, row + right);
    }
    return;
  }
  surface.forEach(region, (i) => {
    words[i] = rop === ROPS.COPY ? color >>> 0 : applyRop(rop, { s: color, d: words[i] });
  });
}

/** ROP3: pattern (brush colour or tile), source and destination bits through a ternary code. */
export function blitRop3(
  surface: Surface,
  region: Region,
  options: {
    src: PixelSource;
    map: SourceMap;
    brush: (x: number, y: number) => number;
    rop3: number;
  },
): void {
  const { src, map, brush, rop3 } = options;
  const words = surface.words;
  surface.forEach(region, (i, x, y) => {
    const j = map(x, y);
    if (j < 0) return;
    words[i] = applyRop3(rop3, { p: brush(x, y), s: src.words[j], d: words[i] });
  });
}

/** Copies source pixels whose RGB differs from `key` (DRAW_TRANSPARENT). */
export function colorKey(
  surface: Surface,
  region: Region,
  options: { src: PixelSource; map: SourceMap; key: number },
): void {
  const { src, map } = options;
  const key = options.key & 0xffffff;
  surface.forEach(region, (i, x, y) => {
    const j = map(x, y);
    if (j < 0) return;
    const s = src.words[j];
    if ((s & 0xffffff) !== key) surface.words[i] = s;
  });
}

/** Pixman's rounding 8-bit multiply: a·b/255. */
function mul8(a: number, b: number): number {
  const t = a * b + 0x80;
  return ((t >> 8) + t) >> 8;
}

/**
 * Premultiplied OVER with a constant alpha (DRAW_ALPHA_BLEND): dest = src·α + dest·(1 − srcA·α).
 * A source without alpha counts as opaque.
 */
export function blendOver(
  surface: Surface,
  region: Region,
  options: { src: PixelSource; map: SourceMap; alpha: number; srcHasAlpha: boolean },
): void {
  const { src, map, alpha, srcHasAlpha } = options;
  const words = surface.words;
  surface.forEach(region, (i, x, y) => {
    const j = map(x, y);
    if (j < 0) return;
    const s = src.words[j];
    const sa = mul8(srcHasAlpha ? s >>> 24 : 0xff, alpha);
    const d = words[i];
    let out = 0;
    for (let shift = 0; shift < 32; shift += 8) {
      const sc = shift === 24 ? sa : mul8((s >>> shift) & 0xff, alpha);
      const dc = (d >>> shift) & 0xff;
      out |= Math.min(0xff, sc + mul8(dc, 0xff - sa)) << shift;
    }
    words[i] = out >>> 0;
  });
}

/**
 * Narrows a region to the set (or, with `invert`, clear) pixels of a 1-bit mask image placed so
 * that mask pixel (pos.x, pos.y) lies on the box's top-left corner. Pixels outside the mask are
 * dropped. A mask pixel is "set" when its RGB is non-zero.
 */
export function maskRegion(
  region: Region,
  options: { mask: PixelSource; box: Rect; pos: Point; invert: boolean },
): Region {
  if (regionIsEmpty(region)) return region;
  const { mask, box, pos, invert } = options;
  const { bounds } = region;
  const w = bounds.right - bounds.left;
  const cover = region.cover
    ? region.cover.slice()
    : new Uint8Array(w * (bounds.bottom - bounds.top)).fill(1);
  for (let y = bounds.top; y < bounds.bottom; y++) {
    for (let x = bounds.left; x < bounds.right; x++) {
      const k = (y - bounds.top) * w + (x - bounds.left);
      if (!cover[k]) continue;
      const mx = x - box.left + pos.x;
      const my = y - box.top + pos.y;
      const inside = mx >= 0 && my >= 0 && mx < mask.width && my < mask.height;
      const set = inside && (mask.words[my * mask.width + mx] & 0xffffff) !== 0;
      cover[k] = inside && set !== invert ? 1 : 0;
    }
  }
  return { bounds, cover };
}
