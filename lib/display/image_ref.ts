/**
 * Reading SpiceImage descriptors and, per image type, where the image's data lies in the message
 * body (layouts in docs/protocol.md, "Display channel: drawing").
 */
import { BITMAP_FLAGS, IMAGE_TYPES, type Palette } from "./image.ts";
import type { BodyCursor } from "./_reader.ts";
import type { ImageData, ImageRef } from "./types.ts";

/** Bytes of an image descriptor: u64 id, u8 type, u8 flags, u32 width, u32 height. */
export const IMAGE_DESCRIPTOR_BYTES = 18;

/** Image descriptor flag bits (`SpiceImageFlags`). */
export const IMAGE_FLAGS = { CACHE_ME: 1, HIGH_BITS_SET: 2, CACHE_REPLACE_ME: 4 } as const;

/** Largest palette a bitmap may carry (8-bit indices). */
const MAX_PALETTE_ENTRIES = 256;

/** Reads a Palette (u64 unique, u16 count, u32 entries) at a pointer. */
function readPalette(c: BodyCursor, field: string): Palette | undefined {
  const at = c.u32(`${field}.palette`);
  if (at === 0) return undefined;
  const p = c.at(at, `${field}.palette`);
  const id = p.u64(`${field}.palette.unique`);
  const count = p.u16(`${field}.palette.num_ents`);
  if (count > MAX_PALETTE_ENTRIES) {
    p.fail(`${field}.palette.num_ents`, `expected at most ${MAX_PALETTE_ENTRIES}, found ${count}`);
  }
  const colors = new Uint32Array(count);
  for (let i = 0; i < count; i++) colors[i] = p.u32(`${field}.palette.ents[${i}]`);
  return { id, colors };
}

/** Palette id (PAL_FROM_CACHE) or an inline palette pointer, as both BITMAP and LZ_PLT carry. */
function readPaletteChoice(
  c: BodyCursor,
  { flags, field }: { flags: number; field: string },
): { paletteId?: bigint; palette?: Palette } {
  if (flags & BITMAP_FLAGS.PAL_FROM_CACHE) return { paletteId: c.u64(`${field}.palette_id`) };
  return { palette: readPalette(c, field) };
}

function binary(c: BodyCursor, field: string): ImageData {
  const size = c.u32(`${field}.data_size`);
  return { kind: "binary", data: c.bytes(size, `${field}.data`) };
}

type DataReader = (c: BodyCursor, field: string) => ImageData;

/** Per image type: how its data follows the descriptor. */
const IMAGE_DATA_READERS: ReadonlyMap<number, DataReader> = new Map<number, DataReader>([
  [IMAGE_TYPES.BITMAP, (c, f) => {
    const format = c.u8(`${f}.bitmap.format`);
    const flags = c.u8(`${f}.bitmap.flags`);
    const width = c.u32(`${f}.bitmap.x`);
    const height = c.u32(`${f}.bitmap.y`);
    const stride = c.u32(`${f}.bitmap.stride`);
    const pal = readPaletteChoice(c, { flags, field: `${f}.bitmap` });
    const data = c.bytes(stride * height, `${f}.bitmap.data`);
    return { kind: "bitmap", format, flags, width, height, stride, ...pal, data };
  }],
  [IMAGE_TYPES.QUIC, binary],
  [IMAGE_TYPES.LZ_RGB, binary],
  [IMAGE_TYPES.GLZ_RGB, binary],
  [IMAGE_TYPES.JPEG, binary],
  [IMAGE_TYPES.LZ4, binary],
  [IMAGE_TYPES.LZ_PLT, (c, f) => {
    const flags = c.u8(`${f}.lz_plt.flags`);
    const size = c.u32(`${f}.lz_plt.data_size`);
    const pal = readPaletteChoice(c, { flags, field: `${f}.lz_plt` });
    return { kind: "lzPlt", flags, ...pal, data: c.bytes(size, `${f}.lz_plt.data`) };
  }],
  [IMAGE_TYPES.ZLIB_GLZ_RGB, (c, f) => {
    const glzDataSize = c.u32(`${f}.zlib_glz.glz_data_size`);
    const size = c.u32(`${f}.zlib_glz.data_size`);
    return { kind: "zlibGlz", glzDataSize, data: c.bytes(size, `${f}.zlib_glz.data`) };
  }],
  [IMAGE_TYPES.JPEG_ALPHA, (c, f) => {
    const flags = c.u8(`${f}.jpeg_alpha.flags`);
    const jpegSize = c.u32(`${f}.jpeg_alpha.jpeg_size`);
    const size = c.u32(`${f}.jpeg_alpha.data_size`);
    if (jpegSize > size) {
      c.fail(`${f}.jpeg_alpha.jpeg_size`, `${jpegSize} exceeds data_size ${size}`, c.pos - 8);
    }
    return { kind: "jpegAlpha", flags, jpegSize, data: c.bytes(size, `${f}.jpeg_alpha.data`) };
  }],
  [IMAGE_TYPES.SURFACE, (c, f) => ({ kind: "surface", surfaceId: c.u32(`${f}.surface_id`) })],
  [IMAGE_TYPES.FROM_CACHE, () => ({ kind: "cache" })],
  [IMAGE_TYPES.FROM_CACHE_LOSSLESS, () => ({ kind: "cache" })],
]);

/**
 * Reads an `Image *` field: a u32 offset from the body start (0 = no image), then the
 * descriptor and its data there.
 *
 * @param c cursor at the pointer
 * @param field field name for errors
 * @returns the image, or undefined for a null pointer
 * @throws {DisplayParseError} for a pointer or size past the body end
 */
export function readImagePointer(c: BodyCursor, field: string): ImageRef | undefined {
  const offset = c.u32(field);
  if (offset === 0) return undefined;
  const d = c.at(offset, field);
  const id = d.u64(`${field}.descriptor.id`);
  const type = d.u8(`${field}.descriptor.type`);
  const flags = d.u8(`${field}.descriptor.flags`);
  const width = d.u32(`${field}.descriptor.width`);
  const height = d.u32(`${field}.descriptor.height`);
  const reader = IMAGE_DATA_READERS.get(type);
  const data: ImageData = reader ? reader(d, field) : { kind: "unknown" };
  return { offset, id, type, flags, width, height, data };
}

/** Image type name from IMAGE_TYPES, or `unknown(n)`. */
export function imageTypeName(type: number): string {
  for (const [name, n] of Object.entries(IMAGE_TYPES)) if (n === type) return name;
  return `unknown(${type})`;
}
