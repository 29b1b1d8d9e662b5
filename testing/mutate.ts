/**
 * Seeded mutations of capture files for the fuzz test: bit flips, bytes and words set to boundary
 * values, truncations, inflated length fields, duplicated or removed records and blocks, swapped
 * pcapng block types and pcap magics. Everything is a pure function of the seed, so one number
 * replays an input exactly.
 */
import { concatBytes } from "../lib/bytes.ts";

/** A small, fast, seeded generator (mulberry32). */
export class Rng {
  #state: number;

  /**
   * Starts the sequence of a seed.
   *
   * @param seed any integer; equal seeds give equal sequences
   */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform integer in [0, 2^32). */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform integer in [0, n); 0 when n ≤ 0. */
  below(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }
}

/** The seed of input `index` of a run: a hash of both, so inputs are independent. */
export function inputSeed(runSeed: number, index: number): number {
  let h = Math.imul(runSeed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

/** One record (pcap) or block (pcapng) found in a file, and where its length fields are. */
export interface Chunk {
  /** Byte offset of the record header or block. */
  offset: number;
  /** Bytes, header and trailer included. */
  length: number;
  /** Offsets of 32-bit length fields in it (absolute). */
  lengthFields: number[];
  /** Offset of the pcapng block type, when a block. */
  typeField?: number;
}

/** The layout of a capture: its header (pcap) and the chunks that parse before any damage. */
export interface Layout {
  /** "pcap", "pcapng", or "other" for bytes that are neither. */
  format: "pcap" | "pcapng" | "other";
  /** Byte order of the length fields. */
  littleEndian: boolean;
  /** Records or blocks, in order; the pcap file header is not one. */
  chunks: Chunk[];
}

const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1];
const PCAPNG_SHB = 0x0a0d0d0a;
/** Block types a swap picks from: every standard one, a custom one and garbage. */
const BLOCK_TYPES = [PCAPNG_SHB, 1, 2, 3, 4, 5, 6, 7, 0xa, 0xbad, 0x40000bad, 0, 0xffffffff];
const LINK_TYPES = [0, 1, 101, 108, 113, 228, 229, 276, 65535];

/**
 * Finds the records or blocks of a capture, stopping at the first that does not fit.
 *
 * @param bytes a pcap or pcapng file (or anything else)
 * @returns format, byte order and chunks
 */
export function layout(bytes: Uint8Array): Layout {
  if (bytes.length < 24) return { format: "other", littleEndian: true, chunks: [] };
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0, false);
  const chunks: Chunk[] = [];
  if (PCAP_MAGICS.includes(magic)) {
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1;
    for (let pos = 24; pos + 16 <= bytes.length;) {
      const length = 16 + v.getUint32(pos + 8, le);
      if (pos + length > bytes.length) break;
      chunks.push({ offset: pos, length, lengthFields: [pos + 8, pos + 12] });
      pos += length;
    }
    return { format: "pcap", littleEndian: le, chunks };
  }
  if (magic !== PCAPNG_SHB) return { format: "other", littleEndian: true, chunks };
  const le = v.getUint32(8, true) === 0x1a2b3c4d;
  for (let pos = 0; pos + 12 <= bytes.length;) {
    const type = v.getUint32(pos, le);
    const length = v.getUint32(pos + 4, le);
    if (length < 12 || length % 4 !== 0 || pos + length > bytes.length) break;
    const fields = [pos + 4, pos + length - 4];
    if ((type === 6 || type === 2) && length >= 32) fields.push(pos + 20, pos + 24);
    if (type === 3 && length >= 16) fields.push(pos + 8);
    chunks.push({ offset: pos, length, lengthFields: fields, typeField: pos });
    pos += length;
  }
  return { format: "pcapng", littleEndian: le, chunks };
}

/**
 * The file's first `count` records or blocks (header included): a small seed cut from a large
 * capture at a record boundary.
 *
 * @param bytes a pcap or pcapng file
 * @param count chunks to keep
 * @returns a copy of the prefix
 */
export function firstChunks(bytes: Uint8Array, count: number): Uint8Array {
  const { chunks } = layout(bytes);
  if (chunks.length <= count) return bytes.slice();
  return bytes.slice(0, chunks[count].offset);
}

/** A mutation: its name and what it does to a copy of the bytes. */
type Mutation = (bytes: Uint8Array, at: { rng: Rng; l: Layout }) => {
  bytes: Uint8Array;
  what: string;
};

/** 32-bit words of `bytes` in one byte order; out-of-range reads give 0, writes do nothing. */
function words(
  bytes: Uint8Array,
  le: boolean,
): { get(at: number): number; set(at: number, v: number): void } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    get: (at) => at + 4 <= bytes.length ? view.getUint32(at, le) : 0,
    set: (at, v) => {
      if (at + 4 <= bytes.length) view.setUint32(at, v >>> 0, le);
    },
  };
}

