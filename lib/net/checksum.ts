/**
 * The Internet checksum (RFC 1071): one's-complement sum of big-endian 16-bit words.
 *
 * Long ranges are summed in WebAssembly SIMD (lib/net/_checksum_simd.ts): copied into the
 * module's memory in 64 KiB pieces and summed there, about four times the plain loops' speed.
 * Where WebAssembly SIMD is missing, and for shorter ranges, two plain loops: a byte loop, and a
 * loop over aligned 32-bit words read through a `Uint32Array` view of the whole buffer, split
 * into 16-bit halves so every addition stays in int32 (measured ~1.35x faster than summing the
 * words as doubles at 1400 bytes, ~1.5x from 100 bytes on versus the byte loop). The view of
 * the last buffer seen is kept, so checksumming many slices of one buffer allocates nothing (it
 * also keeps that one buffer reachable until another buffer is summed). Summing host-order
 * words is valid because the one's-complement sum is byte-order independent (RFC 1071 §2(B)):
 * the folded result is swapped back at the end.
 */

import { instantiateSimdSum, SIMD_PIECE_BYTES, simdSumOver, type SumFn } from "./_checksum_simd.ts";

/** Ranges shorter than this use the byte loop. */
const WORD_LOOP_MIN_BYTES = 64;
/**
 * Ranges this long or longer are summed in WebAssembly SIMD (per call, measured: even at 100
 * bytes, 4× faster at 400, 5.5× at 1400; twice slower at 64, where the call and copy dominate).
 */
const SIMD_MIN_BYTES = 128;
/** 32-bit words summed before folding, so each int32 half-word sum stays below 2^31. */
const WORDS_PER_BLOCK = 1 << 14;
/** Whether the host stores integers little-endian (a fact of the platform, not state). */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Folds a non-negative sum of 16-bit words (any size below 2^53) to 16 bits with end-around carry.
 *
 * @param sum plain integer sum
 * @returns a value in 0..0xffff; 0 only when `sum` is 0
 */
export function foldChecksum(sum: number): number {
  while (sum > 0x7fffffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16); // int32 ops once it fits
  return sum;
}

function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

function byteSum(bytes: Uint8Array, start: number, end: number): number {
  let hi = 0;
  let lo = 0;
  let i = start;
  const end8 = start + ((end - start) & ~7);
  for (; i < end8; i += 8) {
    hi += bytes[i] + bytes[i + 2] + bytes[i + 4] + bytes[i + 6];
    lo += bytes[i + 1] + bytes[i + 3] + bytes[i + 5] + bytes[i + 7];
  }
  for (; i + 1 < end; i += 2) {
    hi += bytes[i];
    lo += bytes[i + 1];
  }
  if (i < end) hi += bytes[i];
  return hi * 256 + lo;
}

let wordsBuffer: ArrayBufferLike | undefined;
let words: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** A 32-bit view of all of `buffer` (the last one is reused), holding word `endWord - 1`. */
function wordsOf(buffer: ArrayBufferLike, endWord: number): Uint32Array {
  if (buffer !== wordsBuffer || endWord > words.length) {
    words = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    wordsBuffer = buffer;
  }
  return words;
}

function wordSum(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let sum = 0;
  const base = bytes.byteOffset;
  const misaligned = (4 - ((base + i) & 3)) & 3;
  for (let k = 0; k < misaligned; k++, i++) sum += ((i - start) & 1) ? bytes[i] : bytes[i] * 256;
  const count = (end - i) >>> 2;
  const first = (base + i) >>> 2;
  const last = first + count;
  const view = wordsOf(bytes.buffer, last);
  let folded = 0;
  for (let blockStart = first; blockStart < last; blockStart += WORDS_PER_BLOCK) {
    const blockEnd = Math.min(last, blockStart + WORDS_PER_BLOCK);
    let high = 0;
    let low = 0;
    let k = blockStart;
    for (const end2 = blockStart + ((blockEnd - blockStart) & ~1); k < end2; k += 2) {
      const w0 = view[k], w1 = view[k + 1];
      high = (high + (w0 >>> 16) + (w1 >>> 16)) | 0;
      low = (low + (w0 & 0xffff) + (w1 & 0xffff)) | 0;
    }
    if (k < blockEnd) {
      const w = view[k];
      high += w >>> 16;
      low += w & 0xffff;
    }
    folded = foldChecksum(folded + high + low);
  }
  if (HOST_LITTLE_ENDIAN) folded = swap16(folded);
  // Words that start at an odd distance from `start` contribute byte-swapped.
  if ((i - start) & 1) folded = swap16(folded);
  sum += folded;
  i += count * 4;
  for (; i < end; i++) sum += ((i - start) & 1) ? bytes[i] : bytes[i] * 256;
  return sum;
}

