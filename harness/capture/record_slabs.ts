/**
 * Reused memory for the payloads the recording worker copies out of the ring: payloads are
 * carved from a few large slabs instead of a fresh array each (fresh memory costs page faults
 * and garbage collection, most of a no-op worker's time).
 *
 * A payload handed to a ConnectionRecorder may stay referenced (an incomplete SPICE unit) until
 * a later chunk of the same connection direction completes it; the recorder says so after each
 * chunk. {@link PayloadSlabs.retained} pins the slabs such a run spans (from the slab of its
 * first payload to the slab of its last), and a slab is reused only when no run spans it.
 *
 * @module
 */

/** Slab size. */
export const SLAB_BYTES = 4 << 20;
/** Payloads larger than this get their own array. */
const MAX_CARVED_BYTES = SLAB_BYTES >> 2;
/** Full slabs kept for reuse at most; beyond, the oldest is left to the garbage collector. */
const MAX_SPARE_SLABS = 4;

interface Slab {
  bytes: Uint8Array;
  generation: number;
}

/** A pool of slabs with pins per (connection, direction). */
export class PayloadSlabs {
  #current: Slab;
  #offset = 0;
  #generation = 0;
  /** Full slabs, oldest first. */
  #full: Slab[] = [];
  /** Slab generations each retaining (connection, direction) may still refer to. */
  readonly #pins = new Map<number, { first: number; last: number }>();
  /** Slabs allocated so far (for tests and profiling). */
  allocated = 1;

  constructor(readonly slabBytes = SLAB_BYTES) {
    this.#current = { bytes: new Uint8Array(slabBytes), generation: 0 };
  }

  /** Generation of the slab the last payload came from. */
  get generation(): number {
    return this.#current.generation;
  }

  /**
   * Memory for one payload, valid until it is no longer retained.
   *
   * @param length bytes
   */
  take = (length: number): Uint8Array => {
    if (length > Math.min(MAX_CARVED_BYTES, this.slabBytes)) return new Uint8Array(length);
    if (this.#offset + length > this.slabBytes) this.#next();
    const view = this.#current.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset = (this.#offset + length + 7) & ~7;
    return view;
  };

  /**
   * Reports whether the receiver of the last payload of `key` still refers to it.
   *
   * @param key connection and direction, e.g. `id * 2 + (fromClient ? 1 : 0)`
   * @param retained the recorder's answer for that payload
   * @param generation {@link generation} when the payload was taken
   */
  retained(key: number, retained: boolean, generation: number): void {
    if (!retained) return void this.#pins.delete(key);
    const pin = this.#pins.get(key);
    if (pin) pin.last = generation;
    else this.#pins.set(key, { first: generation, last: generation });
  }

  /** Forgets the pins of a connection that ended. */
  release(key: number): void {
    this.#pins.delete(key);
  }

  #next(): void {
    this.#full.push(this.#current);
    const pins = [...this.#pins.values()];
    const i = this.#full.findIndex((s) =>
      !pins.some((p) => s.generation >= p.first && s.generation <= p.last)
    );
    let bytes: Uint8Array;
    if (i >= 0) bytes = this.#full.splice(i, 1)[0].bytes;
    else {
      bytes = new Uint8Array(this.slabBytes);
      this.allocated++;
    }
    if (this.#full.length > MAX_SPARE_SLABS) this.#full.shift();
    this.#current = { bytes, generation: ++this.#generation };
    this.#offset = 0;
  }
}