/** Somewhere in a chunk (most of the time) or anywhere. */
function someChunk(rng: Rng, l: Layout): Chunk | undefined {
  return l.chunks.length === 0 ? undefined : rng.pick(l.chunks);
}

const bitFlips: Mutation = (bytes, { rng }) => {
  const out = bytes.slice();
  const n = 1 + rng.below(8);
  for (let i = 0; i < n && out.length > 0; i++) out[rng.below(out.length)] ^= 1 << rng.below(8);
  return { bytes: out, what: `flip ${n} bit(s)` };
};

const boundaryValue: Mutation = (bytes, { rng, l }) => {
  const out = bytes.slice();
  const at = rng.chance(0.5) ? rng.below(out.length) & ~3 : rng.below(out.length);
  const width = rng.pick([1, 2, 4, 4, 8]);
  const values = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x8000, 0x7fffffff, 0x80000000, 0xffffffff];
  const value = rng.pick(values);
  const le = rng.chance(0.8) ? l.littleEndian : !l.littleEndian;
  for (let i = 0; i < width && at + i < out.length; i++) {
    const shift = 8 * (le ? i : width - 1 - i);
    out[at + i] = shift >= 32 ? (value < 0x80000000 ? 0 : 0xff) : (value >>> shift) & 0xff;
  }
  return { bytes: out, what: `set ${width} byte(s) at ${at} to ${value.toString(16)}` };
};

const truncate: Mutation = (bytes, { rng, l }) => {
  const chunk = someChunk(rng, l);
  const at = chunk && rng.chance(0.6)
    ? Math.max(0, chunk.offset + rng.below(chunk.length + 8) - 4)
    : rng.below(bytes.length);
  return { bytes: bytes.slice(0, at), what: `truncate at ${at}` };
};

const inflateLength: Mutation = (bytes, { rng, l }) => {
  const chunk = someChunk(rng, l);
  if (chunk === undefined) return bitFlips(bytes, { rng, l });
  const out = bytes.slice();
  const field = rng.pick(chunk.lengthFields);
  const old = words(out, l.littleEndian).get(field);
  const value = rng.pick([old + 4, old + 1, old * 2, old + 0x10000, 0xffffffff, 0x7ffffffc, 0, 8]);
  words(out, l.littleEndian).set(field, value);
  // sometimes keep a pcapng block self-consistent, so the damage reaches the body parser
  if (l.format === "pcapng" && field === chunk.offset + 4 && rng.chance(0.5)) {
    words(out, l.littleEndian).set(chunk.offset + chunk.length - 4, value);
  }
  return { bytes: out, what: `length at ${field}: ${old} → ${value >>> 0}` };
};

const duplicateChunk: Mutation = (bytes, { rng, l }) => {
  const chunk = someChunk(rng, l);
  const start = chunk?.offset ?? rng.below(bytes.length);
  const length = chunk?.length ?? 1 + rng.below(64);
  const copy = bytes.slice(start, start + length);
  const target = rng.chance(0.5) ? start : rng.pick(l.chunks)?.offset ?? start;
  const out = new Uint8Array(bytes.length + copy.length);
  out.set(bytes.subarray(0, target));
  out.set(copy, target);
  out.set(bytes.subarray(target), target + copy.length);
  return { bytes: out, what: `duplicate ${copy.length} bytes from ${start} at ${target}` };
};

const removeChunk: Mutation = (bytes, { rng, l }) => {
  const chunk = someChunk(rng, l);
  const start = chunk?.offset ?? rng.below(bytes.length);
  const length = Math.min(chunk?.length ?? 1 + rng.below(64), bytes.length - start);
  const out = new Uint8Array(bytes.length - length);
  out.set(bytes.subarray(0, start));
  out.set(bytes.subarray(start + length), start);
  return { bytes: out, what: `remove ${length} bytes at ${start}` };
};

const swapType: Mutation = (bytes, { rng, l }) => {
  const out = bytes.slice();
  if (l.format === "pcap") {
    if (rng.chance(0.5)) {
      const magic = rng.pick(PCAP_MAGICS);
      words(out, false).set(0, magic);
      return { bytes: out, what: `pcap magic ${magic.toString(16)}` };
    }
    const link = rng.pick(LINK_TYPES);
    words(out, l.littleEndian).set(20, link);
    return { bytes: out, what: `pcap link type ${link}` };
  }
  const chunk = someChunk(rng, l);
  if (chunk?.typeField === undefined) return bitFlips(bytes, { rng, l });
  const type = rng.pick(BLOCK_TYPES);
  words(out, l.littleEndian).set(chunk.typeField, type);
  return { bytes: out, what: `block at ${chunk.offset} → type ${type.toString(16)}` };
};

