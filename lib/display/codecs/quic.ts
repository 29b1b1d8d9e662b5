/**
 * SPICE QUIC images: an adaptive Golomb-Rice coder over per-channel prediction residuals
 * (left neighbour on row 0, mean of left and above after), with run-length coding of repeats.
 * The stream is little-endian u32 words read most significant bit first; its header is five
 * words: "QUIC", version 0, image type, width, height.
 *
 * @module
 */
import { checkImageSize, type DecodedImage, ImageDecodeError } from "../image.ts";
import { expand5 } from "./_pixels.ts";
import {
  FAMILY_5,
  FAMILY_8,
  lowMask,
  MELC_ORDER,
  newChannel,
  newState,
  nextWaitMask,
  type QuicChannel,
  type QuicFamily,
  type QuicState,
  tabrand,
  updateModel,
  WMI_MAX,
} from "./quic_model.ts";

const CODEC = "quic";
/** "QUIC" as a little-endian u32. */
export const QUIC_MAGIC = 0x43495551;
/** QUIC image types. */
export const QUIC_TYPES = { GRAY: 1, RGB16: 2, RGB24: 3, RGB32: 4, RGBA: 5 } as const;

/** Reads the stream's bits, keeping the next 32 in `word`. */
class BitReader {
  readonly #view: DataView;
  readonly #words: number;
  #index = 1;
  #next: number;
  #avail = 0;
  /** The next 32 bits of the stream, first bit in the top. */
  word: number;

  constructor(data: Uint8Array) {
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.#words = data.length >> 2;
    if (this.#words === 0) {
      throw new ImageDecodeError(CODEC, { offset: 0, expected: "a QUIC header" });
    }
    this.word = this.#next = this.#view.getUint32(0, true);
  }

