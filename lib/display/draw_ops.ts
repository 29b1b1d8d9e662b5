/**
 * Executing one DRAW_* (or COPY_BITS) on its surface: resolve every image first (so caches and
 * the GLZ dictionary see each one even when the draw is clipped away), build the region
 * (box ∩ clip ∩ mask), then apply the op. Anything not drawn leaves its region marked unknown.
 */
import {
  type ImageFailure,
  type ImageStore,
  isImageFailure,
  type PixelSource,
} from "./image_store.ts";
import {
  blendOver,
  blitRop,
  blitRop3,
  colorKey,
  fillRop,
  maskRegion,
  offsetMap,
  scaledMap,
  type SourceMap,
  tileMap,
} from "./raster.ts";
import { ropFromDescriptor, ROPS } from "./rop.ts";
import { type Region, regionIsEmpty, type Surface } from "./surface.ts";
import type { Brush, DrawBase, DrawOp, ImageRef, QMask, Rect } from "./types.ts";

/** What a draw needs from the model. */
export interface DrawContext {
  surface: Surface;
  images: ImageStore;
  /** Reports a problem of this draw (kind, text). */
  report(kind: string, message: string): void;
}

/** QMask flag: use the mask's clear pixels. */
const MASK_INVERS = 1;
/** Alpha-blend flag: the source's alpha byte is meaningful. */
const ALPHA_SRC_HAS_ALPHA = 2;

/** Images of a draw, resolved; `failed` lists what could not be. */
interface Resolved {
  src?: PixelSource;
  pattern?: PixelSource;
  mask?: PixelSource;
  failed: ImageFailure[];
}

function resolve(
  images: ImageStore,
  refs: { src?: ImageRef; brush?: Brush; mask?: QMask },
): Resolved {
  const out: Resolved = { failed: [] };
  const get = (ref: ImageRef | undefined): PixelSource | undefined => {
    if (!ref) return undefined;
    const r = images.resolve(ref);
    if (!isImageFailure(r)) return r;
    out.failed.push(r);
    return undefined;
  };
  out.src = get(refs.src);
  if (refs.brush?.type === "pattern") out.pattern = get(refs.brush.image);
  out.mask = get(refs.mask?.image);
  return out;
}

/** Source pixel per destination pixel; a scaled copy samples nearest-neighbour (both modes). */
function sourceMap(src: PixelSource, area: { srcArea: Rect; box: Rect }): SourceMap {
  const { srcArea, box } = area;
  const same = srcArea.right - srcArea.left === box.right - box.left &&
    srcArea.bottom - srcArea.top === box.bottom - box.top;
  if (same) return offsetMap(src, { x: box.left - srcArea.left, y: box.top - srcArea.top });
  return scaledMap(src, area);
}

/** Brush as a per-pixel colour; undefined when the pattern image is missing. */
function brushColor(
  brush: Brush,
  pattern?: PixelSource,
): ((x: number, y: number) => number) | undefined {
  if (brush.type === "solid") return () => brush.color >>> 0;
  if (brush.type === "none") return () => 0;
  if (!pattern) return undefined;
  const map = tileMap(pattern, brush.pos);
  return (x, y) => pattern.words[map(x, y)];
}

/** Paints the brush over the region with the ROP. */
function drawBrush(
  s: Surface,
  b: { region: Region; brush: Brush; pattern?: PixelSource; rop: number },
): void {
  const region = b.region;
  if (b.brush.type === "pattern" && b.pattern) {
    blitRop(s, region, {
      src: b.pattern,
      map: tileMap(b.pattern, b.brush.pos),
      rop: b.rop,
    });
  } else {
    fillRop(s, region, {
      color: b.brush.type === "solid" ? b.brush.color : 0,
      rop: b.rop,
    });
  }
}

/** The images and mask a draw op refers to. */
function refsOf(op: DrawOp): { src?: ImageRef; brush?: Brush; mask?: QMask } {
  if (op.kind === "composite") {
    return {
      src: op.src,
      mask: op.maskImage && { flags: 0, pos: op.maskOrigin, image: op.maskImage },
    };
  }
  return {
    src: "src" in op ? op.src : undefined,
    brush: "brush" in op ? op.brush : undefined,
    mask: "mask" in op ? op.mask : undefined,
  };
}

