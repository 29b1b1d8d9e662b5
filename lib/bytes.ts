/**
 * Byte-array helpers shared by every layer: joining arrays, and reading unsigned integers in
 * either byte order.
 *
 * The readers are plain byte arithmetic over `(bytes, offset)`: no `DataView` is made per call,
 * and none needs to be kept beside the array. They do not check bounds: a byte past the end
 * reads as `undefined`, which the arithmetic turns into 0, so callers check lengths first.
 */

/**
 * Joins byte arrays into one new array.
 *
 * @param parts the arrays, in order
 * @returns a fresh array holding all their bytes
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A u32 as 4 little-endian bytes.
 *
 * @param value the number (its low 32 bits)
 * @returns a fresh 4-byte array
 */
export function u32leBytes(value: number): Uint8Array {
  return new Uint8Array([value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24]);
}

/**
 * Little-endian unsigned 16-bit value.
 *
 * @param b bytes
 * @param at offset of the first byte
 * @returns 0..0xffff
 */
export function u16le(b: Uint8Array, at: number): number {
  return b[at] | (b[at + 1] << 8);
}

/**
 * Big-endian (network order) unsigned 16-bit value.
 *
 * @param b bytes
 * @param at offset of the first byte
 * @returns 0..0xffff
 */
export function u16be(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

/**
 * Little-endian unsigned 32-bit value.
 *
 * @param b bytes
 * @param at offset of the first byte
 * @returns 0..0xffffffff
 */
export function u32le(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Big-endian (network order) unsigned 32-bit value.
 *
 * @param b bytes
 * @param at offset of the first byte
 * @returns 0..0xffffffff
 */
export function u32be(b: Uint8Array, at: number): number {
  return ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
}

/**
 * Little-endian unsigned 64-bit value.
 *
 * @param b bytes
 * @param at offset of the first byte
 * @returns 0n..2^64-1
 */
export function u64le(b: Uint8Array, at: number): bigint {
  return (BigInt(u32le(b, at + 4)) << 32n) | BigInt(u32le(b, at));
}

/**
 * Big-endian (network order) unsigned 64-bit value.
 *
 * @param b bytes
 * @param at offset of the first byte
 * @returns 0n..2^64-1
 */
export function u64be(b: Uint8Array, at: number): bigint {
  return (BigInt(u32be(b, at)) << 32n) | BigInt(u32be(b, at + 4));
}