  /** Consumes `len` (1..31) bits. */
  eat(len: number): void {
    this.word = (this.word << len) >>> 0;
    const delta = this.#avail - len;
    if (delta >= 0) {
      this.#avail = delta;
      this.word = (this.word | (this.#next >>> delta)) >>> 0;
      return;
    }
    this.word = (this.word | (this.#next << -delta)) >>> 0;
    if (this.#index >= this.#words) {
      throw new ImageDecodeError(CODEC, {
        offset: this.#index * 4,
        expected: "another 32-bit word",
      });
    }
    this.#next = this.#view.getUint32(this.#index++ * 4, true);
    this.#avail = 32 + delta;
    this.word = (this.word | (this.#next >>> this.#avail)) >>> 0;
  }

  /** Consumes 32 bits. */
  eat32(): void {
    this.eat(16);
    this.eat(16);
  }

  /** Decodes one value with Golomb code `l` of `family`. */
  golomb(family: QuicFamily, l: number): number {
    const bits = this.word;
    let len: number, value: number;
    if (bits > family.notGRprefixMask[l]) {
      const zeros = Math.clz32(bits);
      len = zeros + 1 + l;
      value = (zeros << l) | ((bits >>> (32 - len)) & lowMask(l));
    } else {
      len = family.notGRlen[l];
      value = family.nGR[l] + ((bits >>> (32 - len)) & lowMask(family.notGRsuffixLen[l]));
    }
    this.eat(len);
    return value & 0xff;
  }

  /** Decodes a run length and adapts the MELCODE state. */
  run(st: QuicState): number {
    let runLen = 0;
    for (;;) {
      const ones = Math.clz32(~(this.word >>> 24) & 0xff) - 24;
      for (let hit = 0; hit < ones; hit++) {
        runLen += st.melcOrder;
        if (st.melcState < 31) {
          st.melcLen = MELC_ORDER[++st.melcState];
          st.melcOrder = 1 << st.melcLen;
        }
      }
      if (ones !== 8) {
        this.eat(ones + 1);
        break;
      }
      this.eat(8);
    }
    if (st.melcLen) {
      runLen += this.word >>> (32 - st.melcLen);
      this.eat(st.melcLen);
    }
    if (st.melcState) {
      st.melcLen = MELC_ORDER[--st.melcState];
      st.melcOrder = 1 << st.melcLen;
    }
    return runLen;
  }

  /** Byte offset of the word being read, for errors. */
  get offset(): number {
    return (this.#index - 1) * 4;
  }
}

/** Channels coded together (R,G,B or alpha or gray), with their shared state and row planes. */
interface Group {
  family: QuicFamily;
  state: QuicState;
  channels: QuicChannel[];
  cur: Uint8Array[];
  prev: Uint8Array[];
}

function newGroup(family: QuicFamily, { width, count }: { width: number; count: number }): Group {
  const planes = () => Array.from({ length: count }, () => new Uint8Array(width));
  return {
    family,
    state: newState(),
    channels: Array.from({ length: count }, () => newChannel(family, width)),
    cur: planes(),
    prev: planes(),
  };
}

function updateAll(g: Group, i: number): void {
  for (const ch of g.channels) {
    updateModel(g.state, ch, g.family, ch.corr[i], ch.corr[i + 1]);
  }
}

/** Decodes pixel i of every channel; `first` selects the row-0 predictor. Positional: per pixel. */
function decodePixel(r: BitReader, g: Group, i: number, first: boolean): void {
  const f = g.family, mask = (1 << f.bpc) - 1;
  for (let c = 0; c < g.channels.length; c++) {
    const ch = g.channels[c];
    const v = r.golomb(f, ch.bestCode[f.bucketOf[ch.corr[i] & mask]]);
    ch.corr[i + 1] = v;
    const cur = g.cur[c];
    let pred: number;
    if (first) pred = i === 0 ? 0 : cur[i - 1];
    else pred = i === 0 ? g.prev[c][0] : (cur[i - 1] + g.prev[c][i]) >> 1;
    cur[i] = (f.l2u[v] + pred) & mask;
  }
}

/** Whether pixels a and b are equal in every plane. Positional: runs per pixel. */
function samePixel(planes: Uint8Array[], a: number, b: number): boolean {
  for (const p of planes) if (p[a] !== p[b]) return false;
  return true;
}

/**
 * Pixel 0 of a segment that starts a row, then the wait-count bookkeeping; returns stopidx.
 * Positional: runs per segment of every row.
 */
function startSegment(r: BitReader, g: Group, first: boolean, waitMask: number): number {
  decodePixel(r, g, 0, first);
  const st = g.state;
  if (st.waitCount) st.waitCount--;
  else {
    st.waitCount = tabrand(st) & waitMask;
    updateAll(g, 0);
  }
  return 1 + st.waitCount;
}

function row0Segment(r: BitReader, g: Group, seg: { i: number; end: number }): void {
  const st = g.state, waitMask = lowMask(st.wmIdx);
  let { i } = seg;
  const { end } = seg;
  let stop = i === 0 ? startSegment(r, g, true, waitMask) : i + st.waitCount;
  if (i === 0) i = 1;
  while (stop < end) {
    for (; i <= stop; i++) decodePixel(r, g, i, true);
    updateAll(g, stop);
    stop = i + (tabrand(st) & waitMask);
  }
  for (; i < end; i++) decodePixel(r, g, i, true);
  st.waitCount = stop - end;
}

function rowSegment(r: BitReader, g: Group, seg: { i: number; end: number }): void {
  const st = g.state, waitMask = lowMask(st.wmIdx);
  let { i } = seg;
  const { end } = seg;
  let runIndex = 0;
  let stop = i === 0 ? startSegment(r, g, false, waitMask) : i + st.waitCount;
  if (i === 0) i = 1;
  const runHere = (k: number) =>
    runIndex !== k && k > 2 && samePixel(g.prev, k - 1, k) && samePixel(g.cur, k - 1, k - 2);
  for (;;) {
    let run = false;
    scan: {
      while (stop < end) {
        for (; i <= stop; i++) {
          if ((run = runHere(i))) break scan;
          decodePixel(r, g, i, false);
        }
        updateAll(g, stop);
        stop = i + (tabrand(st) & waitMask);
      }
      for (; i < end; i++) {
        if ((run = runHere(i))) break scan;
        decodePixel(r, g, i, false);
      }
    }
    if (!run) {
      st.waitCount = stop - end;
      return;
    }
    st.waitCount = stop - i;
    runIndex = i;
    const at = r.offset;
    const len = r.run(st);
    if (len > end - i) {
      throw new ImageDecodeError(CODEC, {
        offset: at,
        expected: `a run of at most ${end - i} pixels, found ${len}`,
      });
    }
    for (const p of g.cur) p.fill(p[i - 1], i, i + len);
    i += len;
    if (i === end) return;
    stop = i + st.waitCount;
  }
}

/** Decodes one row of a group, splitting it where the wait-mask index grows. Positional: per row. */
function decodeRow(r: BitReader, g: Group, first: boolean): void {
  const st = g.state;
  const seg = first ? row0Segment : rowSegment;
  let width = g.cur[0].length, pos = 0;
  for (const ch of g.channels) ch.corr[0] = first ? 0 : ch.corr[1];
  while (WMI_MAX > st.wmIdx && st.wmLeft <= width) {
    if (st.wmLeft) {
      seg(r, g, { i: pos, end: pos + st.wmLeft });
      width -= st.wmLeft;
      pos += st.wmLeft;
    }
    nextWaitMask(st);
  }
  if (width) {
    seg(r, g, { i: pos, end: pos + width });
    if (WMI_MAX > st.wmIdx) st.wmLeft -= width;
  }
}

function swapRows(g: Group): void {
  const t = g.prev;
  g.prev = g.cur;
  g.cur = t;
}

function readHeader(r: BitReader): { type: number; width: number; height: number } {
  const field = () => {
    const v = r.word;
    r.eat32();
    return v;
  };
  const magic = field();
  if (magic !== QUIC_MAGIC) {
    throw new ImageDecodeError(CODEC, {
      offset: 0,
      expected: `magic "QUIC", found 0x${magic.toString(16)}`,
    });
  }
  const version = field();
  if (version !== 0) {
    throw new ImageDecodeError(CODEC, {
      offset: 4,
      expected: `version 0, found 0x${version.toString(16)}`,
    });
  }
  const type = field();
  if (type < QUIC_TYPES.GRAY || type > QUIC_TYPES.RGBA) {
    throw new ImageDecodeError(CODEC, {
      offset: 8,
      expected: `an image type in 1..5, found ${type}`,
    });
  }
  const width = field(), height = field();
  checkImageSize(CODEC, { width, height, offset: 12 });
  return { type, width, height };
}

/**
 * Decodes a QUIC image. RGB16 is widened to 8 bits per channel, GRAY gives grey pixels, RGBA
 * keeps its alpha; the others are opaque.
 *
 * @param data the QUIC stream (trailing bytes that do not fill a word are ignored)
 * @returns the pixels, top-down
 * @throws {ImageDecodeError} on bad magic, version, type or size, or when the stream ends early
 *   or codes a run past the row's end
 */
export function decodeQuic(data: Uint8Array): DecodedImage {
  const r = new BitReader(data);
  const { type, width, height } = readHeader(r);
  const out = new Uint8Array(width * height * 4);
  const family = type === QUIC_TYPES.RGB16 ? FAMILY_5 : FAMILY_8;
  const color = newGroup(family, { width, count: type === QUIC_TYPES.GRAY ? 1 : 3 });
  const alpha = type === QUIC_TYPES.RGBA ? newGroup(FAMILY_8, { width, count: 1 }) : null;
  for (let y = 0; y < height; y++) {
    decodeRow(r, color, y === 0);
    if (alpha) decodeRow(r, alpha, y === 0);
    writeRow(out, { y, type, color, alpha });
    swapRows(color);
    if (alpha) swapRows(alpha);
  }
  return { width, height, pixels: out, hasAlpha: type === QUIC_TYPES.RGBA };
}

function writeRow(
  out: Uint8Array,
  row: { y: number; type: number; color: Group; alpha: Group | null },
): void {
  const [c0, c1, c2] = row.color.cur;
  const a = row.alpha?.cur[0];
  const width = c0.length;
  const wide = row.type === QUIC_TYPES.RGB16;
  for (let x = 0, o = row.y * width * 4; x < width; x++, o += 4) {
    if (row.type === QUIC_TYPES.GRAY) out[o] = out[o + 1] = out[o + 2] = c0[x];
    else if (wide) {
      out[o] = expand5(c2[x]);
      out[o + 1] = expand5(c1[x]);
      out[o + 2] = expand5(c0[x]);
    } else {
      out[o] = c2[x];
      out[o + 1] = c1[x];
      out[o + 2] = c0[x];
    }
    out[o + 3] = a ? a[x] : 0xff;
  }
}