/**
 * Draws one op. Returns true when the region's pixels are now fully determined by known inputs
 * (the caller then marks them known), false when the op only combined with the destination.
 */
function apply(
  s: Surface,
  draw: { region: Region; base: DrawBase; op: DrawOp; r: Resolved },
): boolean {
  const { region, base, op, r } = draw;
  switch (op.kind) {
    case "fill": {
      const rop = ropFromDescriptor(op.ropd, { src: "brush", dest: "dest" });
      drawBrush(s, { region, brush: op.brush, pattern: r.pattern, rop });
      return rop === ROPS.COPY || rop === ROPS.CLEAR || rop === ROPS.SET;
    }
    case "copy":
    case "blend": {
      const rop = ropFromDescriptor(op.ropd, { src: "src", dest: "dest" });
      const map = sourceMap(r.src!, { srcArea: op.srcArea, box: base.box });
      blitRop(s, region, { src: r.src!, map, rop });
      return rop === ROPS.COPY || rop === ROPS.COPY_INVERTED;
    }
    case "opaque": {
      const map = sourceMap(r.src!, { srcArea: op.srcArea, box: base.box });
      blitRop(s, region, { src: r.src!, map, rop: ROPS.COPY });
      const rop = ropFromDescriptor(op.ropd, { src: "brush", dest: "src" });
      drawBrush(s, { region, brush: op.brush, pattern: r.pattern, rop });
      return true;
    }
    case "blackness":
    case "whiteness":
      fillRop(s, region, { color: op.kind === "blackness" ? 0 : 0xffffffff, rop: ROPS.COPY });
      return true;
    case "invers":
      fillRop(s, region, { color: 0, rop: ROPS.INVERT });
      return false;
    case "rop3": {
      const map = sourceMap(r.src!, { srcArea: op.srcArea, box: base.box });
      blitRop3(s, region, {
        src: r.src!,
        map,
        brush: brushColor(op.brush, r.pattern)!,
        rop3: op.rop3,
      });
      return false;
    }
    case "transparent": {
      const map = sourceMap(r.src!, { srcArea: op.srcArea, box: base.box });
      colorKey(s, region, { src: r.src!, map, key: op.trueColor });
      return false;
    }
    case "alphaBlend": {
      const map = sourceMap(r.src!, { srcArea: op.srcArea, box: base.box });
      const srcHasAlpha = (op.alphaFlags & ALPHA_SRC_HAS_ALPHA) !== 0 || r.src!.hasAlpha;
      blendOver(s, region, { src: r.src!, map, alpha: op.alpha, srcHasAlpha });
      return false;
    }
    case "copyBits": {
      const offset = { x: base.box.left - op.srcPos.x, y: base.box.top - op.srcPos.y };
      copyBits(s, { region, offset });
      return false;
    }
    case "composite":
      return composite(s, { region, op, src: r.src!, box: base.box });
    case "unparsed":
      throw new Error(`unreachable: ${op.kind} is reported before apply`);
  }
}

/** COPY_BITS: the surface copied onto itself, its known pixels moved along with it. */
function copyBits(s: Surface, move: { region: Region; offset: { x: number; y: number } }): void {
  const { region, offset } = move;
  const src = {
    width: s.width,
    height: s.height,
    words: s.words.slice(),
    hasAlpha: s.hasAlpha,
    lossy: false,
  };
  const known = s.known.slice();
  const map = offsetMap(src, offset);
  blitRop(s, region, { src, map, rop: ROPS.COPY });
  s.forEach(region, (i, x, y) => {
    const j = map(x, y);
    s.known[i] = j < 0 ? s.known[i] : known[j];
  });
}

/**
 * DRAW_COMPOSITE with the SRC or OVER operator (`notRendered` refuses the others).
 *
 * @returns true for SRC, whose pixels are then fully determined by the source
 */
