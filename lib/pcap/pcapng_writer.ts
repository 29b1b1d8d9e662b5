/** Buffered writer of pcapng files: SHB, one IDB per interface, EPBs, ISBs on close. */
import { ChunkBuffer } from "./_chunk_buffer.ts";
import {
  BLOCK_TRAILER_BYTES,
  BLOCK_TYPE,
  DIRECTION_FLAGS,
  encodeIdb,
  encodeIsb,
  encodeShb,
  EPB_FIXED_BYTES,
  OPTION,
  pad4,
} from "./pcapng_codec.ts";
import { copyInto } from "./pcap_writer.ts";
import {
  type CaptureFormat,
  type InPlaceCaptureWriter,
  LINKTYPE,
  type PacketDirection,
  type PacketToWrite,
  type RecordInfo,
} from "./types.ts";
import type { TsResolution } from "./types.ts";

/** One capture interface of a pcapng file (an IDB). */
export interface PcapngInterfaceOptions {
  /** `if_name`. */
  name?: string;
  /** `if_description`. */
  description?: string;
  /** LINKTYPE_* of the interface. @default 1 (Ethernet) */
  linkType?: number;
  /** Longest captured part stored per packet; longer frames are cut. @default 262144 */
  snapLength?: number;
  /** Written as `if_tsresol` 9 (ns) or 6 (µs). @default "ns" */
  tsResolution?: TsResolution;
}

/** Options of {@link PcapngWriter}. */
export interface PcapngWriterOptions {
  /**
   * Interfaces described up front. When omitted, one default interface (Ethernet, ns) is
   * created; pass `[]` to add every interface with {@link PcapngWriter.addInterface}.
   */
  interfaces?: PcapngInterfaceOptions[];
  /** `shb_userappl` of the section header. */
  application?: string;
  /** Byte order of the section. @default true */
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

interface InterfaceState {
  snapLength: number;
  /** Timestamp units per second: 1e9 (ns) or 1e6 (µs). */
  unitsPerSecond: number;
  received: number;
  dropped: bigint;
  /** Timestamp of the last packet: upper and lower 32 bits of its units. */
  lastHigh: number;
  lastLow: number;
}

const utf8 = new TextEncoder();
const TWO_32 = 0x1_0000_0000;
const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_SECOND_NUMBER = 1_000_000_000;
const MAX_UNITS = 1n << 64n;
/** `epb_flags` option: code, length 4, u32 value. */
const FLAGS_OPTION_BYTES = 8;
/** `opt_endofopt`. */
const END_OPTION_BYTES = 4;

/**
 * Writes a pcapng file into a `WritableStream`: a section header, one IDB per interface,
 * one EPB per packet (with `epb_flags` direction and `opt_comment` when given), and on close
 * one ISB per interface with `isb_ifrecv` and `isb_ifdrop`. `write()` never awaits.
 * {@link beginRecord} / {@link commitRecord} let a frame be built in place instead (see
 * {@link InPlaceCaptureWriter}).
 *
 * @example
 * ```ts
 * const w = new PcapngWriter(sink, { interfaces: [{ name: "main" }] });
 * w.write({ tsNs: 1_700_000_000_000_000_000n, data: frame, direction: "outbound" });
 * await w.close();
 * ```
 */
export class PcapngWriter implements InPlaceCaptureWriter {
  /** Always "pcapng". */
  readonly format: CaptureFormat = "pcapng";
  readonly #le: boolean;
  readonly #buf: ChunkBuffer;
  readonly #interfaces: InterfaceState[] = [];
  #closing: Promise<void> | undefined;
  // [#secBase, #secEnd): the whole second of the previous write(), in ns (empty at first)
  #secBase = 1n;
  #secEnd = 0n;
  #secNumber = 0;
  // Units of the start of second #tsSecond at #tsUnitsPerSecond, as upper/lower 32 bits.
  #tsSecond = -1;
  #tsUnitsPerSecond = 0;
  #tsHigh = 0;
  #tsLow = 0;
  // The record between beginRecord() and commitRecord(); #pTotal is 0 when none is open.
  #pTotal = 0;
  #pAt = 0;
  #pCap = 0;
  #pIface: InterfaceState | undefined;
  #pHigh = 0;
  #pLow = 0;
  #pDirection: PacketDirection | undefined;
  #pComment: Uint8Array | undefined;

  /**
   * Queues the SHB and the IDBs; they reach the sink with the first flush.
   *
   * @param sink destination, locked until close
   * @param options interfaces, application name, byte order
   */
  constructor(sink: WritableStream<Uint8Array>, options: PcapngWriterOptions = {}) {
    this.#le = options.littleEndian ?? true;
    this.#buf = new ChunkBuffer(sink, options.chunkBytes, options.recycleChunks);
    this.#buf.append(encodeShb({ littleEndian: this.#le, application: options.application }));
    for (const i of options.interfaces ?? [{}]) this.addInterface(i);
  }

  /** Bytes buffered or handed to the sink and not yet accepted. */
  get bufferedBytes(): number {
    return this.#buf.bufferedBytes;
  }

