/** Buffered writer of classic pcap files (µs or ns magic, either byte order). */
import { ChunkBuffer } from "./_chunk_buffer.ts";
import {
  encodePcapFileHeader,
  PCAP_DEFAULT_SNAPLEN,
  PCAP_RECORD_HEADER_BYTES,
} from "./pcap_codec.ts";
import {
  type CaptureFormat,
  type InPlaceCaptureWriter,
  LINKTYPE,
  type PacketToWrite,
  type RecordInfo,
} from "./types.ts";
import type { TsResolution } from "./types.ts";

/** Options of {@link PcapWriter}. */
export interface PcapWriterOptions {
  /** Timestamp resolution; selects the magic 0xa1b2c3d4 (µs) or 0xa1b23c4d (ns). @default "us" */
  tsResolution?: TsResolution;
  /** Longest captured part stored per record; longer frames are cut. @default 262144 */
  snapLength?: number;
  /** Link type of every record. @default 1 (Ethernet) */
  linkType?: number;
  /** Byte order of the file. @default true */
  littleEndian?: boolean;
  /** Chunk size and auto-flush threshold in bytes. @default 1048576 */
  chunkBytes?: number;
  /**
   * Reuse a chunk once the sink accepted it, instead of allocating a fresh one (faster:
   * fresh memory page-faults on first touch). Only for sinks that are done with a chunk when
   * its write resolves, such as a file's `writable`; never for sinks that keep chunks.
   * @default false
   */
  recycleChunks?: boolean;
}

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_SECOND_NUMBER = 1_000_000_000;

/**
 * Writes a classic pcap file into a `WritableStream`. `write()` copies the packet into a
 * buffer and never awaits; bytes reach the sink on {@link flush}, on {@link close}, and
 * whenever a 1 MiB chunk fills up. {@link beginRecord} / {@link commitRecord} let a frame be
 * built in place instead (see {@link InPlaceCaptureWriter}).
 *
 * @example
 * ```ts
 * const file = await Deno.open("out.pcap", { write: true, create: true, truncate: true });
 * const w = new PcapWriter(file.writable, { tsResolution: "ns" });
 * w.write({ tsNs: 1_700_000_000_000_000_000n, data: frame });
 * await w.close();
 * ```
 */
export class PcapWriter implements InPlaceCaptureWriter {
  /** Always "pcap". */
  readonly format: CaptureFormat = "pcap";
  /** Timestamp resolution of the file. */
  readonly tsResolution: TsResolution;
  /** Snap length written in the header and applied to each packet. */
  readonly snapLength: number;
  /** Link type written in the header. */
  readonly linkType: number;
  readonly #le: boolean;
  readonly #nanos: boolean;
  readonly #buf: ChunkBuffer;
  // [#secBase, #secEnd): the whole second of the previous packet, in ns (empty at first)
  #secBase = 1n;
  #secEnd = 0n;
  #secNumber = 0;
  #closing: Promise<void> | undefined;
  #packets = 0;
  /** Bytes to commit for the open record; 0 when none is open. */
  #pending = 0;

