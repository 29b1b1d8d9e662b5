/**
 * LZ, GLZ and LZ4 encoders for tests: known pixels in, streams the decoders in
 * lib/display/codecs must decode back exactly. Greedy matching on the last occurrence of each
 * symbol, so runs, overlapping copies, long lengths and far distances all appear.
 *
 * @module
 */

/** One coded element: a literal run of symbols, or a match of `len` symbols. */
type Token = { lit: number[] } | {
  len: number;
  dist: number;
  image?: { dist: number; ofs: number };
};

/**
 * Greedy parse of `syms` into literals and back-references at least `minLen` long, at most
 * `maxDist` back. `prefer` may offer a cross-image match at position i.
 */
function parse(
  syms: ArrayLike<number>,
  opts: { minLen: number; maxDist: number; prefer?: (i: number) => Token | undefined },
): Token[] {
  const out: Token[] = [];
  const last = new Map<number, number>();
  let lit: number[] = [];
  const flush = () => {
    for (let k = 0; k < lit.length; k += 32) out.push({ lit: lit.slice(k, k + 32) });
    lit = [];
  };
  for (let i = 0; i < syms.length;) {
    const other = opts.prefer?.(i);
    if (other && "len" in other) {
      flush();
      out.push(other);
      i += other.len;
      continue;
    }
    const j = last.get(syms[i]);
    let len = 0;
    if (j !== undefined && i - j <= opts.maxDist) {
      while (i + len < syms.length && syms[j + len] === syms[i + len] && len < 3000) len++;
    }
    last.set(syms[i], i);
    if (len >= opts.minLen) {
      flush();
      out.push({ len, dist: i - j! });
      for (let k = 1; k < len; k++) last.set(syms[i + k], i + k);
      i += len;
    } else lit.push(syms[i++]);
  }
  flush();
  return out;
}

function lengthBytes(rest: number, out: number[]): void {
  for (; rest >= 255; rest -= 255) out.push(255);
  out.push(rest);
}

/** LZ image types, as in the stream header. */
export const LZ_TYPE = {
  PLT1_LE: 1,
  PLT1_BE: 2,
  PLT4_LE: 3,
  PLT4_BE: 4,
  PLT8: 5,
  RGB16: 6,
  RGB24: 7,
  RGB32: 8,
  RGBA: 9,
  XXXA: 10,
  A8: 11,
} as const;

/** Encodes one LZ stream of symbols; `bias` is the type's match-length bias. */
export function lzBody(
  syms: ArrayLike<number>,
  opts: { bias: number; literal: (s: number, out: number[]) => void },
): number[] {
  const out: number[] = [];
  for (const t of parse(syms, { minLen: Math.max(opts.bias, 1), maxDist: 8191 + 65535 })) {
    if ("lit" in t) {
      out.push(t.lit.length - 1);
      for (const s of t.lit) opts.literal(s, out);
      continue;
    }
    const coded = t.len - opts.bias, d = t.dist - 1;
    const far = d >= 8191;
    out.push(((Math.min(coded, 6) + 1) << 5) | (far ? 31 : d >> 8));
    if (coded >= 6) lengthBytes(coded - 6, out);
    if (far) out.push(255, ((d - 8191) >> 8) & 255, (d - 8191) & 255);
    else out.push(d & 255);
  }
  return out;
}

function append(out: number[], more: number[]): void {
  for (const b of more) out.push(b);
}