/** The SIMD module, made once (its memory is fixed: nothing else is kept). */
const simd = instantiateSimdSum();

/** Buffers of WebAssembly memories registered by {@link sumInPlace} → their in-place sum. */
const inPlace = new WeakMap<ArrayBufferLike, SumFn>();

/**
 * Lets checksums of ranges inside `memory` be summed where they are, instead of copied into
 * the SIMD module's memory first: for a thread whose payloads sit in a WebAssembly memory (the
 * recording worker's copy of the ring). Register it again after it grows (its buffer changes).
 *
 * @param memory a non-shared WebAssembly memory
 */
export function sumInPlace(memory: WebAssembly.Memory): void {
  const sum = simd ? simdSumOver(memory) : undefined;
  if (sum) inPlace.set(memory.buffer, sum);
}

/** Like {@link wordSum}, through the SIMD module, piece by piece. */
function simdSum(bytes: Uint8Array, start: number, end: number): number {
  const { sum, memory } = simd!;
  const here = inPlace.get(bytes.buffer);
  let total = 0;
  if (here) {
    // In place: whole 16-byte blocks in WebAssembly, the last few bytes here.
    const base = bytes.byteOffset;
    const blocks = start + ((end - start) & ~15);
    for (let at = start; at < blocks; at += SIMD_PIECE_BYTES) {
      total += here(base + at, Math.min(SIMD_PIECE_BYTES, blocks - at)) >>> 0;
    }
    // The blocks' little-endian sum swapped to big-endian, plus the last bytes' (an even
    // distance from `start`, so their words line up).
    return swap16(foldChecksum(total)) + byteSum(bytes, blocks, end);
  }
  for (let at = start; at < end; at += SIMD_PIECE_BYTES) {
    const n = Math.min(SIMD_PIECE_BYTES, end - at);
    memory.set(bytes.subarray(at, at + n));
    const padded = (n + 15) & ~15;
    if (padded > n) memory.fill(0, n, padded);
    total += sum(0, padded) >>> 0;
  }
  // WebAssembly reads little-endian words whatever the host: swap back (RFC 1071 §2(B)).
  return swap16(foldChecksum(total));
}

/**
 * Plain (unfolded) sum of the big-endian 16-bit words of `bytes[start, end)`, an odd last byte
 * padded with zero. Congruent to the one's-complement sum modulo 0xffff; fold it with
 * {@link foldChecksum}.
 *
 * @param bytes data
 * @param start first byte @default 0
 * @param end byte after the last @default bytes.length
 * @returns a non-negative integer below 2^53
 */
export function checksumSum(bytes: Uint8Array, start = 0, end = bytes.length): number {
  const n = end - start;
  if (n < WORD_LOOP_MIN_BYTES) return byteSum(bytes, start, end);
  return n >= SIMD_MIN_BYTES && simd ? simdSum(bytes, start, end) : wordSum(bytes, start, end);
}

/**
 * Internet checksum of `bytes`: the one's complement of the one's-complement sum of its 16-bit
 * words plus `initial`. Over data that already holds a correct checksum the result is 0.
 *
 * @param bytes data (an odd last byte is padded with zero)
 * @param initial partial sum to add first, e.g. a pseudo header from {@link checksumSum} @default 0
 * @returns the 16-bit checksum to store
 * @example
 * ```ts
 * const header = new Uint8Array([0x45, 0, 0, 20, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
 * internetChecksum(header); // 0x26e2
 * ```
 */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~foldChecksum(initial + checksumSum(bytes)) & 0xffff;
}