/** Where the TCP payload of a chunk's frame starts (Ethernet, SLL or SLL2 + IPv4), if found. */
function tcpPayload(bytes: Uint8Array, where: { l: Layout; c: Chunk }): number | undefined {
  const { l, c } = where;
  const data = c.offset + (l.format === "pcap" ? 16 : 28);
  for (const link of [14, 20, 16]) {
    const ip = data + link;
    if (ip + 40 > c.offset + c.length || bytes[ip] !== 0x45 || bytes[ip + 9] !== 6) continue;
    const payload = ip + 20 + (bytes[ip + 32] >> 4) * 4;
    return payload < c.offset + c.length ? payload : undefined;
  }
  return undefined;
}

/** A SPICE header field (sizes, types, counts: little-endian) set to a boundary value. */
const spiceField: Mutation = (bytes, { rng, l }) => {
  const frames = l.chunks.filter((c) => tcpPayload(bytes, { l, c }) !== undefined);
  if (frames.length === 0) return boundaryValue(bytes, { rng, l });
  const chunk = rng.pick(frames);
  const start = tcpPayload(bytes, { l, c: chunk })!;
  const end = chunk.offset + chunk.length;
  const at = start + (rng.chance(0.7) ? rng.pick([0, 2, 4, 6, 8, 12, 16, 20]) : rng.below(64));
  const value = rng.pick([0, 1, 0xff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff, 0x1000_0000]);
  const out = bytes.slice();
  const width = rng.pick([1, 2, 4]);
  for (let i = 0; i < width && at + i < end; i++) out[at + i] = (value >>> (8 * i)) & 0xff;
  return { bytes: out, what: `SPICE field at ${at} (payload + ${at - start}) = ${value}` };
};

/** A record's timestamp words set to boundary values (pcap seconds/fraction, pcapng high/low). */
const timestamp: Mutation = (bytes, { rng, l }) => {
  const records = l.chunks.filter((c) =>
    l.format === "pcap" || words(bytes, l.littleEndian).get(c.offset) === 6
  );
  if (records.length === 0) return boundaryValue(bytes, { rng, l });
  const out = bytes.slice();
  const from = rng.below(records.length);
  const high = rng.pick([0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x17a2b3c4]);
  const low = rng.pick([0, 999_999, 1_000_000, 999_999_999, 0xffffffff]);
  // this record, or it and every later one (so times stay in order past the jump)
  const to = rng.chance(0.5) ? from + 1 : records.length;
  for (const c of records.slice(from, to)) {
    const at = c.offset + (l.format === "pcap" ? 0 : 12);
    words(out, l.littleEndian).set(at, high);
    if (rng.chance(0.5)) words(out, l.littleEndian).set(at + 4, low);
  }
  return { bytes: out, what: `timestamps of records ${from}..${to - 1}: high ${high}` };
};

const MUTATIONS: readonly [string, Mutation][] = [
  ["timestamp", timestamp],
  ["spice-field", spiceField],
  ["spice-field", spiceField],
  ["bit-flip", bitFlips],
  ["boundary", boundaryValue],
  ["truncate", truncate],
  ["inflate-length", inflateLength],
  ["duplicate", duplicateChunk],
  ["remove", removeChunk],
  ["swap-type", swapType],
];

/**
 * Applies one to four random mutations to a copy of `bytes`.
 *
 * @param bytes the seed, left unchanged
 * @param rng the input's generator
 * @returns the mutated bytes and what was done, for a failure report
 * @example
 * ```ts
 * const { bytes, steps } = mutate(seed, new Rng(inputSeed(runSeed, i)));
 * ```
 */
export function mutate(bytes: Uint8Array, rng: Rng): { bytes: Uint8Array; steps: string[] } {
  let out = bytes;
  const steps: string[] = [];
  const n = 1 + rng.below(rng.chance(0.7) ? 1 : 4);
  for (let i = 0; i < n; i++) {
    const [name, mutation] = rng.pick(MUTATIONS);
    const r = mutation(out, { rng, l: layout(out) });
    out = r.bytes;
    steps.push(`${name}: ${r.what}`);
  }
  return { bytes: out === bytes ? bytes.slice() : out, steps };
}

/**
 * The file without its records or blocks longer than `maxBytes` (headers and section blocks
 * always stay): a small seed that keeps a capture's shape, with gaps where large packets were.
 *
 * @param bytes a pcap or pcapng file
 * @param maxBytes longest record or block kept
 * @returns a new file
 */
export function withoutLargeChunks(bytes: Uint8Array, maxBytes: number): Uint8Array {
  const l = layout(bytes);
  if (l.chunks.length === 0) return bytes.slice();
  const parts: Uint8Array[] = [bytes.subarray(0, l.chunks[0].offset)];
  for (const c of l.chunks) {
    if (c.length <= maxBytes || c.offset === 0) {
      parts.push(bytes.subarray(c.offset, c.offset + c.length));
    }
  }
  const last = l.chunks[l.chunks.length - 1];
  parts.push(bytes.subarray(last.offset + last.length));
  return concatBytes(parts);
}
