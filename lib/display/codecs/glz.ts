/**
 * SPICE GLZ images (`GLZ_RGB`, `ZLIB_GLZ_RGB`): LZ with back-references into earlier images of a
 * dictionary shared by the display channels, images named by a 64-bit id.
 *
 * @module
 */
import { inflateSync } from "node:zlib";
import {
  checkImageSize,
  type DecodedImage,
  GlzMissingImageError,
  ImageDecodeError,
} from "../image.ts";
import { finishImage } from "./_pixels.ts";
import {
  ALPHA_KIND,
  ByteCursor,
  copyMatch,
  type LiteralKind,
  LZ_MAGIC,
  LZ_TYPES,
  LZ_VERSION,
  rgbKind,
} from "./_lz_common.ts";

const CODEC = "glz";
const MAX_COPY = 32;

/** One decoded image held by the dictionary, its pixels in stream row order. */
export interface GlzEntry {
  /** The image id from its GLZ header. */
  id: bigint;
  /** How far back (in ids) the server's window reached when it sent this image. */
  winHeadDist: number;
  /** Pixels as u32 words; null when the image failed to decode (references to it are missing). */
  px: Uint32Array | null;
}

/**
 * The client side of the GLZ dictionary: earlier images by id. After each image it keeps, as
 * spice-gtk does, the images from `id - winHeadDist` of the newest image with no gap before it,
 * and it never holds more than `windowSize` pixels besides the newest image.
 */
export class GlzDictionary {
  readonly #windowSize: number;
  readonly #images = new Map<bigint, GlzEntry>();
  #tailGap = 0n;

  /**
   * Makes an empty dictionary.
   *
   * @param options `windowSize`: the window in pixels (the display init's
   *   glz_dictionary_window_size)
   */
  constructor(options: { windowSize: number }) {
    if (!(options.windowSize > 0)) {
      throw new RangeError("windowSize must be a positive pixel count");
    }
    this.#windowSize = options.windowSize;
  }