function be32(v: number, out: number[]): void {
  out.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

/** RGB symbols of a BGRA buffer (B | G<<8 | R<<16). */
export function rgbSymbols(pixels: Uint8Array): number[] {
  const s: number[] = [];
  for (let i = 0; i < pixels.length; i += 4) {
    s.push(pixels[i] | (pixels[i + 1] << 8) | (pixels[i + 2] << 16));
  }
  return s;
}

/** The literal writer and length bias of each RGB type. */
export function rgbCoding(
  type: number,
): { bias: number; literal: (s: number, out: number[]) => void } {
  if (type === LZ_TYPE.RGB16) {
    return {
      bias: 2,
      literal: (s, out) => {
        const v = ((s >> 19 & 31) << 10) | ((s >> 11 & 31) << 5) | (s >> 3 & 31);
        out.push(v >> 8, v & 255);
      },
    };
  }
  return { bias: 1, literal: (s, out) => out.push(s & 255, (s >> 8) & 255, (s >> 16) & 255) };
}

/** Alpha bytes of a BGRA buffer. */
export function alphaSymbols(pixels: Uint8Array): number[] {
  const s: number[] = [];
  for (let i = 3; i < pixels.length; i += 4) s.push(pixels[i]);
  return s;
}

const byteLiteral = (s: number, out: number[]) => out.push(s);

/**
 * Encodes an LZ image. For RGB types `pixels` is BGRA in stream row order (the decoder flips it
 * when `topDown` is false); for PLT types `indices` holds the packed rows, `stride` bytes each.
 */
export function encodeLz(image: {
  type: number;
  width: number;
  height: number;
  topDown?: boolean;
  pixels?: Uint8Array;
  indices?: Uint8Array;
  stride?: number;
}): Uint8Array {
  const { type, width, height } = image;
  const out: number[] = [];
  const bpp: Record<number, number> = { 6: 2, 7: 3, 8: 4, 9: 4, 10: 4, 11: 1 };
  const stride = image.stride ?? width * bpp[type];
  for (const v of [0x20205a4c, 0x00010001, type, width, height, stride, image.topDown ? 1 : 0]) {
    be32(v, out);
  }
  if (type <= LZ_TYPE.PLT8) append(out, lzBody(image.indices!, { bias: 3, literal: byteLiteral }));
  else if (type === LZ_TYPE.A8 || type === LZ_TYPE.XXXA) {
    append(out, lzBody(alphaSymbols(image.pixels!), { bias: 3, literal: byteLiteral }));
  } else {
    append(out, lzBody(rgbSymbols(image.pixels!), rgbCoding(type)));
    if (type === LZ_TYPE.RGBA) {
      append(out, lzBody(alphaSymbols(image.pixels!), { bias: 3, literal: byteLiteral }));
    }
  }
  return new Uint8Array(out);
}

/** Earlier images a GLZ encoder may refer to: id → BGRA pixels in stream order. */
export type GlzHistory = Map<bigint, Uint8Array>;

function glzMatch(
  t: { len: number; dist: number; image?: { dist: number; ofs: number } },
  bias: number,
  out: number[],
): void {
  const coded = t.len - bias + 1;
  const dist = t.image?.dist ?? 0;
  const ofs = t.image ? t.image.ofs : t.dist - 1;
  const short = ofs < 4096 && dist < 64;
  out.push((Math.min(coded, 7) << 5) | (short ? 0 : 16) | (ofs & 15));
  if (coded >= 7) lengthBytes(coded - 7, out);
  out.push((ofs >> 4) & 255);
  if (short) return void out.push(dist);
  const distBytes = dist === 0 ? 0 : dist < 256 ? 1 : dist < 65536 ? 2 : 3;
  const veryLong = ofs >= 1 << 17;
  out.push((distBytes << 6) | (veryLong ? 32 : 0) | ((ofs >> 12) & 31));
  for (let i = 0; i < distBytes; i++) out.push((dist >> (8 * i)) & 255);
  if (veryLong) out.push((ofs >> 17) & 255);
}

function glzBody(
  syms: number[],
  opts: {
    bias: number;
    literal: (s: number, out: number[]) => void;
    prefer?: (i: number) => Token | undefined;
  },
): number[] {
  const out: number[] = [];
  for (
    const t of parse(syms, {
      minLen: Math.max(opts.bias, 1),
      maxDist: 1 << 25,
      prefer: opts.prefer,
    })
  ) {
    if ("lit" in t) {
      out.push(t.lit.length - 1);
      for (const s of t.lit) opts.literal(s, out);
    } else glzMatch(t, opts.bias, out);
  }
  return out;
}

/**
 * Encodes a GLZ image of an RGB type. `refs` lists cross-image copies to force: at pixel `at`,
 * copy `len` pixels of image `id - dist` from its pixel `ofs`.
 */
export function encodeGlz(image: {
  type: number;
  width: number;
  height: number;
  id: bigint;
  winHeadDist: number;
  topDown?: boolean;
  pixels: Uint8Array;
  refs?: { at: number; len: number; dist: number; ofs: number }[];
}): Uint8Array {
  const { type, width, height } = image;
  const out: number[] = [];
  be32(0x20205a4c, out);
  be32(0x00010001, out);
  out.push(type | (image.topDown ? 0x10 : 0));
  const bpp = type === LZ_TYPE.RGB16 ? 2 : type === LZ_TYPE.RGB24 ? 3 : 4;
  for (const v of [width, height, width * bpp]) be32(v, out);
  be32(Number(image.id >> 32n), out);
  be32(Number(image.id & 0xffffffffn), out);
  be32(image.winHeadDist, out);
  const prefer = (i: number): Token | undefined => {
    const r = image.refs?.find((r) => r.at === i);
    return r && { len: r.len, dist: 0, image: { dist: r.dist, ofs: r.ofs } };
  };
  append(out, glzBody(rgbSymbols(image.pixels), { ...rgbCoding(type), prefer }));
  if (type === LZ_TYPE.RGBA) {
    append(out, glzBody(alphaSymbols(image.pixels), { bias: 3, literal: byteLiteral }));
  }
  return new Uint8Array(out);
}

/** Encodes bytes as LZ4 blocks of at most `blockSize` input bytes, each with a BE u32 size. */
export function lz4Blocks(data: Uint8Array, blockSize = 65536): number[] {
  const out: number[] = [];
  for (let start = 0; start < data.length; start += blockSize) {
    const block = lz4Block(data, { start, end: Math.min(data.length, start + blockSize) });
    be32(block.length, out);
    append(out, block);
  }
  return out;
}

/** One LZ4 block of `data[start..end)`, with matches allowed back to the start of `data`. */
function lz4Block(data: Uint8Array, range: { start: number; end: number }): number[] {
  const out: number[] = [];
  const last = new Map<number, number>();
  const key = (i: number) =>
    data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
  let anchor = range.start;
  const emit = (litEnd: number, match?: { ofs: number; len: number }) => {
    const lit = litEnd - anchor;
    const ml = match ? match.len - 4 : 0;
    out.push((Math.min(lit, 15) << 4) | Math.min(ml, 15));
    if (lit >= 15) lengthBytes(lit - 15, out);
    for (let k = anchor; k < litEnd; k++) out.push(data[k]);
    if (!match) return;
    out.push(match.ofs & 255, match.ofs >> 8);
    if (ml >= 15) lengthBytes(ml - 15, out);
  };
  for (let i = range.start; i + 12 <= range.end;) {
    const j = last.get(key(i));
    last.set(key(i), i);
    if (j !== undefined && i - j <= 65535 && key(j) === key(i)) {
      let len = 4;
      while (i + len < range.end - 5 && data[j + len] === data[i + len]) len++;
      emit(i, { ofs: i - j, len });
      i += len;
      anchor = i;
    } else i++;
  }
  emit(range.end);
  return out;
}
