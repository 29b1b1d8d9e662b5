/**
 * Copying into and out of the recording ring at memcpy speed (private to
 * harness/capture/record_ring.ts).
 *
 * The ring is shared memory, and a typed-array copy out of shared memory goes through V8's
 * word-at-a-time path for shared buffers, about three times slower than a copy between private
 * buffers; the recording copies most bytes more than once after reading them (SPICE messages
 * that span relay chunks, then the frames). So the reader copies each payload once, with
 * WebAssembly's `memory.copy` (a plain memcpy), from the ring (a shared WebAssembly.Memory) into
 * a private WebAssembly.Memory, and everything after works on private memory.
 *
 * The relay side does the same the other way: its socket read buffers are private
 * WebAssembly memories ({@link relayBuffer}), copied into the ring with `memory.copy` too.
 *
 * The module is assembled here, instruction by instruction. It imports the ring as memory 0
 * and a private memory as memory 1 (multi-memory), and exports `copyOut(dst, src, len)`:
 * memory1[dst, dst + len) = memory0[src, src + len), and `copyIn(dst, src, len)`:
 * memory0[dst, dst + len) = memory1[src, src + len).
 */

import { sumInPlace } from "../../lib/net/checksum.ts";

// deno-fmt-ignore
const MODULE = Uint8Array.of(
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x07, 0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x00, // types: (i32, i32, i32) -> ()
  0x02, 0x19, 0x02, // imports: two
  0x01, 0x6d, 0x04, 0x72, 0x69, 0x6e, 0x67, // "m" "ring":
  0x02, 0x03, 0x01, 0x80, 0x80, 0x04, //   memory, shared, 1 to 65536 pages
  0x01, 0x6d, 0x05, 0x6c, 0x6f, 0x63, 0x61, 0x6c, // "m" "local":
  0x02, 0x00, 0x01, //   memory, at least 1 page
  0x03, 0x03, 0x02, 0x00, 0x00, // functions: two, of type 0
  0x07, 0x14, 0x02, // exports: two
  0x07, 0x63, 0x6f, 0x70, 0x79, 0x4f, 0x75, 0x74, 0x00, 0x00, // "copyOut": function 0
  0x06, 0x63, 0x6f, 0x70, 0x79, 0x49, 0x6e, 0x00, 0x01, // "copyIn": function 1
  0x0a, 0x1b, 0x02, // code: two bodies
  0x0c, 0x00, // copyOut: 12 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // dst, src, len
  0xfc, 0x0a, 0x01, 0x00, // memory.copy into memory 1 from memory 0
  0x0b, // end
  0x0c, 0x00, // copyIn: 12 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, // dst, src, len
  0xfc, 0x0a, 0x00, 0x01, // memory.copy into memory 0 from memory 1
  0x0b, // end
);

/** The module, compiled once per thread that copies. */
let compiled: WebAssembly.Module | undefined;

/** The module's exports for `ring` and a private memory `local`; undefined where unsupported. */
function instantiate(
  ring: WebAssembly.Memory,
  local: WebAssembly.Memory,
): { copyOut: CopyFn; copyIn: CopyFn } | undefined {
  try {
    compiled ??= new WebAssembly.Module(MODULE);
    const instance = new WebAssembly.Instance(compiled, { m: { ring, local } });
    return instance.exports as unknown as { copyOut: CopyFn; copyIn: CopyFn };
  } catch {
    return undefined;
  }
}

/** WebAssembly page size. */
export const WASM_PAGE_BYTES = 64 << 10;

/** A copy between the two memories: destination offset, source offset, length. */
type CopyFn = (dst: number, src: number, len: number) => void;

/** Copies from a ring's memory into private memory that grows as payloads need. */
export class RingCopier {
  readonly #copyOut: CopyFn;
  readonly #local: WebAssembly.Memory;
  /** View of the private memory (renewed when it grows). */
  #view: Uint8Array;

  private constructor(copyOut: CopyFn, local: WebAssembly.Memory) {
    this.#copyOut = copyOut;
    this.#local = local;
    this.#view = new Uint8Array(local.buffer);
    sumInPlace(local); // frames of units inside a payload are checksummed where they lie
  }

  /**
   * A copier for `ring`; undefined where the runtime lacks WebAssembly multi-memory.
   *
   * @param ring the ring's shared memory
   */
  static create(ring: WebAssembly.Memory): RingCopier | undefined {
    const local = new WebAssembly.Memory({ initial: 16 });
    const fns = instantiate(ring, local);
    return fns && new RingCopier(fns.copyOut, local);
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
      sumInPlace(this.#local);
    }
    this.#copyOut(0, at, len);
    return this.#view.subarray(0, len);
  }
}

/** Relay buffers made by {@link relayBuffer} → their copy into the ring. */
const relayCopies = new WeakMap<ArrayBufferLike, CopyFn>();

/**
 * A socket read buffer of `bytes` whose contents {@link copyIntoRing} copies at memcpy speed: a
 * private WebAssembly memory of its own (never grown, so the view stays valid).
 *
 * @param ring the ring's shared memory
 * @param bytes the buffer's size
 */
export function relayBuffer(ring: WebAssembly.Memory, bytes: number): Uint8Array {
  const pages = Math.max(1, Math.ceil(bytes / WASM_PAGE_BYTES));
  const local = new WebAssembly.Memory({ initial: pages, maximum: pages });
  const fns = instantiate(ring, local);
  if (fns) relayCopies.set(local.buffer, fns.copyIn);
  return new Uint8Array(local.buffer, 0, bytes);
}

/**
 * Copies `payload` into the ring at `at`: with `memory.copy` when it lies in a
 * {@link relayBuffer}, else with a typed-array copy.
 *
 * @param ring a view of the whole ring
 * @param at where in the ring
 * @param payload the bytes
 */
export function copyIntoRing(ring: Uint8Array, at: number, payload: Uint8Array): void {
  const copyIn = relayCopies.get(payload.buffer);
  if (copyIn) copyIn(at, payload.byteOffset, payload.length);
  else ring.set(payload, at);
}
