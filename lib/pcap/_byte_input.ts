/**
 * Contiguous-bytes cursor over a stream of chunks, for the capture readers.
 *
 * Records are handed out as views of {@link ByteInput.buf}, so a buffer is never written
 * after it becomes `buf`: a source chunk is used as it is, and a record that straddles
 * chunks gets a fresh buffer holding exactly the bytes asked for (the partial tail plus the
 * head of the next chunks); the rest of the last chunk is used as it is afterwards.
 * The reader therefore holds at most one chunk and one record at a time.
 *
 * Source chunks are taken over: the source must not write into a chunk after yielding it
 * (true of file, fetch and socket streams, which allocate a chunk per read).
 */
import { CaptureFormatError, TruncatedCaptureError } from "./types.ts";

const EMPTY = new Uint8Array(0);

/**
 * Records per yielded batch at most: big enough to amortise the await per batch, small
 * enough that a batch dies young (large batches measured slower: the records get promoted).
 */
export const MAX_BATCH_RECORDS = 512;

/** Where errors are reported: file name and packet counter of the reader. */
export interface ErrorContext {
  file?: string;
}

/** Cursor over chunks. */
export class ByteInput {
  /** Current buffer; bytes `pos …` are unread. */
  buf: Uint8Array = EMPTY;
  /** DataView over {@link buf}. */
  view: DataView = new DataView(EMPTY.buffer);
  /** Read position in {@link buf}. */
  pos = 0;
  /** File offset of `buf[0]`. */
  base = 0;
  readonly #iter: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  #pulled = 0;
  #stash: Uint8Array | undefined;
  #stashOffset = 0;
  #chunkOffset = 0;
  readonly context: ErrorContext;

  /**
   * @param source chunks of the file, in order
   * @param context file name for errors
   */
  constructor(
    source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    context: ErrorContext,
  ) {
    const asyncIterator = (source as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator];
    this.#iter = asyncIterator !== undefined
      ? asyncIterator.call(source)
      : (source as Iterable<Uint8Array>)[Symbol.iterator]();
    this.context = context;
  }

  /** Unread bytes in {@link buf}. */
  get available(): number {
    return this.buf.length - this.pos;
  }

  /** File offset of the read position. */
  get offset(): number {
    return this.base + this.pos;
  }

  #set(buf: Uint8Array, base: number): void {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = 0;
    this.base = base;
  }

  /** Next non-empty chunk (the stash first); sets #chunkOffset. */
  async #pull(): Promise<Uint8Array | undefined> {
    if (this.#stash !== undefined) {
      const s = this.#stash;
      this.#stash = undefined;
      this.#chunkOffset = this.#stashOffset;
      return s;
    }
    for (;;) {
      const r = await this.#iter.next();
      if (r.done) return undefined;
      const c = r.value;
      if (!(c instanceof Uint8Array)) {
        throw new TypeError(`capture source yielded ${typeof c}, expected Uint8Array chunks`);
      }
      if (c.length === 0) continue;
      this.#chunkOffset = this.#pulled;
      this.#pulled += c.length;
      return c;
    }
  }

  /**
   * Makes `n` unread bytes contiguous in {@link buf} at {@link pos}.
   *
   * @param n bytes needed
   * @returns false when the input ended first ({@link available} bytes remain)
   */
  async ensure(n: number): Promise<boolean> {
    let have = this.buf.length - this.pos;
    if (have >= n) return true;
    if (have === 0) {
      const c = await this.#pull();
      if (c === undefined) return false;
      this.#set(c, this.#chunkOffset);
      if (c.length >= n) return true;
      have = c.length;
    }
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos));
    const start = this.base + this.pos;
    while (have < n) {
      const c = await this.#pull();
      if (c === undefined) {
        this.#set(out.subarray(0, have), start);
        return false;
      }
      const take = Math.min(n - have, c.length);
      out.set(take === c.length ? c : c.subarray(0, take), have);
      have += take;
      if (take < c.length) {
        this.#stash = c.subarray(take);
        this.#stashOffset = this.#chunkOffset + take;
      }
    }
    this.#set(out, start);
    return true;
  }

  /** Whether any byte is left (pulls one chunk when the buffer is empty). */
  async hasMore(): Promise<boolean> {
    return await this.ensure(1);
  }

  /** Stops the source (cancels a ReadableStream). */
  async cancel(): Promise<void> {
    await this.#iter.return?.();
  }

  // Hot path: called inside the per-packet readers; positional parameters, no options object.
  /**
   * A {@link CaptureFormatError} at a file offset.
   *
   * @param expected what the reader expected
   * @param offset absolute byte offset
   * @param packetNumber packet being read, if any
   */
  formatError(expected: string, offset: number, packetNumber?: number): CaptureFormatError {
    return new CaptureFormatError(expected, { offset, packetNumber, file: this.context.file });
  }

  // Hot path: called inside the per-packet readers; positional parameters, no options object.
  /**
   * A {@link TruncatedCaptureError} at a file offset.
   *
   * @param expected what the reader expected
   * @param offset absolute byte offset
   * @param packetNumber packet being read, if any
   */
  truncated(expected: string, offset: number, packetNumber?: number): TruncatedCaptureError {
    return new TruncatedCaptureError(expected, { offset, packetNumber, file: this.context.file });
  }
}

/**
 * Hex text of a u32 for messages.
 *
 * @param n value
 * @returns "0x" and 8 hex digits
 */
export function hex32(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, "0")}`;
}
