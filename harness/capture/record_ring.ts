/**
 * A single-producer, single-consumer ring of records in shared memory (a shared
 * WebAssembly.Memory): the relay thread appends (a memcpy and two atomic stores, no allocation,
 * no message), the recording worker copies each payload out into private memory at memcpy speed
 * (harness/capture/_ring_copy.ts) and frees its room at once. The ring's size bounds the bytes
 * relayed and not yet recorded: a record that does not fit is refused at once, the writer never
 * waits.
 *
 * Layout: records start at multiples of 16. A record is a 16-byte header (four little-endian
 * u32: kind, connection id, payload length, flags) and its payload, padded to 16. A record
 * never wraps around the end of the ring: when its payload would, a `wrap` header fills the
 * rest and the record starts again at 0, so every payload is one contiguous view. The control
 * array holds the write position, the read position (what the reader has freed) and the
 * reader's "sleeping" flag.
 *
 * @module
 */

import { copyIntoRing, RingCopier, WASM_PAGE_BYTES } from "./_ring_copy.ts";

/** Record header bytes; also the alignment of records. */
export const RECORD_HEADER_BYTES = 16;

/** Record kinds. */
export const RECORD_KIND = Object.freeze({
  /** Bytes forwarded on a connection; flags bit 0: client → server. */
  data: 1,
  /** A new connection. */
  open: 2,
  /**
   * The connection ended; payload: dropped chunks and bytes (4 × f64), see
   * {@link encodeDropped}; flags: {@link RESET} when a socket was reset, with bit 0 when the
   * client's was.
   */
  close: 3,
  /** The connection stopped being recorded; flags bit 0: the direction that went over. */
  lossy: 4,
});

/** Kind of the filler header at the end of the ring before a record that starts again at 0. */
const WRAP = 0;

/** Flag bit: the data (or the direction that went over) is client → server. */
export const FROM_CLIENT = 1;

/** Flag bit of a close record: the connection ended with a reset, not a FIN. */
export const RESET = 2;

/** Ring bytes touched at creation (beyond this, pages are faulted in by the first lap). */
const PREFAULT_MAX_BYTES = 80 << 20;

/** Bytes kept for control records (open, close, lossy) that data may not use. */
export const CONTROL_RESERVE_BYTES = 64 * 1024;

const W = 0; // write position (bytes)
const R = 1; // read position (bytes)
const SLEEPING = 2; // 1 while the reader waits for data
const WRITER_WAITING = 3; // 1 while the writer waits for room
const CONTROL_INTS = 4;

/** The shared memory of a ring; postMessage it to the reader's thread. */
export interface RingBuffers {
  /** The records. */
  memory: WebAssembly.Memory;
  /** `memory`'s buffer. */
  data: SharedArrayBuffer;
  /** Positions and the reader's flag. */
  control: SharedArrayBuffer;
}

function pad16(n: number): number {
  return (n + 15) & ~15;
}

/**
 * Allocates a ring that holds `dataBytes` of records on top of {@link CONTROL_RESERVE_BYTES}.
 *
 * @param dataBytes bytes of data records (headers included) the ring holds at once
 */
export function createRing(dataBytes: number): RingBuffers {
  const pages = Math.ceil(
    (pad16(dataBytes) + CONTROL_RESERVE_BYTES + RECORD_HEADER_BYTES) / WASM_PAGE_BYTES,
  );
  const memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  const data = memory.buffer as SharedArrayBuffer;
  const size = data.byteLength;
  // Touch the pages now: a first write to fresh memory page-faults, which would otherwise cost
  // the relay thread ~0.1-0.2 ms per MiB during its first lap around the ring.
  new Uint8Array(data, 0, Math.min(size, PREFAULT_MAX_BYTES)).fill(0);
  return { memory, data, control: new SharedArrayBuffer(CONTROL_INTS * 4) };
}

/** One record as read. */
export interface RingRecord {
  kind: number;
  conn: number;
  flags: number;
  /** The payload, a copy in the reader's private memory: valid until its next read. */
  payload: Uint8Array;
}

