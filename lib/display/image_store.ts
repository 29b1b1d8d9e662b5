/**
 * Turning image references into pixels: decoding through a {@link CodecSet}, the pixmap cache
 * (CACHE_ME / FROM_CACHE / INVAL_LIST / INVAL_ALL_PIXMAPS), the palette cache and the channel's
 * GLZ dictionary.
 */
import type { CodecSet, GlzDictionaryHandle } from "./codec_set.ts";
import {
  BITMAP_FLAGS,
  type DecodedImage,
  IMAGE_TYPES,
  ImageDecodeError,
  type Palette,
} from "./image.ts";
import { IMAGE_FLAGS, imageTypeName } from "./image_ref.ts";
import type { Surface } from "./surface.ts";
import type { ImageRef } from "./types.ts";

/** Pixels to draw from: one 0xAARRGGBB word per pixel, row-major, stride = width. */
export interface PixelSource {
  width: number;
  height: number;
  words: Uint32Array;
  /** Whether the alpha byte means something. */
  hasAlpha: boolean;
  /** Decoded from a lossy codec (JPEG). */
  lossy: boolean;
  /** For a surface source: its known mask (1 per pixel); absent = every pixel known. */
  known?: Uint8Array;
}

/** Why an image could not be turned into pixels. */
export interface ImageFailure {
  /** "cache-miss", "decode", "unimplemented" or "no-surface". */
  kind: string;
  /** What happened, naming the image id and type. */
  message: string;
}

/** GLZ window used when the recording has no DISPLAY_INIT (spice-gtk's usual value, pixels). */
export const DEFAULT_GLZ_WINDOW = 6_290_432;

function wordsOf(image: DecodedImage): Uint32Array {
  const { pixels, width, height } = image;
  if (pixels.byteOffset % 4 === 0) {
    return new Uint32Array(pixels.buffer, pixels.byteOffset, width * height);
  }
  return new Uint32Array(pixels.slice(0, width * height * 4).buffer);
}

/** A decoded image as a pixel source. */
export function sourceOf(image: DecodedImage, lossy = false): PixelSource {
  return {
    width: image.width,
    height: image.height,
    words: wordsOf(image),
    hasAlpha: image.hasAlpha,
    lossy,
  };
}

/** Options of {@link ImageStore}. */
export interface ImageStoreOptions {
  /** The decoders. */
  codecs: CodecSet;
  /** Looks up a surface for SURFACE images. */
  surface: (id: number) => Surface | undefined;
}

/** The per-channel image state: pixmap cache, palette cache, GLZ dictionary. */
export class ImageStore {
  readonly #codecs: CodecSet;
  readonly #surface: (id: number) => Surface | undefined;
  readonly #pixmaps = new Map<bigint, PixelSource>();
  readonly #palettes = new Map<bigint, Palette>();
  #glz: GlzDictionaryHandle | undefined;
  #glzWindow = DEFAULT_GLZ_WINDOW;

  constructor(options: ImageStoreOptions) {
    this.#codecs = options.codecs;
    this.#surface = options.surface;
  }

  /** Number of cached pixmaps. */
  get pixmapCount(): number {
    return this.#pixmaps.size;
  }

  /** DISPLAY_INIT: sets the GLZ window and starts a fresh dictionary. */
  setGlzWindow(pixels: number): void {
    this.#glzWindow = pixels > 0 ? pixels : DEFAULT_GLZ_WINDOW;
    this.#glz = undefined;
  }

  /** INVAL_LIST entry: drops one cached pixmap. */
  invalidatePixmap(id: bigint): void {
    this.#pixmaps.delete(id);
  }

  /** INVAL_ALL_PIXMAPS: drops every cached pixmap. */
  invalidateAllPixmaps(): void {
    this.#pixmaps.clear();
  }

  /** INVAL_PALETTE. */
  invalidatePalette(id: bigint): void {
    this.#palettes.delete(id);
  }

  /** INVAL_ALL_PALETTES (and RESET). */
  invalidateAllPalettes(): void {
    this.#palettes.clear();
  }

