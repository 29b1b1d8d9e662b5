/**
 * Copying out of the recording ring at memcpy speed (private to harness/capture/record_ring.ts).
 *
 * The ring is shared memory, and a typed-array copy out of shared memory goes through V8's
 * word-at-a-time path for shared buffers, about three times slower than a copy between private
 * buffers; the recording copies most bytes more than once after reading them (SPICE messages
 * that span relay chunks, then the frames). So the reader copies each payload once, with
 * WebAssembly's `memory.copy` (a plain memcpy), from the ring (a shared WebAssembly.Memory) into
 * a private WebAssembly.Memory, and everything after works on private memory.
 *
 * The module is assembled here, instruction by instruction. It imports the ring as memory 0
 * and the private memory as memory 1 (multi-memory), and exports `copyOut(dst, src, len)`:
 * memory1[dst, dst + len) = memory0[src, src + len).
 */

// deno-fmt-ignore
const MODULE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // types: (i32, i32, i32) -> ()
  0x02, 0x19, 0x02, // imports: two
  0x01, 0x6d, 0x04, 0x72, 0x69, 0x6e, 0x67, // "m" "ring":
  0x02, 0x03, 0x01, 0x80, 0x80, 0x04, //   memory, shared, 1 to 65536 pages
  0x01, 0x6d, 0x05, 0x6c, 0x6f, 0x63, 0x61, 0x6c, // "m" "local":
  0x02, 0x00, 0x01, //   memory, at least 1 page
  0x03, 0x02, 0x01, 0x00, // functions: one, of type 0
  0x07, 0x0b, 0x01, 0x07, 0x63, 0x6f, 0x70, 0x79, 0x4f, 0x75, 0x74, 0x00, 0x00, // export "copyOut"
  0x0a, 0x0e, 0x01, 0x0c, 0x00, // code: one body of 12 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // dst, src, len
  0xfc, 0x0a, 0x01, 0x00, // memory.copy into memory 1 from memory 0
  0x0b, // end
);

/** WebAssembly page size. */
export const WASM_PAGE_BYTES = 64 << 10;

type CopyOut = (dst: number, src: number, len: number) => void;

/** Copies from a ring's memory into private memory that grows as payloads need. */
export class RingCopier {
  readonly #copyOut: CopyOut;
  readonly #local: WebAssembly.Memory;
  /** View of the private memory (renewed when it grows). */
  #view: Uint8Array;

  private constructor(copyOut: CopyOut, local: WebAssembly.Memory) {
    this.#copyOut = copyOut;
    this.#local = local;
    this.#view = new Uint8Array(local.buffer);
  }

  /**
   * A copier for `ring`; undefined where the runtime lacks WebAssembly multi-memory.
   *
   * @param ring the ring's shared memory
   */
  static create(ring: WebAssembly.Memory): RingCopier | undefined {
    try {
      const local = new WebAssembly.Memory({ initial: 16 });
      const instance = new WebAssembly.Instance(new WebAssembly.Module(MODULE), {
        m: { ring, local },
      });
      return new RingCopier(instance.exports.copyOut as CopyOut, local);
    } catch {
      return undefined;
    }
  }

  /**
   * Copies `len` bytes at `at` of the ring into private memory.
   *
   * @returns a view of the copy, valid until the next call
   */
  copy(at: number, len: number): Uint8Array {
    if (len > this.#view.length) {
      this.#local.grow(Math.ceil((len - this.#view.length) / WASM_PAGE_BYTES));
      this.#view = new Uint8Array(this.#local.buffer);
    }
    this.#copyOut(0, at, len);
    return this.#view.subarray(0, len);
  }
}
