/**
 * Streaming reader of pcap and pcapng files: format, byte order and resolution are
 * detected from the first bytes; memory stays flat whatever the file size.
 */
import { ByteInput, hex32 } from "./_byte_input.ts";
import { pcapBatches } from "./_pcap_records.ts";
import { pcapngBatches } from "./_pcapng_records.ts";
import { isPcapMagic } from "./pcap_codec.ts";
import { BLOCK_TYPE } from "./pcapng_codec.ts";
import type { CaptureFormat, CaptureRecord, InterfaceInfo } from "./types.ts";

/** Options of {@link readCapture}, {@link readCaptureBatches} and {@link readCaptureFile}. */
export interface ReadOptions {
  /** File name put into errors. */
  file?: string;
  /**
   * Largest record accepted, checked before any buffer is allocated for it. For pcap this
   * bounds the captured length, which must also be ≤ `max(snapLength, 262144)` (the
   * libpcap/Wireshark rule); for pcapng it bounds a block's total length.
   * @default 268435456 (256 MiB)
   */
  maxRecordBytes?: number;
  /** Called for each interface (the one pcap interface, each pcapng IDB) as it is read. */
  onInterface?: (i: InterfaceInfo) => void;
  /** Called once the format and byte order are known. */
  onFormat?: (f: { format: CaptureFormat; littleEndian: boolean }) => void;
}

/**
 * Bytes of a capture file in order: a stream, an async iterable, or (for bytes already in
 * memory) a plain iterable of chunks. The source must not write into a chunk once yielded.
 */
export type CaptureSource =
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array>
  | Iterable<Uint8Array>;

/** Default {@link ReadOptions.maxRecordBytes}: 256 MiB. */
export const DEFAULT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

/** Bytes that tell the formats apart. */
const MAGIC_BYTES = 4;

/**
 * Reads a capture in batches (one per source chunk): the fast path. Records are views of
 * the input that the reader never overwrites, so they may be kept.
 *
 * @param source file bytes in order; chunks must not be reused by the source once yielded
 * @param options file name for errors, record limit, callbacks
 * @returns batches of records in file order
 * @throws CaptureFormatError for malformed input, naming offset, packet number and file
 * @throws TruncatedCaptureError when the input ends inside a record, after every complete
 * record before it was yielded
 * @example
 * ```ts
 * for await (const batch of readCaptureBatches(file.readable)) count += batch.length;
 * ```
 */
export async function* readCaptureBatches(
  source: CaptureSource,
  options: ReadOptions = {},
): AsyncGenerator<CaptureRecord[]> {
  const input = new ByteInput(source, { file: options.file });
  try {
    if (!await input.ensure(MAGIC_BYTES)) {
      throw input.formatError(
        "a pcap or pcapng file header (magic a1b2c3d4, a1b23c4d or 0a0d0d0a), " +
          `found only ${input.available} bytes`,
        0,
      );
    }
    const magic = input.view.getUint32(input.pos, false);
    const loop = {
      maxRecordBytes: options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES,
      onInterface: options.onInterface,
      onFormat: options.onFormat,
    };
    if (isPcapMagic(magic)) yield* pcapBatches(input, loop);
    else if (magic === BLOCK_TYPE.SHB) yield* pcapngBatches(input, loop);
    else {
      throw input.formatError(
        "a pcap magic (a1b2c3d4 or a1b23c4d, either byte order) or a pcapng section header " +
          `(0a0d0d0a), found ${hex32(magic)}`,
        0,
      );
    }
  } finally {
    await input.cancel();
  }
}

/**
 * Reads a capture record by record. Same records and errors as {@link readCaptureBatches}
 * (a truncated final record still throws only after every complete record was returned).
 * Convenient, but `for await` costs a promise and a microtask turn per record (~40 ns, about
 * as much as parsing the record); to read millions of records, loop over
 * {@link readCaptureBatches} instead (measured ~1.4× faster on 64-byte frames).
 *
 * @param source file bytes in order; chunks must not be reused by the source once yielded
 * @param options file name for errors, record limit, callbacks
 * @returns records in file order
 * @throws CaptureFormatError for malformed input
 * @throws TruncatedCaptureError when the input ends inside a record
 * @example
 * ```ts
 * for await (const r of readCapture(file.readable, { file: "main.pcap" })) console.log(r.tsNs);
 * ```
 */
export function readCapture(
  source: CaptureSource,
  options: ReadOptions = {},
): AsyncGenerator<CaptureRecord> {
  return new RecordIterator(readCaptureBatches(source, options));
}

