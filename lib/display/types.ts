/** Parsed display channel message shapes (docs/protocol.md, "Display channel: drawing"). */
import type { Palette } from "./image.ts";

/** A rectangle, SPICE order: top, left, bottom (exclusive), right (exclusive). */
export interface Rect {
  /** First row. */
  top: number;
  /** First column. */
  left: number;
  /** Row after the last. */
  bottom: number;
  /** Column after the last. */
  right: number;
}

/** A point (i32 or i16 on the wire). */
export interface Point {
  /** Column. */
  x: number;
  /** Row. */
  y: number;
}

/** Where an image's data is, per descriptor type. Byte views point into the message body. */
export type ImageData =
  | {
    kind: "bitmap";
    format: number;
    flags: number;
    width: number;
    height: number;
    stride: number;
    /** Set with PAL_FROM_CACHE. */
    paletteId?: bigint;
    /** Inline palette (pointer ≠ 0, no PAL_FROM_CACHE). */
    palette?: Palette;
    data: Uint8Array;
  }
  /** QUIC, LZ_RGB, GLZ_RGB, JPEG, LZ4: u32 size, data. */
  | { kind: "binary"; data: Uint8Array }
  | { kind: "lzPlt"; flags: number; paletteId?: bigint; palette?: Palette; data: Uint8Array }
  | { kind: "zlibGlz"; glzDataSize: number; data: Uint8Array }
  | { kind: "jpegAlpha"; flags: number; jpegSize: number; data: Uint8Array }
  | { kind: "surface"; surfaceId: number }
  /** FROM_CACHE and FROM_CACHE_LOSSLESS: the descriptor id names the cached image. */
  | { kind: "cache" }
  /** A descriptor type this reader does not know. */
  | { kind: "unknown" };

/** A SpiceImage: descriptor plus its data. */
export interface ImageRef {
  /** Body offset of the descriptor. */
  offset: number;
  /** Descriptor id (cache key). */
  id: bigint;
  /** SPICE image type (IMAGE_TYPES). */
  type: number;
  /** Image flags: 1 CACHE_ME, 2 HIGH_BITS_SET, 4 CACHE_REPLACE_ME. */
  flags: number;
  /** Width from the descriptor. */
  width: number;
  /** Height from the descriptor. */
  height: number;
  /** Where the data is. */
  data: ImageData;
}

/** Brush: none, a solid xRGB colour, or a tiled pattern image. */
export type Brush =
  | { type: "none" }
  | { type: "solid"; color: number }
  | { type: "pattern"; image?: ImageRef; pos: Point };

/** QMask: 1-bit mask image placed at `pos` (relative to the box), optionally inverted. */
export interface QMask {
  /** 1 = INVERS: use the mask's clear pixels. */
  flags: number;
  /** Mask pixel that lies on the box's top-left corner. */
  pos: Point;
  /** The 1-bit mask image; absent = no mask. */
  image?: ImageRef;
}

/** DisplayBase: target surface, bounding box, clip rects (undefined = no clip). */
export interface DrawBase {
  /** Surface drawn on. */
  surfaceId: number;
  /** Bounding box. */
  box: Rect;
  /** Clip rects; absent = clip to the box only. */
  clip?: Rect[];
}

/** The drawing part of a DRAW_* message (after DisplayBase). */
export type DrawOp =
  | { kind: "fill"; brush: Brush; ropd: number; mask: QMask }
  | {
    kind: "opaque";
    src?: ImageRef;
    srcArea: Rect;
    brush: Brush;
    ropd: number;
    scaleMode: number;
    mask: QMask;
  }
  | {
    kind: "copy" | "blend";
    src?: ImageRef;
    srcArea: Rect;
    ropd: number;
    scaleMode: number;
    mask: QMask;
  }
  | { kind: "blackness" | "whiteness" | "invers"; mask: QMask }
  | {
    kind: "rop3";
    src?: ImageRef;
    srcArea: Rect;
    brush: Brush;
    rop3: number;
    scaleMode: number;
    mask: QMask;
  }
  | { kind: "transparent"; src?: ImageRef; srcArea: Rect; srcColor: number; trueColor: number }
  | { kind: "alphaBlend"; alphaFlags: number; alpha: number; src?: ImageRef; srcArea: Rect }
  | {
    kind: "composite";
    flags: number;
    src?: ImageRef;
    maskImage?: ImageRef;
    srcOrigin: Point;
    maskOrigin: Point;
  }
  | { kind: "copyBits"; srcPos: Point }
  /** DRAW_STROKE, DRAW_TEXT: read only as far as the base; drawn as unknown. */
  | { kind: "unparsed" };

/** One display message, parsed. */
export type DisplayCommand =
  | { kind: "mode"; width: number; height: number; bits: number }
  | { kind: "mark" }
  | { kind: "reset" }
  | { kind: "invalList"; resources: { type: number; id: bigint }[] }
  | { kind: "invalAllPixmaps" }
  | { kind: "invalPalette"; id: bigint }
  | { kind: "invalAllPalettes" }
  | {
    kind: "surfaceCreate";
    surfaceId: number;
    width: number;
    height: number;
    format: number;
    flags: number;
  }
  | { kind: "surfaceDestroy"; surfaceId: number }
  | { kind: "draw"; base: DrawBase; op: DrawOp }
  | {
    kind: "streamCreate";
    surfaceId: number;
    id: number;
    flags: number;
    codec: number;
    width: number;
    height: number;
    srcWidth: number;
    srcHeight: number;
    dest: Rect;
    clip?: Rect[];
  }
  | {
    kind: "streamData";
    id: number;
    /** STREAM_DATA_SIZED only. */
    sized?: { width: number; height: number; dest: Rect };
    data: Uint8Array;
  }
  | { kind: "streamClip"; id: number; clip?: Rect[] }
  | { kind: "streamDestroy"; id: number }
  | { kind: "streamDestroyAll" }
  /** Client DISPLAY_INIT: cache and GLZ window sizes (pixels). */
  | { kind: "displayInit"; pixmapCacheSize: bigint; glzWindow: number }
  /** Messages that do not change pixels (SET_ACK, PING, MONITORS_CONFIG, …). */
  | { kind: "ignored" }
  /** Messages that change pixels but are not modelled (GL_SCANOUT, …). */
  | { kind: "unimplemented" };
