/**
 * Append-only byte buffer in front of a `WritableStream`, shared by the pcap and pcapng
 * writers. Writers reserve room, fill it through {@link ChunkBuffer.view} /
 * {@link ChunkBuffer.bytes}, and commit; nothing here awaits on the write path.
 *
 * A chunk handed to the sink is a view that is never written again: the writer carries on
 * in the rest of the same chunk, or in a fresh one when it is full. When a chunk fills up it
 * is handed to the sink at once (auto-flush), so at most one chunk is buffered on top of the
 * writes the sink has not accepted yet.
 *
 * With `recycle`, a full chunk whose writes the sink has all accepted is reused for later
 * bytes instead of allocating a fresh one (fresh memory costs ~100-200 µs per MiB in page
 * faults on first touch, ~15-25 ns per small record). Only for sinks that are done with a
 * chunk once its write resolved, such as a file: never for a sink that keeps the chunks.
 */

/**
 * Bytes of spare chunks kept for reuse at most (and at least two chunks): as much as a capture
 * session lets a file have in flight, so a writer at full speed reuses warm memory instead of
 * faulting in fresh.
 */
const SPARE_BYTES = 16 << 20;

/** One chunk array: writes of views of it not yet accepted, and whether it was replaced. */
interface Slab {
  bytes: Uint8Array;
  writes: number;
  retired: boolean;
}

/** Default chunk size and auto-flush threshold: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

/** Buffered bytes in front of one sink. */
export class ChunkBuffer {
  /** Current chunk; fill `bytes[offset …]` after {@link reserve}. */
  bytes: Uint8Array;
  /** DataView over {@link bytes}. */
  view: DataView;
  #start = 0;
  #used = 0;
  readonly #chunkBytes: number;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #pendingBytes = 0;
  #tail: Promise<void> = Promise.resolve();
  #failed = false;
  #error: unknown = undefined;
  readonly #recycle: boolean;
  /** The current chunk and its writes not yet accepted (tracked with `recycle` only). */
  #slab: Slab;
  readonly #spare: Uint8Array[] = [];

  /**
   * @param sink destination; locked for the life of the buffer
   * @param chunkBytes chunk size and auto-flush threshold
   * @param recycle reuse chunks the sink has accepted (only for sinks that do not keep them)
   */
  constructor(sink: WritableStream<Uint8Array>, chunkBytes = DEFAULT_CHUNK_BYTES, recycle = false) {
    this.#recycle = recycle;
    this.#writer = sink.getWriter();
    // The writer's closed promise rejects when the sink errors; observe it so it is handled.
    this.#writer.closed.catch(() => {});
    this.#chunkBytes = chunkBytes;
    this.bytes = new Uint8Array(chunkBytes);
    this.view = new DataView(this.bytes.buffer);
    this.#slab = { bytes: this.bytes, writes: 0, retired: false };
  }

  /** Bytes buffered plus bytes handed to the sink and not yet accepted. */
  get bufferedBytes(): number {
    return this.#used - this.#start + this.#pendingBytes;
  }

  /** Whether the sink has failed; later bytes are discarded. */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Makes room for `n` contiguous bytes and returns their offset in {@link bytes}.
   * Call {@link commit} with the same `n` once they are written.
   *
   * @param n bytes needed
   * @returns offset into the current chunk
   */
  reserve(n: number): number {
    if (this.#used + n <= this.bytes.length) return this.#used;
    this.#send();
    if (this.#recycle) this.#retire();
    const size = n > this.#chunkBytes ? n : this.#chunkBytes;
    const spare = size === this.#chunkBytes ? this.#spare.pop() : undefined;
    this.bytes = spare ?? new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    if (this.#recycle) this.#slab = { bytes: this.bytes, writes: 0, retired: false };
    this.#start = 0;
    this.#used = 0;
    return 0;
  }

  /**
   * Marks `n` reserved bytes as written.
   *
   * @param n bytes written at the offset returned by {@link reserve}
   */
  commit(n: number): void {
    this.#used += n;
  }

  /**
   * Appends a copy of `data`.
   *
   * @param data bytes to append
   */
  append(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.bytes.set(data, at);
    this.commit(data.length);
  }

  /** Hands the buffered part of the current chunk to the sink without waiting. */
  #send(): void {
    const n = this.#used - this.#start;
    if (n === 0) return;
    const chunk = this.bytes.subarray(this.#start, this.#used);
    this.#start = this.#used;
    if (this.#failed) return;
    this.#pendingBytes += n;
    const write = this.#writer.write(chunk);
    if (this.#recycle) {
      const slab = this.#slab;
      slab.writes++;
      this.#tail = write.then(
        () => {
          this.#pendingBytes -= n;
          if (--slab.writes === 0 && slab.retired) this.#keep(slab.bytes);
        },
        (e) => this.#fail(e),
      );
      return;
    }
    this.#tail = write.then(
      () => {
        this.#pendingBytes -= n;
      },
      (e) => this.#fail(e),
    );
  }

  /** The current chunk is being replaced: reuse it once the sink accepted all its writes. */
  #retire(): void {
    const slab = this.#slab;
    slab.retired = true;
    if (slab.writes === 0) this.#keep(slab.bytes);
  }

  #keep(bytes: Uint8Array): void {
    const spares = Math.max(2, Math.floor(SPARE_BYTES / this.#chunkBytes));
    if (!this.#failed && bytes.length === this.#chunkBytes && this.#spare.length < spares) {
      this.#spare.push(bytes);
    }
  }

  #fail(e: unknown): void {
    if (!this.#failed) {
      this.#failed = true;
      this.#error = e;
    }
    this.#pendingBytes = 0;
  }

  /**
   * Hands buffered bytes to the sink and waits until it accepted everything so far.
   *
   * @throws the sink's error when a write failed
   */
  async flush(): Promise<void> {
    this.#send();
    await this.#tail;
    if (this.#failed) throw this.#error;
  }

  /**
   * Flushes and closes the sink.
   *
   * @throws the sink's error when a write or the close failed
   */
  async close(): Promise<void> {
    try {
      await this.flush();
    } catch (e) {
      await this.#writer.abort(e).catch(() => {});
      throw e;
    }
    await this.#writer.close();
  }
}
