/**
 * A QUIC encoder for tests: known pixels in, a stream `decodeQuic` must decode back exactly.
 * It follows the same model as the decoder (lib/display/codecs/quic_model.ts), coding each
 * residual with its bucket's best Golomb code and repeats as MELCODE runs.
 *
 * @module
 */
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
} from "../lib/display/codecs/quic_model.ts";
import { QUIC_MAGIC, QUIC_TYPES } from "../lib/display/codecs/quic.ts";

/** Packs bits most significant first into little-endian u32 words. */
class BitWriter {
  words: number[] = [];
  #word = 0;
  #avail = 32;

  put(value: number, len: number): void {
    const delta = this.#avail - len;
    if (delta >= 0) {
      this.#avail = delta;
      this.#word = (this.#word | (value << delta)) >>> 0;
      return;
    }
    this.#word = (this.#word | (value >>> -delta)) >>> 0;
    this.words.push(this.#word);
    this.#avail = 32 + delta;
    this.#word = this.#avail === 32 ? 0 : (value << this.#avail) >>> 0;
  }

  put32(v: number): void {
    this.put(v >>> 16, 16);
    this.put(v & 0xffff, 16);
  }

  putOnes(n: number): void {
    for (; n >= 16; n -= 16) this.put(0xffff, 16);
    if (n) this.put((1 << n) - 1, n);
  }

  finish(): Uint8Array {
    if (this.#avail > 0 && this.#avail !== 32) this.put(0, this.#avail);
    this.put32(0);
    this.put(0, 1);
    if (this.#avail !== 32) this.put(0, this.#avail);
    const out = new Uint8Array(this.words.length * 4);
    const view = new DataView(out.buffer);
    this.words.forEach((w, i) => view.setUint32(i * 4, w, true));
    return out;
  }
}

interface Group {
  family: QuicFamily;
  state: QuicState;
  channels: QuicChannel[];
  cur: Uint8Array[];
  prev: Uint8Array[];
}

function encodePixel(w: BitWriter, g: Group, i: number, first: boolean): void {
  const f = g.family, mask = (1 << f.bpc) - 1;
  for (let c = 0; c < g.channels.length; c++) {
    const ch = g.channels[c], cur = g.cur[c];
    let pred: number;
    if (first) pred = i === 0 ? 0 : cur[i - 1];
    else pred = i === 0 ? g.prev[c][0] : (cur[i - 1] + g.prev[c][i]) >> 1;
    const v = f.u2l[(cur[i] - pred) & mask];
    ch.corr[i + 1] = v;
    const l = ch.bestCode[f.bucketOf[ch.corr[i] & mask]];
    w.put(f.code[v * 8 + l], f.codeLen[v * 8 + l]);
  }
}

function updateAll(g: Group, i: number): void {
  for (const ch of g.channels) {
    updateModel(g.state, ch, g.family, ch.corr[i], ch.corr[i + 1]);
  }
}

function same(planes: Uint8Array[], a: number, b: number): boolean {
  for (const p of planes) if (p[a] !== p[b]) return false;
  return true;
}

function encodeRun(w: BitWriter, st: QuicState, runLen: number): void {
  let hits = 0;
  while (runLen >= st.melcOrder) {
    hits++;
    runLen -= st.melcOrder;
    if (st.melcState < 31) {
      st.melcLen = MELC_ORDER[++st.melcState];
      st.melcOrder = 1 << st.melcLen;
    }
  }
  w.putOnes(hits);
  w.put(runLen, st.melcLen + 1);
  if (st.melcState) {
    st.melcLen = MELC_ORDER[--st.melcState];
    st.melcOrder = 1 << st.melcLen;
  }
}

function segment(w: BitWriter, g: Group, seg: { i: number; end: number; first: boolean }): void {
  const st = g.state, waitMask = lowMask(st.wmIdx), { end, first } = seg;
  let i = seg.i, runIndex = 0, stop: number;
  if (i === 0) {
    encodePixel(w, g, 0, first);
    if (st.waitCount) st.waitCount--;
    else {
      st.waitCount = tabrand(st) & waitMask;
      updateAll(g, 0);
    }
    stop = ++i + st.waitCount;
  } else stop = i + st.waitCount;
  const runHere = (k: number) =>
    !first && runIndex !== k && k > 2 && same(g.prev, k - 1, k) && same(g.cur, k - 1, k - 2);
  for (;;) {
    let run = false;
    scan: {
      while (stop < end) {
        for (; i <= stop; i++) {
          if ((run = runHere(i))) break scan;
          encodePixel(w, g, i, first);
        }
        updateAll(g, stop);
        stop = i + (tabrand(st) & waitMask);
      }
      for (; i < end; i++) {
        if ((run = runHere(i))) break scan;
        encodePixel(w, g, i, first);
      }
    }
    if (!run) {
      st.waitCount = stop - end;
      return;
    }
    runIndex = i;
    st.waitCount = stop - i;
    let size = 0;
    while (same(g.cur, i, i - 1)) {
      size++;
      if (++i === end) return encodeRun(w, st, size);
    }
    encodeRun(w, st, size);
    stop = i + st.waitCount;
  }
}

function encodeRow(w: BitWriter, g: Group, first: boolean): void {
  const st = g.state;
  let width = g.cur[0].length, pos = 0;
  for (const ch of g.channels) ch.corr[0] = first ? 0 : ch.corr[1];
  while (WMI_MAX > st.wmIdx && st.wmLeft <= width) {
    if (st.wmLeft) {
      segment(w, g, { i: pos, end: pos + st.wmLeft, first });
      width -= st.wmLeft;
      pos += st.wmLeft;
    }
    nextWaitMask(st);
  }
  if (width) {
    segment(w, g, { i: pos, end: pos + width, first });
    if (WMI_MAX > st.wmIdx) st.wmLeft -= width;
  }
}

function newGroup(family: QuicFamily, width: number, count: number): Group {
  const planes = () => Array.from({ length: count }, () => new Uint8Array(width));
  return {
    family,
    state: newState(),
    channels: Array.from({ length: count }, () => newChannel(family, width)),
    cur: planes(),
    prev: planes(),
  };
}

/**
 * Encodes a BGRA image (top-down, width*4 stride) as QUIC of `type`. RGB16 keeps the top 5 bits
 * of each channel; GRAY codes the B byte.
 */
export function encodeQuic(
  image: { width: number; height: number; pixels: Uint8Array },
  type: number,
): Uint8Array {
  const { width, height, pixels } = image;
  const w = new BitWriter();
  for (const v of [QUIC_MAGIC, 0, type, width, height]) w.put32(v);
  const family = type === QUIC_TYPES.RGB16 ? FAMILY_5 : FAMILY_8;
  const color = newGroup(family, width, type === QUIC_TYPES.GRAY ? 1 : 3);
  const alpha = type === QUIC_TYPES.RGBA ? newGroup(FAMILY_8, width, 1) : null;
  const shift = type === QUIC_TYPES.RGB16 ? 3 : 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (type === QUIC_TYPES.GRAY) color.cur[0][x] = pixels[o];
      else {
        color.cur[0][x] = pixels[o + 2] >> shift;
        color.cur[1][x] = pixels[o + 1] >> shift;
        color.cur[2][x] = pixels[o] >> shift;
      }
      if (alpha) alpha.cur[0][x] = pixels[o + 3];
    }
    encodeRow(w, color, y === 0);
    if (alpha) encodeRow(w, alpha, y === 0);
    for (const g of alpha ? [color, alpha] : [color]) [g.prev, g.cur] = [g.cur, g.prev];
  }
  return w.finish();
}