/**
 * Flattens batches without an async generator: `next()` answers from the current batch
 * with an already-settled promise (measured ~2× faster than `yield*` per record), made by
 * `Promise.resolve` rather than an async function (~6 ns less per record).
 *
 * A `for await` loop still awaits every `next()`: one promise and one microtask turn per
 * record (~35-45 ns here) is the floor of any per-record async iterator, which is why heavy
 * readers should use {@link readCaptureBatches} (one await per up to 512 records).
 */
class RecordIterator implements AsyncGenerator<CaptureRecord> {
  readonly #batches: AsyncGenerator<CaptureRecord[]>;
  #batch: CaptureRecord[] = [];
  #index = 0;

  constructor(batches: AsyncGenerator<CaptureRecord[]>) {
    this.#batches = batches;
  }

  next(): Promise<IteratorResult<CaptureRecord, undefined>> {
    if (this.#index < this.#batch.length) {
      return Promise.resolve({ value: this.#batch[this.#index++], done: false });
    }
    return this.#nextBatch();
  }

  async #nextBatch(): Promise<IteratorResult<CaptureRecord, undefined>> {
    for (;;) {
      const r = await this.#batches.next();
      if (r.done) {
        this.#batch = [];
        this.#index = 0;
        return { value: undefined, done: true };
      }
      if (r.value.length === 0) continue;
      this.#batch = r.value;
      this.#index = 1;
      return { value: r.value[0], done: false };
    }
  }

  async return(): Promise<IteratorResult<CaptureRecord, undefined>> {
    this.#batch = [];
    await this.#batches.return([]);
    return { value: undefined, done: true };
  }

  async throw(e: unknown): Promise<IteratorResult<CaptureRecord, undefined>> {
    this.#batch = [];
    await this.#batches.return([]);
    throw e;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}

/**
 * Chunk size of {@link readCaptureFile}. 128 KiB measured ~20% less CPU per record (the bytes
 * are still in cache when parsed) but left the process holding ~50 MB more after reading,
 * which pushed the bench's flat-memory row towards its limit; 1 MiB keeps memory as it was.
 */
const FILE_CHUNK_BYTES = 1 << 20;

/**
 * Every this many chunks, a regular file's read is asynchronous: the event loop gets a turn.
 * V8 frees dead chunks promptly only when it does: every 8 MiB measured ~40 MB more peak memory
 * than every read, every 4 MiB the same as every read.
 */
const SYNC_CHUNKS_PER_TURN = 4;

/**
 * A file's bytes in fresh chunks (never reused, so records may be views of them).
 *
 * A regular file is read mostly synchronously: such a read never waits for long, and an
 * asynchronous one costs a hop to a thread pool and back (measured ~1.5-3x more CPU per record
 * on 1400-byte frames, and far more time on a busy machine, where each hop waits for the
 * scheduler). Every {@link SYNC_CHUNKS_PER_TURN}th read stays asynchronous, so timers and
 * sockets of the same program still run while a large file is read. Anything but a regular
 * file (a pipe, a device) is read asynchronously throughout, as it may block.
 */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const regular = (await file.stat()).isFile;
    for (let count = 1;; count++) {
      const sync = regular && count % SYNC_CHUNKS_PER_TURN !== 0;
      const chunk = new Uint8Array(FILE_CHUNK_BYTES);
      let n = 0;
      while (n < chunk.length) {
        const rest = chunk.subarray(n);
        const got = sync ? file.readSync(rest) : await file.read(rest);
        if (got === null) break;
        n += got;
      }
      if (n > 0) yield n === chunk.length ? chunk : chunk.subarray(0, n);
      if (n < chunk.length) return;
    }
  } finally {
    file.close();
  }
}

/**
 * Opens a file and reads it record by record; errors carry the path as `file`.
 *
 * @param path capture file
 * @param options record limit, callbacks (`file` defaults to `path`)
 * @returns records in file order
 * @throws CaptureFormatError / TruncatedCaptureError for bad content, Deno errors for I/O
 */
export function readCaptureFile(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<CaptureRecord> {
  return readCapture(fileChunks(path), { ...options, file: options.file ?? path });
}

/**
 * Opens a file and reads it in batches; errors carry the path as `file`.
 *
 * @param path capture file
 * @param options record limit, callbacks (`file` defaults to `path`)
 * @returns batches of records in file order
 * @throws CaptureFormatError / TruncatedCaptureError for bad content, Deno errors for I/O
 */
export function readCaptureFileBatches(
  path: string,
  options: ReadOptions = {},
): AsyncGenerator<CaptureRecord[]> {
  return readCaptureBatches(fileChunks(path), { ...options, file: options.file ?? path });
}