  /**
   * Queues the file header; it reaches the sink with the first flush.
   *
   * @param sink destination, locked until close
   * @param options resolution, snap length, link type, byte order
   */
  constructor(sink: WritableStream<Uint8Array>, options: PcapWriterOptions = {}) {
    this.tsResolution = options.tsResolution ?? "us";
    this.snapLength = options.snapLength ?? PCAP_DEFAULT_SNAPLEN;
    this.linkType = options.linkType ?? LINKTYPE.ETHERNET;
    if (!Number.isInteger(this.snapLength) || this.snapLength <= 0) {
      throw new RangeError(`snapLength must be a positive integer, got ${this.snapLength}`);
    }
    this.#le = options.littleEndian ?? true;
    this.#nanos = this.tsResolution === "ns";
    this.#buf = new ChunkBuffer(sink, options.chunkBytes, options.recycleChunks);
    this.#buf.append(encodePcapFileHeader({
      littleEndian: this.#le,
      tsResolution: this.tsResolution,
      snapLength: this.snapLength,
      linkType: this.linkType,
    }));
  }

  /** Bytes buffered or handed to the sink and not yet accepted. */
  get bufferedBytes(): number {
    return this.#buf.bufferedBytes;
  }

  /** Packets written so far. */
  get packetCount(): number {
    return this.#packets;
  }

  /**
   * Appends one record. The captured part is cut to the snap length; the record's original
   * length stays the real frame length. Timestamps before 1970 or after 2106 do not fit.
   *
   * @param packet timestamp and frame bytes (copied)
   * @throws RangeError after close, or for a timestamp outside the u32 seconds range
   */
  write(packet: PacketToWrite): void {
    const ts = packet.tsNs;
    if (ts < this.#secBase || ts >= this.#secEnd) {
      if (ts < 0n || ts >= 0x1_0000_0000n * NS_PER_SECOND) {
        throw new RangeError(`timestamp ${ts} ns does not fit a pcap record`);
      }
      this.#secNumber = Number(ts / NS_PER_SECOND);
      this.#secBase = BigInt(this.#secNumber) * NS_PER_SECOND;
      this.#secEnd = this.#secBase + NS_PER_SECOND;
    }
    const data = packet.data;
    const cap = data.length > this.snapLength ? this.snapLength : data.length;
    const at = this.#begin(
      this.#secNumber,
      Number(ts - this.#secBase),
      cap,
      packet.originalLength ?? data.length,
    );
    copyInto(this.#buf.bytes, at, data, cap);
    this.#buf.commit(PCAP_RECORD_HEADER_BYTES + cap);
    this.#pending = 0;
    this.#packets++;
  }

  // Hot path (per packet): positional parameters, no options object.
  /**
   * Zero-copy record: writes the record header and returns where the caller builds the frame
   * in {@link recordBytes}; then {@link commitRecord}. Bytes beyond the snap length are
   * written by the caller but left out of the file.
   *
   * @param seconds whole seconds since the epoch, 0..2^32-1
   * @param nanoseconds within the second, 0..999999999 (floored to µs for a µs file)
   * @param length frame bytes the caller writes
   * @param info original length (interface, direction and comment are pcapng-only, ignored)
   * @returns offset of the frame in {@link recordBytes}
   * @throws RangeError after close, while a record is open, or for an out-of-range time
   */
  beginRecord(seconds: number, nanoseconds: number, length: number, info?: RecordInfo): number {
    if ((seconds >>> 0) !== seconds) {
      throw new RangeError(`timestamp second ${seconds} does not fit a pcap record`);
    }
    if ((nanoseconds >>> 0) !== nanoseconds || nanoseconds >= NS_PER_SECOND_NUMBER) {
      throw new RangeError(`nanoseconds ${nanoseconds} must be an integer 0..999999999`);
    }
    return this.#begin(seconds, nanoseconds, length, info?.originalLength ?? length);
  }

  /** Buffer that {@link beginRecord}'s offset refers to. */
  get recordBytes(): Uint8Array {
    return this.#buf.bytes;
  }

  /**
   * Ends the record begun last.
   *
   * @throws RangeError when no record is open
   */
  commitRecord(): void {
    const n = this.#pending;
    if (n === 0) throw new RangeError("PcapWriter.commitRecord() without beginRecord()");
    this.#buf.commit(n);
    this.#pending = 0;
    this.#packets++;
  }

  // Hot path (per packet): positional parameters, no options object.
  #begin(seconds: number, nanoseconds: number, length: number, original: number): number {
    if (this.#closing !== undefined) throw new RangeError("PcapWriter is closed");
    if (this.#pending !== 0) throw new RangeError("PcapWriter: a record is still open");
    const cap = length > this.snapLength ? this.snapLength : length;
    const buf = this.#buf;
    const at = buf.reserve(PCAP_RECORD_HEADER_BYTES + length);
    const v = buf.view;
    const le = this.#le;
    v.setUint32(at, seconds, le);
    v.setUint32(at + 4, this.#nanos ? nanoseconds : Math.floor(nanoseconds / 1000), le);
    v.setUint32(at + 8, cap, le);
    v.setUint32(at + 12, original, le);
    this.#pending = PCAP_RECORD_HEADER_BYTES + cap;
    return at + PCAP_RECORD_HEADER_BYTES;
  }

  /**
   * Hands buffered bytes to the sink and waits until it accepted them.
   *
   * @throws the sink's error when a write failed
   */
  flush(): Promise<void> {
    return this.#buf.flush();
  }

  /**
   * Flushes and closes the sink. A second call waits for the first and resolves.
   *
   * @throws the sink's error when a write or the close failed (first call only)
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.catch(() => {});
    this.#closing = this.#buf.close();
    return this.#closing;
  }
}

// Hot path (per packet): positional parameters, no options object.
/**
 * Copies the first `n` bytes of `src` to `dst[at…]` with `set` (measured ~4× faster than a
 * byte loop even for 100-byte frames).
 *
 * @param dst destination
 * @param at offset in dst
 * @param src source
 * @param n bytes to copy (≤ src.length)
 */
export function copyInto(dst: Uint8Array, at: number, src: Uint8Array, n: number): void {
  if (n === src.length) dst.set(src, at);
  else dst.set(src.subarray(0, n), at);
}