  #glzDictionary(): GlzDictionaryHandle {
    this.#glz ??= this.#codecs.createGlzDictionary(this.#glzWindow);
    return this.#glz;
  }

  #palette(flags: number, choice: { paletteId?: bigint; palette?: Palette }): Palette | undefined {
    if (flags & BITMAP_FLAGS.PAL_FROM_CACHE) {
      const p = this.#palettes.get(choice.paletteId ?? -1n);
      if (!p) throw new CacheMiss(`palette ${choice.paletteId} is not in the palette cache`);
      return p;
    }
    if (choice.palette && flags & BITMAP_FLAGS.PAL_CACHE_ME) {
      this.#palettes.set(choice.palette.id, choice.palette);
    }
    return choice.palette;
  }

  #decode(ref: ImageRef): PixelSource {
    const c = this.#codecs;
    const d = ref.data;
    switch (d.kind) {
      case "bitmap":
        return sourceOf(c.decodeBitmap({ ...d, palette: this.#palette(d.flags, d) }));
      case "lzPlt":
        return sourceOf(c.decodeLz(d.data, { palette: this.#palette(d.flags, d) }));
      case "zlibGlz":
        return sourceOf(
          c.decodeZlibGlz(d.data, { glzSize: d.glzDataSize, dictionary: this.#glzDictionary() }),
        );
      case "jpegAlpha":
        return sourceOf(c.decodeJpegAlpha(d.data, d), true);
      case "binary":
        return this.#decodeBinary(ref, d.data);
      case "surface": {
        const s = this.#surface(d.surfaceId);
        if (!s) throw new CacheMiss(`surface ${d.surfaceId} does not exist`, "no-surface");
        const words = s.words.slice();
        const known = s.known.slice();
        return {
          width: s.width,
          height: s.height,
          words,
          hasAlpha: s.hasAlpha,
          lossy: false,
          known,
        };
      }
      case "cache": {
        const hit = this.#pixmaps.get(ref.id);
        if (!hit) throw new CacheMiss(`image ${ref.id} is not in the pixmap cache`);
        return hit;
      }
      case "unknown":
        throw new CacheMiss(`image type ${ref.type} is not known`, "unimplemented");
    }
  }

  #decodeBinary(ref: ImageRef, data: Uint8Array): PixelSource {
    const c = this.#codecs;
    const type = ref.type;
    switch (type) {
      case IMAGE_TYPES.QUIC:
        return sourceOf(c.decodeQuic(data));
      case IMAGE_TYPES.LZ_RGB:
        return sourceOf(c.decodeLz(data, {}));
      case IMAGE_TYPES.GLZ_RGB:
        return sourceOf(c.decodeGlz(data, this.#glzDictionary()));
      case IMAGE_TYPES.LZ4:
        return sourceOf(c.decodeLz4(data, ref));
      case IMAGE_TYPES.JPEG:
        return sourceOf(c.decodeJpeg(data), true);
    }
    throw new CacheMiss(`image type ${imageTypeName(type)} has no decoder`, "unimplemented");
  }

  /**
   * Decodes (or fetches) an image and caches it when its flags ask to. Never throws for bad
   * image data: the failure comes back for the caller to report.
   *
   * @param ref the image reference from a draw
   * @returns the pixels, or what went wrong
   */
  resolve(ref: ImageRef): PixelSource | ImageFailure {
    let source: PixelSource;
    try {
      source = this.#decode(ref);
    } catch (e) {
      const what = `image ${ref.id} (${imageTypeName(ref.type)} ${ref.width}x${ref.height})`;
      if (e instanceof CacheMiss) return { kind: e.kind, message: `${what}: ${e.message}` };
      if (e instanceof ImageDecodeError) {
        return { kind: "decode", message: `${what}: ${e.message}` };
      }
      throw e;
    }
    if (ref.flags & (IMAGE_FLAGS.CACHE_ME | IMAGE_FLAGS.CACHE_REPLACE_ME)) {
      this.#pixmaps.set(ref.id, source);
    }
    return source;
  }
}

/** An image the caches or surfaces cannot supply (internal). */
class CacheMiss extends Error {
  readonly kind: string;
  constructor(message: string, kind = "cache-miss") {
    super(message);
    this.kind = kind;
  }
}

/** Whether a resolve result is a failure. */
export function isImageFailure(r: PixelSource | ImageFailure): r is ImageFailure {
  return "kind" in r;
}