function composite(
  s: Surface,
  draw: {
    region: Region;
    op: Extract<DrawOp, { kind: "composite" }>;
    src: PixelSource;
    box: Rect;
  },
): boolean {
  const { region, op, src, box } = draw;
  const map = offsetMap(src, { x: box.left - op.srcOrigin.x, y: box.top - op.srcOrigin.y });
  if ((op.flags & COMPOSITE.OP_MASK) === COMPOSITE.OP_SRC) {
    blitRop(s, region, { src, map, rop: ROPS.COPY });
    return true;
  }
  const srcHasAlpha = src.hasAlpha && !(op.flags & COMPOSITE.SOURCE_OPAQUE);
  blendOver(s, region, { src, map, alpha: 0xff, srcHasAlpha });
  return false;
}

/** DRAW_COMPOSITE flag bits: a pixman operator in the low byte, then options. */
const COMPOSITE = {
  OP_MASK: 0xff,
  OP_SRC: 1,
  OP_OVER: 3,
  /** SRC_REPEAT0..1 and MASK_REPEAT0..1. */
  REPEAT: 0xf << 14,
  /** HAS_MASK, HAS_SRC_TRANSFORM, HAS_MASK_TRANSFORM. */
  MASK_OR_TRANSFORM: 0x7 << 19,
  SOURCE_OPAQUE: 1 << 22,
} as const;

/** Why a draw cannot be rendered here, or undefined when it can. */
function notRendered(op: DrawOp): string | undefined {
  if (op.kind === "unparsed") return "DRAW_STROKE and DRAW_TEXT are not rendered";
  if (op.kind !== "composite") return undefined;
  const operator = op.flags & COMPOSITE.OP_MASK;
  if (operator !== COMPOSITE.OP_SRC && operator !== COMPOSITE.OP_OVER) {
    return `composite operator ${operator} is not rendered (only SRC and OVER)`;
  }
  if (op.flags & COMPOSITE.MASK_OR_TRANSFORM) {
    return "composite masks and transforms are not rendered";
  }
  if (op.flags & COMPOSITE.REPEAT) return "composite repeat modes are not rendered";
  return undefined;
}
/** Ops that need a source image. */
const NEEDS_SRC: ReadonlySet<string> = new Set([
  "copy",
  "blend",
  "opaque",
  "rop3",
  "transparent",
  "alphaBlend",
  "composite",
]);

/**
 * Runs one draw on `ctx.surface`, marking pixels unknown where it cannot.
 *
 * @param ctx surface, image store and problem sink
 * @param draw the parsed DisplayBase and op
 */
export function runDraw(ctx: DrawContext, draw: { base: DrawBase; op: DrawOp }): void {
  const { base, op } = draw;
  const r = resolve(ctx.images, refsOf(op));
  let region = ctx.surface.region(base.box, base.clip);
  const fail = (kind: string, message: string) => {
    ctx.report(kind, message);
    ctx.surface.markKnown(region, false);
  };
  for (const f of r.failed) ctx.report(f.kind, f.message);
  const unsupported = notRendered(op);
  if (unsupported) return fail("unimplemented", unsupported);
  if (r.failed.length > 0) return ctx.surface.markKnown(region, false);
  if (NEEDS_SRC.has(op.kind) && !r.src) {
    return fail("missing-image", "the draw has no source image");
  }
  if ("brush" in op && op.brush.type === "pattern" && !op.brush.image) {
    return fail("missing-image", "the pattern brush has no image");
  }
  const mask = "mask" in op ? op.mask : undefined;
  if (mask && r.mask) {
    const invert = (mask.flags & MASK_INVERS) !== 0;
    region = maskRegion(region, { mask: r.mask, box: base.box, pos: mask.pos, invert });
  }
  if (regionIsEmpty(region)) return;
  if (!apply(ctx.surface, { region, base, op, r })) return;
  const known = r.src?.known;
  if (!known || !("srcArea" in op)) return ctx.surface.markKnown(region, true);
  // a copy from another surface carries that surface's unknown pixels along
  const map = sourceMap(r.src!, { srcArea: op.srcArea, box: base.box });
  ctx.surface.forEach(region, (i, x, y) => {
    const j = map(x, y);
    ctx.surface.known[i] = j < 0 ? 1 : known[j];
  });
}
