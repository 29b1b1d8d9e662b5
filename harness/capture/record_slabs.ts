/**
 * Reused memory for the payloads the recording worker copies out of the ring: payloads are
 * carved from a few large slabs instead of a fresh array each (fresh memory costs page faults
 * and garbage collection, most of a no-op worker's time).
 *
 * A payload handed to a ConnectionRecorder may stay referenced (an incomplete SPICE unit) until
 * a later chunk of the same connection direction completes it; after each chunk the recorder
 * says how many trailing bytes of that direction it still refers to. {@link PayloadSlabs.retained}
 * pins the slabs those bytes lie in (from the slab of the oldest payload they reach to the slab
 * of the last), and a slab is reused only when no pin spans it. A bulk stream is retained after
 * almost every chunk (chunks rarely end on a unit boundary): pinning the whole run instead would
 * let no slab be reused, and fresh memory costs ten times a copy into warm memory.
 *
 * @module
 */

/** Slab size. */
export const SLAB_BYTES = 4 << 20;
/** Payloads larger than this get their own array. */
const MAX_CARVED_BYTES = SLAB_BYTES >> 2;
/** Full slabs kept for reuse at most; beyond, the oldest is left to the garbage collector. */
const MAX_SPARE_SLABS = 4;

/** Payloads of one connection direction still referenced, oldest first, and their bytes. */
interface Run {
  payloads: { generation: number; length: number }[];
  bytes: number;
}

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
  /** Payloads each retaining (connection, direction) may still refer to. */
  readonly #runs = new Map<number, Run>();
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
   * Reports how much of what `key` received its receiver still refers to, after its last
   * payload.
   *
   * @param key connection and direction, e.g. `id * 2 + (fromClient ? 1 : 0)`
   * @param retainedBytes trailing bytes of the payloads of `key` still referred to (0: none,
   *   Infinity: all of them)
   * @param payload the last payload's {@link generation} when it was taken, and its length
   */
  retained(
    key: number,
    retainedBytes: number,
    payload: { generation: number; length: number },
  ): void {
    if (retainedBytes <= 0) return void this.#runs.delete(key);
    let run = this.#runs.get(key);
    if (!run) this.#runs.set(key, run = { payloads: [], bytes: 0 });
    run.payloads.push(payload);
    run.bytes += payload.length;
    // The oldest payloads the retained tail no longer reaches are free.
    let drop = 0;
    while (
      drop < run.payloads.length - 1 && run.bytes - run.payloads[drop].length >= retainedBytes
    ) {
      run.bytes -= run.payloads[drop++].length;
    }
    if (drop > 0) run.payloads.splice(0, drop);
  }

  /** Forgets the pins of a connection that ended. */
  release(key: number): void {
    this.#runs.delete(key);
  }

  #next(): void {
    this.#full.push(this.#current);
    const pins = [...this.#runs.values()].map((r) => ({
      first: r.payloads[0].generation,
      last: r.payloads[r.payloads.length - 1].generation,
    }));
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