  /** Number of interfaces described so far. */
  get interfaceCount(): number {
    return this.#interfaces.length;
  }

  /**
   * Describes one more interface (writes its IDB).
   *
   * @param o name, description, link type, snap length, resolution
   * @returns the new interface id, for {@link PacketToWrite.interfaceId}
   */
  addInterface(o: PcapngInterfaceOptions = {}): number {
    if (this.#closing !== undefined) throw new RangeError("PcapngWriter is closed");
    const tsResolution = o.tsResolution ?? "ns";
    const snapLength = o.snapLength ?? 262_144;
    this.#buf.append(encodeIdb({
      linkType: o.linkType ?? LINKTYPE.ETHERNET,
      snapLength,
      tsResolution,
      name: o.name,
      description: o.description,
    }, this.#le));
    this.#interfaces.push({
      snapLength: snapLength === 0 ? Infinity : snapLength,
      unitsPerSecond: tsResolution === "ns" ? 1e9 : 1e6,
      received: 0,
      dropped: 0n,
      lastHigh: 0,
      lastLow: 0,
    });
    return this.#interfaces.length - 1;
  }

  /**
   * Sets the `isb_ifdrop` counter written for an interface on close.
   *
   * @param id interface id
   * @param dropped packets dropped on that interface
   */
  setInterfaceDrops(id: number, dropped: number | bigint): void {
    this.#iface(id).dropped = BigInt(dropped);
  }

  #iface(id: number): InterfaceState {
    const i = this.#interfaces[id];
    if (i === undefined) {
      throw new RangeError(`no interface ${id}; ${this.#interfaces.length} described`);
    }
    return i;
  }

  /**
   * Appends one EPB. The captured part is cut to the interface's snap length; the original
   * length stays the real frame length.
   *
   * @param packet timestamp, frame bytes (copied), interface, direction, comment
   * @throws RangeError after close, for an unknown interface or a negative timestamp
   */
  write(packet: PacketToWrite): void {
    const ts = packet.tsNs;
    if (ts < this.#secBase || ts >= this.#secEnd) {
      if (ts < 0n || ts >= MAX_UNITS * NS_PER_SECOND) {
        throw new RangeError(`timestamp ${ts} ns does not fit 64 bits of units`);
      }
      this.#secNumber = Number(ts / NS_PER_SECOND);
      this.#secBase = BigInt(this.#secNumber) * NS_PER_SECOND;
      this.#secEnd = this.#secBase + NS_PER_SECOND;
    }
    const data = packet.data;
    const iface = this.#iface(packet.interfaceId ?? 0);
    const cap = data.length > iface.snapLength ? iface.snapLength : data.length;
    const at = this.#begin(
      iface,
      packet.interfaceId ?? 0,
      this.#secNumber,
      Number(ts - this.#secBase),
      cap,
      packet.originalLength ?? data.length,
      packet.direction,
      packet.comment,
    );
    copyInto(this.#buf.bytes, at, data, cap);
    this.commitRecord();
  }

  // Hot path (per packet): positional parameters, no options object.
  /**
   * Zero-copy EPB: writes the block up to the packet data and returns where the caller builds
   * the frame in {@link recordBytes}; {@link commitRecord} then writes padding, options and
   * the trailing length. Bytes beyond the snap length are written by the caller but left out.
   *
   * @param seconds whole seconds since the epoch, an integer ≥ 0
   * @param nanoseconds within the second, 0..999999999 (floored to µs on a µs interface)
   * @param length frame bytes the caller writes
   * @param info original length, interface, direction, comment
   * @returns offset of the frame in {@link recordBytes}
   * @throws RangeError after close, while a record is open, for an unknown interface or a
   * time beyond 64 bits of units
   */
  beginRecord(seconds: number, nanoseconds: number, length: number, info?: RecordInfo): number {
    if (!Number.isSafeInteger(seconds) || seconds < 0) {
      throw new RangeError(`timestamp second ${seconds} must be an integer ≥ 0`);
    }
    if ((nanoseconds >>> 0) !== nanoseconds || nanoseconds >= NS_PER_SECOND_NUMBER) {
      throw new RangeError(`nanoseconds ${nanoseconds} must be an integer 0..999999999`);
    }
    const interfaceId = info?.interfaceId ?? 0;
    const iface = this.#iface(interfaceId);
    return this.#begin(
      iface,
      interfaceId,
      seconds,
      nanoseconds,
      length,
      info?.originalLength ?? length,
      info?.direction,
      info?.comment,
    );
  }

  /** Buffer that {@link beginRecord}'s offset refers to. */
  get recordBytes(): Uint8Array {
    return this.#buf.bytes;
  }

  // Hot path (per packet): positional parameters, no options object.
  #begin(
    iface: InterfaceState,
    interfaceId: number,
    seconds: number,
    nanoseconds: number,
    length: number,
    original: number,
    direction: PacketDirection | undefined,
    commentText: string | undefined,
  ): number {
    if (this.#closing !== undefined) throw new RangeError("PcapngWriter is closed");
    if (this.#pTotal !== 0) throw new RangeError("PcapngWriter: a record is still open");
    const perSecond = iface.unitsPerSecond;
    if (seconds !== this.#tsSecond || perSecond !== this.#tsUnitsPerSecond) {
      const units = BigInt(seconds) * BigInt(perSecond);
      if (units >= MAX_UNITS) {
        throw new RangeError(`timestamp second ${seconds} does not fit 64 bits of units`);
      }
      this.#tsHigh = Number(units >> 32n);
      this.#tsLow = Number(units & 0xffff_ffffn);
      this.#tsSecond = seconds;
      this.#tsUnitsPerSecond = perSecond;
    }
    let high = this.#tsHigh;
    let low = this.#tsLow +
      (perSecond === NS_PER_SECOND_NUMBER ? nanoseconds : Math.floor(nanoseconds / 1000));
    if (low >= TWO_32) {
      low -= TWO_32;
      if (++high >= TWO_32) {
        throw new RangeError(`timestamp second ${seconds} does not fit 64 bits of units`);
      }
    }
    const cap = length > iface.snapLength ? iface.snapLength : length;
    const comment = commentText === undefined ? undefined : utf8.encode(commentText);
    let optionBytes = 0;
    if (direction !== undefined) optionBytes += FLAGS_OPTION_BYTES;
    if (comment !== undefined) optionBytes += 4 + pad4(comment.length);
    if (optionBytes !== 0) optionBytes += END_OPTION_BYTES;
    const tail = optionBytes + BLOCK_TRAILER_BYTES;
    const total = EPB_FIXED_BYTES + pad4(cap) + tail;
    const buf = this.#buf;
    // Room for all `length` bytes the caller writes, even when the block keeps fewer.
    const at = buf.reserve(EPB_FIXED_BYTES + pad4(length) + tail);
    const v = buf.view;
    const le = this.#le;
    v.setUint32(at, BLOCK_TYPE.EPB, le);
    v.setUint32(at + 4, total, le);
    v.setUint32(at + 8, interfaceId, le);
    v.setUint32(at + 12, high, le);
    v.setUint32(at + 16, low, le);
    v.setUint32(at + 20, cap, le);
    v.setUint32(at + 24, original, le);
    this.#pTotal = total;
    this.#pAt = at;
    this.#pCap = cap;
    this.#pIface = iface;
    this.#pHigh = high;
    this.#pLow = low;
    this.#pDirection = direction;
    this.#pComment = comment;
    return at + EPB_FIXED_BYTES;
  }

  /**
   * Ends the record begun last: padding, options, trailing length.
   *
   * @throws RangeError when no record is open
   */
  commitRecord(): void {
    const total = this.#pTotal;
    if (total === 0) throw new RangeError("PcapngWriter.commitRecord() without beginRecord()");
    const buf = this.#buf;
    const v = buf.view;
    const bytes = buf.bytes;
    const le = this.#le;
    const at = this.#pAt;
    let o = at + EPB_FIXED_BYTES + this.#pCap;
    for (const end = at + EPB_FIXED_BYTES + pad4(this.#pCap); o < end; o++) bytes[o] = 0;
    const direction = this.#pDirection;
    const comment = this.#pComment;
    if (direction !== undefined) {
      v.setUint16(o, OPTION.EPB_FLAGS, le);
      v.setUint16(o + 2, 4, le);
      v.setUint32(o + 4, DIRECTION_FLAGS[direction], le);
      o += FLAGS_OPTION_BYTES;
    }
    if (comment !== undefined) {
      v.setUint16(o, OPTION.COMMENT, le);
      v.setUint16(o + 2, comment.length, le);
      bytes.set(comment, o + 4);
      o += 4 + comment.length;
      for (const end = o + pad4(comment.length) - comment.length; o < end; o++) bytes[o] = 0;
    }
    if (direction !== undefined || comment !== undefined) {
      v.setUint32(o, 0, le); // opt_endofopt
      o += END_OPTION_BYTES;
    }
    v.setUint32(o, total, le);
    buf.commit(total);
    const iface = this.#pIface!;
    iface.received++;
    iface.lastHigh = this.#pHigh;
    iface.lastLow = this.#pLow;
    this.#pTotal = 0;
    this.#pComment = undefined;
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
   * Writes one ISB per interface, flushes and closes the sink. A second call waits for the
   * first and resolves.
   *
   * @throws the sink's error when a write or the close failed (first call only)
   */
  close(): Promise<void> {
    if (this.#closing !== undefined) return this.#closing.catch(() => {});
    this.#interfaces.forEach((iface, interfaceId) => {
      this.#buf.append(encodeIsb({
        interfaceId,
        timestamp: (BigInt(iface.lastHigh) << 32n) + BigInt(iface.lastLow),
        received: BigInt(iface.received),
        dropped: iface.dropped,
      }, this.#le));
    });
    this.#closing = this.#buf.close();
    return this.#closing;
  }
}