/** The relay's end: appends records. */
export class RingWriter {
  readonly #u8: Uint8Array;
  readonly #i32: Int32Array;
  readonly #ctl: Int32Array;
  readonly #size: number;
  #w: number;

  constructor(buffers: RingBuffers) {
    this.#u8 = new Uint8Array(buffers.data);
    this.#i32 = new Int32Array(buffers.data);
    this.#ctl = new Int32Array(buffers.control);
    this.#size = buffers.data.byteLength;
    this.#w = Atomics.load(this.#ctl, W);
  }

  /** Bytes written and not yet read. */
  get used(): number {
    return (this.#w - Atomics.load(this.#ctl, R) + this.#size) % this.#size;
  }

  /** The reader's position: it moves whenever the reader takes a record. */
  get readPosition(): number {
    return Atomics.load(this.#ctl, R);
  }

  /**
   * Whether a record of `length` payload bytes fits now.
   *
   * @param length payload bytes
   * @param reserve bytes that must stay free after it, as {@link write} takes it
   */
  fits(length: number, reserve = 0): boolean {
    const need = RECORD_HEADER_BYTES + pad16(length);
    // A record that would run past the end takes a filler to the end and starts again at 0.
    const filler = this.#w + need > this.#size ? this.#size - this.#w : 0;
    // One header's worth stays free so that a full ring never looks empty.
    return this.used + filler + need <= this.#size - RECORD_HEADER_BYTES - reserve;
  }

  /**
   * Resolves when the reader takes a record (or after `timeoutMs`): marks the writer as waiting
   * so the reader's next record wakes it.
   *
   * @param timeoutMs longest wait
   */
  async waitForRead(timeoutMs: number): Promise<void> {
    Atomics.store(this.#ctl, WRITER_WAITING, 1);
    const waited = Atomics.waitAsync(this.#ctl, R, Atomics.load(this.#ctl, R), timeoutMs);
    if (waited.async) await waited.value;
    Atomics.store(this.#ctl, WRITER_WAITING, 0);
  }

  /**
   * Whether a record of `length` payload bytes fits in the empty ring (else it never will).
   *
   * @param length payload bytes
   * @param reserve as {@link fits}
   */
  couldFit(length: number, reserve = 0): boolean {
    // Worst case: a filler of almost a whole record before it.
    return 2 * (RECORD_HEADER_BYTES + pad16(length)) <= this.#size - RECORD_HEADER_BYTES - reserve;
  }

  /**
   * Appends a record unless it does not fit.
   *
   * @param kind one of {@link RECORD_KIND}
   * @param conn connection id
   * @param flags {@link FROM_CLIENT} or 0
   * @param payload bytes to copy in (may be reused by the caller at once)
   * @param reserve bytes that must stay free after this record (control records pass 0)
   * @returns false when the ring is too full: nothing was written
   *
   * Positional parameters: this runs for every relayed chunk.
   */
  write(kind: number, conn: number, flags: number, payload?: Uint8Array, reserve = 0): boolean {
    const len = payload?.length ?? 0;
    if (!this.fits(len, reserve)) return false;
    const size = this.#size;
    const need = RECORD_HEADER_BYTES + pad16(len);
    let w = this.#w;
    if (w + need > size) {
      this.#i32[w >> 2] = WRAP; // the record starts again at 0
      w = 0;
    }
    const h = w >> 2;
    this.#i32[h] = kind;
    this.#i32[h + 1] = conn;
    this.#i32[h + 2] = len;
    this.#i32[h + 3] = flags;
    if (payload && len > 0) copyIntoRing(this.#u8, w + RECORD_HEADER_BYTES, payload);
    this.#w = (w + need) % size;
    Atomics.store(this.#ctl, W, this.#w);
    // Waking the reader costs tens of µs: only when it sleeps.
    if (Atomics.load(this.#ctl, SLEEPING) === 1) {
      Atomics.store(this.#ctl, SLEEPING, 0);
      Atomics.notify(this.#ctl, W);
    }
    return true;
  }
}

/** The worker's end: reads records in order. */
export class RingReader {
  readonly #u8: Uint8Array;
  readonly #i32: Int32Array;
  readonly #ctl: Int32Array;
  readonly #size: number;
  readonly #copier: RingCopier | undefined;
  #r: number;
  #consumed = 0;

  constructor(buffers: RingBuffers) {
    this.#u8 = new Uint8Array(buffers.data);
    this.#i32 = new Int32Array(buffers.data);
    this.#ctl = new Int32Array(buffers.control);
    this.#size = buffers.data.byteLength;
    this.#copier = RingCopier.create(buffers.memory);
    this.#r = Atomics.load(this.#ctl, R);
  }

  /** Whether a record is waiting. */
  get empty(): boolean {
    return Atomics.load(this.#ctl, W) === this.#r;
  }

  /** Bytes written and not read yet (headers and padding included). */
  get available(): number {
    return (Atomics.load(this.#ctl, W) - this.#r + this.#size) % this.#size;
  }

  /** Bytes read so far, in all (headers, padding and fillers included). */
  get consumed(): number {
    return this.#consumed;
  }

  /**
   * Reads the next record, freeing its room for the writer.
   *
   * @returns the record, or undefined when the ring is empty; its payload is valid until the
   *   next call
   */
  next(): RingRecord | undefined {
    let r = this.#r;
    if (Atomics.load(this.#ctl, W) === r) return undefined;
    if (this.#i32[r >> 2] === WRAP) {
      this.#consumed += this.#size - r;
      r = 0;
    }
    const h = r >> 2;
    const kind = this.#i32[h];
    const conn = this.#i32[h + 1];
    const len = this.#i32[h + 2];
    const flags = this.#i32[h + 3];
    const at = r + RECORD_HEADER_BYTES;
    const payload = len === 0
      ? new Uint8Array(0)
      : this.#copier?.copy(at, len) ?? this.#u8.slice(at, at + len);
    const next = at + pad16(len);
    this.#consumed += next - r;
    this.#r = next === this.#size ? 0 : next;
    Atomics.store(this.#ctl, R, this.#r);
    // A writer waiting for room (`recordAll`) is woken by each record taken.
    if (Atomics.load(this.#ctl, WRITER_WAITING) === 1) {
      Atomics.store(this.#ctl, WRITER_WAITING, 0);
      Atomics.notify(this.#ctl, R);
    }
    return { kind, conn, flags, payload };
  }

  /**
   * Resolves when a record may be waiting (or after `timeoutMs`): marks the reader as sleeping
   * so the writer's next record wakes it.
   *
   * @param timeoutMs longest wait
   */
  async wait(timeoutMs: number): Promise<void> {
    Atomics.store(this.#ctl, SLEEPING, 1);
    const waited = Atomics.waitAsync(this.#ctl, W, this.#r, timeoutMs);
    if (waited.async) await waited.value;
    Atomics.store(this.#ctl, SLEEPING, 0);
  }

  /** Wakes a {@link wait} in progress (from the reader's own thread, e.g. to stop). */
  wake(): void {
    Atomics.notify(this.#ctl, W);
  }
}

/**
 * Encodes a close record's payload: dropped chunks and bytes per direction.
 *
 * @param chunks chunks not recorded, client → server and server → client
 * @param bytes bytes not recorded, same order
 */
export function encodeDropped(chunks: [number, number], bytes: [number, number]): Uint8Array {
  return new Uint8Array(new Float64Array([chunks[0], chunks[1], bytes[0], bytes[1]]).buffer);
}

/**
 * Decodes {@link encodeDropped}; undefined for an empty payload.
 *
 * @param payload a close record's payload
 */
export function decodeDropped(
  payload: Uint8Array,
): { chunks: [number, number]; bytes: [number, number] } | undefined {
  if (payload.length < 32) return undefined;
  const f = new Float64Array(payload.slice(0, 32).buffer); // a copy: aligned, not shared
  return { chunks: [f[0], f[1]], bytes: [f[2], f[3]] };
}