  /** The ids held, oldest first. */
  ids(): bigint[] {
    return [...this.#images.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The pixels of image `id`, or undefined when it is not (or no longer, or never validly) held. */
  pixels(id: bigint): Uint32Array | undefined {
    return this.#images.get(id)?.px ?? undefined;
  }

  /** Drops every image, as on a display channel reset. */
  clear(): void {
    this.#images.clear();
    this.#tailGap = 0n;
  }

  /** Adds a decoded (or failed, `px` null) image, then evicts. */
  add(entry: GlzEntry): void {
    this.#images.set(entry.id, entry);
    while (this.#tailGap <= entry.id && this.#images.has(this.#tailGap)) this.#tailGap++;
    const tail = this.#images.get(this.#tailGap - 1n);
    if (tail) {
      const oldest = tail.id - BigInt(tail.winHeadDist);
      for (const id of this.#images.keys()) if (id < oldest) this.#images.delete(id);
    }
    this.#evictBeyondWindow(entry.id);
  }

  #evictBeyondWindow(newest: bigint): void {
    let held = 0;
    for (const e of this.#images.values()) if (e.id !== newest) held += e.px?.length ?? 0;
    for (const id of this.ids()) {
      if (held <= this.#windowSize) break;
      if (id === newest) continue;
      held -= this.#images.get(id)!.px?.length ?? 0;
      this.#images.delete(id);
    }
  }
}

/** The fields of a GLZ header. */
interface GlzHeader {
  type: number;
  topDown: boolean;
  width: number;
  height: number;
  id: bigint;
  winHeadDist: number;
}

function readGlzHeader(cur: ByteCursor): GlzHeader {
  const magic = cur.u32();
  if (magic !== LZ_MAGIC) throw cur.error(`GLZ magic "  ZL", found 0x${magic.toString(16)}`, 0);
  const version = cur.u32();
  if (version !== LZ_VERSION) {
    throw cur.error(`GLZ version 1.1, found 0x${version.toString(16)}`, 4);
  }
  const tmp = cur.u8();
  const type = tmp & 0x0f;
  if (type < LZ_TYPES.RGB16 || type > LZ_TYPES.RGBA) {
    throw cur.error(`a GLZ RGB type (RGB16, RGB24, RGB32, RGBA), found ${type}`, 8);
  }
  const width = cur.u32(), height = cur.u32(), stride = cur.u32();
  checkImageSize(CODEC, { width, height, offset: 9 });
  const bpp = type === LZ_TYPES.RGB16 ? 2 : type === LZ_TYPES.RGB24 ? 3 : 4;
  if (stride !== width * bpp) throw cur.error(`stride ${width * bpp}, found ${stride}`, 17);
  const id = (BigInt(cur.u32()) << 32n) | BigInt(cur.u32());
  const winHeadDist = cur.u32();
  return { type, topDown: tmp >> 4 !== 0, width, height, id, winHeadDist };
}

/** Reads a match's coded length, offset and image distance after its control byte. */
function readReference(cur: ByteCursor, ctrl: number): { len: number; ofs: number; dist: number } {
  let len = ctrl >> 5;
  let pixelFlag = (ctrl >> 4) & 1;
  let ofs = ctrl & 0x0f;
  let code: number;
  if (len === 7) {
    do {
      code = cur.u8();
      len += code;
    } while (code === 255);
  }
  ofs += cur.u8() << 4;
  code = cur.u8();
  const imageFlag = (code >> 6) & 3;
  let dist = 0;
  if (!pixelFlag) {
    dist = code & 0x3f;
    for (let i = 0; i < imageFlag; i++) dist += cur.u8() * 2 ** (6 + 8 * i);
  } else {
    pixelFlag = (code >> 5) & 1;
    ofs += (code & 0x1f) << 12;
    for (let i = 0; i < imageFlag; i++) dist += cur.u8() * 2 ** (8 * i);
    if (pixelFlag) ofs += cur.u8() * 2 ** 17;
  }
  return { len, ofs, dist };
}

function glzDecompress(
  cur: ByteCursor,
  px: Uint32Array,
  ctx: { kind: LiteralKind; id: bigint; dictionary: GlzDictionary },
): void {
  const { kind, id, dictionary } = ctx;
  const limit = px.length;
  let op = 0;
  while (op < limit) {
    const at = cur.pos;
    const ctrl = cur.u8();
    if (ctrl >= MAX_COPY) {
      const r = readReference(cur, ctrl);
      const len = r.len + kind.lenBias - 1;
      if (op + len > limit) {
        throw cur.error(`a match of at most ${limit - op} pixels, found ${len}`, at);
      }
      if (r.dist === 0) {
        const ref = op - (r.ofs + 1);
        if (ref < 0) {
          throw cur.error(
            `a back-reference within the ${op} pixels decoded, found distance ${r.ofs + 1}`,
            at,
          );
        }
        copyMatch(px, { ref, op, len, alphaOnly: kind.alphaOnly });
      } else {
        const from = dictionary.pixels(id - BigInt(r.dist));
        if (!from) throw new GlzMissingImageError(id - BigInt(r.dist), { offset: at });
        if (r.ofs + len > from.length) {
          throw cur.error(
            `a match inside image ${
              id - BigInt(r.dist)
            } (${from.length} pixels), found ${r.ofs}+${len}`,
            at,
          );
        }
        copyMatch(px, { ref: r.ofs, op, len, alphaOnly: kind.alphaOnly, from });
      }
      op += len;
    } else {
      const count = ctrl + 1;
      if (op + count > limit) {
        throw cur.error(`a literal run of at most ${limit - op} pixels, found ${count}`, at);
      }
      cur.need(count * kind.bytes, `${count} literal pixels`);
      kind.copy(cur.src, cur.pos, px, op, count);
      cur.pos += count * kind.bytes;
      op += count;
    }
  }
}

/**
 * Decodes a GLZ image and adds it to the dictionary (a failed image is added as missing, so the
 * dictionary's bookkeeping stays in step with the server's).
 *
 * @param data the GLZ stream, starting at its magic
 * @param dictionary the dictionary shared by the session's display channels
 * @returns the pixels, top-down
 * @throws {GlzMissingImageError} on a reference to an image the dictionary does not hold
 * @throws {ImageDecodeError} on corrupt input
 */
export function decodeGlz(data: Uint8Array, dictionary: GlzDictionary): DecodedImage {
  const cur = new ByteCursor(CODEC, { src: data });
  const h = readGlzHeader(cur);
  const bytes = new Uint8Array(h.width * h.height * 4);
  const px = new Uint32Array(bytes.buffer);
  try {
    glzDecompress(cur, px, { kind: rgbKind(h.type), id: h.id, dictionary });
    if (h.type === LZ_TYPES.RGBA) {
      glzDecompress(cur, px, { kind: ALPHA_KIND, id: h.id, dictionary });
    }
  } catch (e) {
    dictionary.add({ id: h.id, winHeadDist: h.winHeadDist, px: null });
    throw e;
  }
  dictionary.add({ id: h.id, winHeadDist: h.winHeadDist, px });
  const hasAlpha = h.type === LZ_TYPES.RGBA;
  return finishImage(bytes.slice(), {
    width: h.width,
    height: h.height,
    topDown: h.topDown,
    hasAlpha,
  });
}

/**
 * Decodes a zlib-compressed GLZ image (`ZLIB_GLZ_RGB`).
 *
 * @param data the zlib stream
 * @param options `glzSize`: the inflated size the image descriptor declares; `dictionary`: as
 *   for `decodeGlz`
 * @throws {ImageDecodeError} when the stream does not inflate to `glzSize` bytes, or as
 *   `decodeGlz`
 */
export function decodeZlibGlz(
  data: Uint8Array,
  options: { glzSize: number; dictionary: GlzDictionary },
): DecodedImage {
  const { glzSize } = options;
  if (!Number.isInteger(glzSize) || glzSize < 33 || glzSize > 4 * 2 ** 25 + 64) {
    throw new ImageDecodeError("zlib-glz", {
      offset: 0,
      expected: `a GLZ size in 33..${4 * 2 ** 25 + 64}, found ${glzSize}`,
    });
  }
  let glz: Uint8Array;
  try {
    glz = inflateSync(data, { maxOutputLength: glzSize });
  } catch (e) {
    throw new ImageDecodeError("zlib-glz", {
      offset: 0,
      expected: `a zlib stream of ${glzSize} bytes (${(e as Error).message})`,
    });
  }
  if (glz.length !== glzSize) {
    throw new ImageDecodeError("zlib-glz", {
      offset: data.length,
      expected: `${glzSize} inflated bytes, found ${glz.length}`,
    });
  }
  return decodeGlz(glz, options.dictionary);
}
