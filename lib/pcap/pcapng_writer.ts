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
import { type CaptureFormat, type CaptureWriter, LINKTYPE, type PacketToWrite } from "./types.ts";
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
}

interface InterfaceState {
  snapLength: number;
  /** 1 for ns units, 1000 for µs units. */
  divisor: bigint;
  received: number;
  dropped: bigint;
  lastUnits: bigint;
}

const utf8 = new TextEncoder();
const TWO_32 = 0x1_0000_0000n;
/** `epb_flags` option: code, length 4, u32 value. */
const FLAGS_OPTION_BYTES = 8;
/** `opt_endofopt`. */
const END_OPTION_BYTES = 4;

/**
 * Writes a pcapng file into a `WritableStream`: a section header, one IDB per interface,
 * one EPB per packet (with `epb_flags` direction and `opt_comment` when given), and on close
 * one ISB per interface with `isb_ifrecv` and `isb_ifdrop`. `write()` never awaits.
 *
 * @example
 * ```ts
 * const w = new PcapngWriter(sink, { interfaces: [{ name: "main" }] });
 * w.write({ tsNs: 1_700_000_000_000_000_000n, data: frame, direction: "outbound" });
 * await w.close();
 * ```
 */
export class PcapngWriter implements CaptureWriter {
  /** Always "pcapng". */
  readonly format: CaptureFormat = "pcapng";
  readonly #le: boolean;
  readonly #buf: ChunkBuffer;
  readonly #interfaces: InterfaceState[] = [];
  #closing: Promise<void> | undefined;
  // [#highBase, #highEnd): units sharing the upper 32 bits of the previous packet's timestamp
  #highBase = 1n;
  #highEnd = 0n;
  #high = 0;

  /**
   * Queues the SHB and the IDBs; they reach the sink with the first flush.
   *
   * @param sink destination, locked until close
   * @param options interfaces, application name, byte order
   */
  constructor(sink: WritableStream<Uint8Array>, options: PcapngWriterOptions = {}) {
    this.#le = options.littleEndian ?? true;
    this.#buf = new ChunkBuffer(sink, options.chunkBytes);
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
      divisor: tsResolution === "ns" ? 1n : 1000n,
      received: 0,
      dropped: 0n,
      lastUnits: 0n,
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
    if (this.#closing !== undefined) throw new RangeError("PcapngWriter is closed");
    const iface = this.#iface(packet.interfaceId ?? 0);
    const data = packet.data;
    let cap = data.length;
    if (cap > iface.snapLength) cap = iface.snapLength;
    const original = packet.originalLength ?? data.length;
    const units = iface.divisor === 1n ? packet.tsNs : packet.tsNs / iface.divisor;
    if (units < this.#highBase || units >= this.#highEnd) {
      if (units < 0n || units >= 1n << 64n) {
        throw new RangeError(`timestamp ${packet.tsNs} ns does not fit 64 bits of units`);
      }
      this.#high = Number(units >> 32n);
      this.#highBase = BigInt(this.#high) << 32n;
      this.#highEnd = this.#highBase + TWO_32;
    }
    const low = units - this.#highBase;
    const direction = packet.direction;
    const comment = packet.comment === undefined ? undefined : utf8.encode(packet.comment);
    let optionBytes = 0;
    if (direction !== undefined) optionBytes += FLAGS_OPTION_BYTES;
    if (comment !== undefined) optionBytes += 4 + pad4(comment.length);
    if (optionBytes !== 0) optionBytes += END_OPTION_BYTES;
    const dataBytes = pad4(cap);
    const total = EPB_FIXED_BYTES + dataBytes + optionBytes + BLOCK_TRAILER_BYTES;
    const buf = this.#buf;
    const at = buf.reserve(total);
    const v = buf.view;
    const bytes = buf.bytes;
    const le = this.#le;
    v.setUint32(at, BLOCK_TYPE.EPB, le);
    v.setUint32(at + 4, total, le);
    v.setUint32(at + 8, packet.interfaceId ?? 0, le);
    v.setUint32(at + 12, this.#high, le);
    v.setUint32(at + 16, Number(low), le);
    v.setUint32(at + 20, cap, le);
    v.setUint32(at + 24, original, le);
    copyInto(bytes, at + EPB_FIXED_BYTES, data, cap);
    let o = at + EPB_FIXED_BYTES + cap;
    for (const end = at + EPB_FIXED_BYTES + dataBytes; o < end; o++) bytes[o] = 0;
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
    if (optionBytes !== 0) {
      v.setUint32(o, 0, le); // opt_endofopt
      o += END_OPTION_BYTES;
    }
    v.setUint32(o, total, le);
    buf.commit(total);
    iface.received++;
    iface.lastUnits = units;
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
        timestamp: iface.lastUnits,
        received: BigInt(iface.received),
        dropped: iface.dropped,
      }, this.#le));
    });
    this.#closing = this.#buf.close();
    return this.#closing;
  }
}
