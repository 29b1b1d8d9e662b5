/**
 * The Internet checksum's word sum in WebAssembly SIMD (private to lib/net/checksum.ts): about
 * four times the speed of the best plain loop on long ranges (measured in `deno task bench
 * --only record`, whose recording checksums every byte it writes).
 *
 * The module is assembled here, instruction by instruction, in two variants: one owns two 64 KiB
 * pages of memory (ranges are copied in), the other imports a memory to sum in place. Both
 * export `sum(ptr, len)`: the sum of the little-endian 16-bit words of memory[ptr, ptr + len),
 * len a multiple of 16, in four 32-bit lanes (`i32x4.extadd_pairwise_i16x8_u` per 16 bytes)
 * added together. A range of at most {@link SIMD_PIECE_BYTES} keeps every lane below
 * 2^30, so the returned i32, read unsigned, is exact.
 */

/** Bytes summed per call: the module's memory holds one piece and its zero padding. */
export const SIMD_PIECE_BYTES = 64 << 10;

// deno-fmt-ignore
const HEADER = [
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7f, // types: (i32, i32) -> i32
];

/** The module with a memory of its own: two 64 KiB pages, exported as "memory". */
// deno-fmt-ignore
const OWN_MEMORY = [
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x05, 0x03, 0x01, 0x00, 0x02, // memory: 2 pages, no maximum
  0x07, 0x10, 0x02, // exports: two
  0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, // "memory": memory 0
  0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, // "sum": function 0
];

/** The module summing a memory it imports as "m" "mem". */
// deno-fmt-ignore
const IMPORTED_MEMORY = [
  0x02, 0x0a, 0x01, 0x01, 0x6d, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, // import "m" "mem": memory
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x07, 0x07, 0x01, 0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, // export "sum": function 0
];

// deno-fmt-ignore
const CODE = [
  0x0a, 0x4b, 0x01, 0x49, // code: one body of 73 bytes
  0x02, 0x01, 0x7b, 0x01, 0x7f, // locals: 2 = acc (v128), 3 = end (i32)
  0x20, 0x00, 0x20, 0x01, 0x6a, 0x21, 0x03, // end = ptr + len
  0x02, 0x40, // block
  0x03, 0x40, //   loop
  0x20, 0x00, 0x20, 0x03, 0x4f, 0x0d, 0x01, //     br_if block (ptr >= end, unsigned)
  0x20, 0x02, //     acc
  0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, //     v128.load [ptr]
  0xfd, 0x7f, //     i32x4.extadd_pairwise_i16x8_u
  0xfd, 0xae, 0x01, //     i32x4.add
  0x21, 0x02, //     acc = …
  0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00, //     ptr += 16
  0x0c, 0x00, //     br loop
  0x0b, 0x0b, //   end, end
  0x20, 0x02, 0xfd, 0x1b, 0x00, // lane 0
  0x20, 0x02, 0xfd, 0x1b, 0x01, 0x6a, // + lane 1
  0x20, 0x02, 0xfd, 0x1b, 0x02, // lane 2
  0x20, 0x02, 0xfd, 0x1b, 0x03, 0x6a, 0x6a, // + lane 3, + both halves
  0x0b, // end of body
];

/** A summing function: the little-endian words of `memory[ptr, ptr + len)`, len a multiple of 16. */
export type SumFn = (ptr: number, len: number) => number;

/** The assembled module's entry point and its memory. */
export interface SimdSum {
  /** Sums the little-endian words of `memory[ptr, ptr + len)`, len a multiple of 16. */
  sum: SumFn;
  /** The module's memory (fixed size: it never grows, so the view stays valid). */
  memory: Uint8Array;
}

/** Instantiates the module; undefined where WebAssembly SIMD is not available. */
export function instantiateSimdSum(): SimdSum | undefined {
  try {
    const bytes = Uint8Array.from([...HEADER, ...OWN_MEMORY, ...CODE]);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    const e = instance.exports as { sum: SumFn; memory: WebAssembly.Memory };
    return { sum: e.sum, memory: new Uint8Array(e.memory.buffer) };
  } catch {
    return undefined;
  }
}

/** The imported-memory module, compiled once. */
let importing: WebAssembly.Module | undefined;

/**
 * The sum over another WebAssembly memory, in place; undefined where SIMD is not available.
 *
 * @param memory the memory to sum (shared or not)
 */
export function simdSumOver(memory: WebAssembly.Memory): SumFn | undefined {
  try {
    importing ??= new WebAssembly.Module(
      Uint8Array.from([...HEADER, ...IMPORTED_MEMORY, ...CODE]),
    );
    return new WebAssembly.Instance(importing, { m: { mem: memory } }).exports.sum as SumFn;
  } catch {
    return undefined;
  }
}
