/** Types shared by the pcap and pcapng codecs, readers and writers. */

/** Timestamp resolution of a file or interface. */
export type TsResolution = "us" | "ns";

/** Capture file format. */
export type CaptureFormat = "pcap" | "pcapng";

/**
 * Direction of a packet relative to the capturing host (pcapng `epb_flags`).
 * spicecap captures "at the client": client → server is outbound.
 */
export type PacketDirection = "inbound" | "outbound";

/** Link-layer header types (LINKTYPE_* numbers from the tcpdump registry). */
export const LINKTYPE: Readonly<{
  NULL: 0;
  ETHERNET: 1;
  RAW: 101;
  LOOP: 108;
  LINUX_SLL: 113;
  IPV4: 228;
  IPV6: 229;
  LINUX_SLL2: 276;
}> = Object.freeze(
  {
    NULL: 0,
    ETHERNET: 1,
    RAW: 101,
    LOOP: 108,
    LINUX_SLL: 113,
    IPV4: 228,
    IPV6: 229,
    LINUX_SLL2: 276,
  } as const,
);

/** One packet record as read from a capture file. */
export interface CaptureRecord {
  /** 1-based packet number in the file, as Wireshark numbers frames. */
  packetNumber: number;
  /** Byte offset of the record header (pcap) or block (pcapng) in the file. */
  offset: number;
  /** Timestamp in nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** Interface the packet was captured on (0 for classic pcap). */
  interfaceId: number;
  /** Link type of that interface. */
  linkType: number;
  /** Captured bytes: a view that the reader never overwrites. */
  data: Uint8Array;
  /** Length of the packet on the wire (may exceed `data.length`). */
  originalLength: number;
  /** pcapng direction flag, when present. */
  direction?: PacketDirection;
  /** pcapng `opt_comment`, when present. */
  comment?: string;
}

/** Description of one capture interface (pcapng IDB; classic pcap has one). */
export interface InterfaceInfo {
  /** Interface id: 0 for classic pcap; numbered across the file's sections for pcapng. */
  id: number;
  /** LINKTYPE_* of the interface's packets. */
  linkType: number;
  /** Bytes captured per packet at most. */
  snapLength: number;
  /** Timestamp resolution of the interface's records. */
  tsResolution: TsResolution;
  /** pcapng `if_name`. */
  name?: string;
  /** pcapng `if_description`. */
  description?: string;
  /** Raw pcapng `if_tsresol` byte (6 = µs, 9 = ns, bit 7 set = binary power), when read from pcapng. */
  tsresol?: number;
  /** 0-based pcapng section the interface belongs to, when read from pcapng. */
  section?: number;
}

/** A packet handed to a writer. */
export interface PacketToWrite {
  /** Timestamp in nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** Frame bytes; cut to the snap length when longer. */
  data: Uint8Array;
  /** Wire length; defaults to `data.length`. */
  originalLength?: number;
  /** pcapng interface id. @default 0 */
  interfaceId?: number;
  /** pcapng direction flag. */
  direction?: PacketDirection;
  /** pcapng `opt_comment`. */
  comment?: string;
}

/** Buffered writer of one capture file. */
export interface CaptureWriter {
  /** Which format the writer produces. */
  readonly format: CaptureFormat;
  /** Appends one packet to the buffer; never awaits. */
  write(packet: PacketToWrite): void;
  /** Bytes buffered and not yet handed to the sink. */
  readonly bufferedBytes: number;
  /** Hands buffered bytes to the sink and waits until it accepted them. */
  flush(): Promise<void>;
  /** Flushes, writes trailers (pcapng statistics) and closes the sink. Idempotent. */
  close(): Promise<void>;
}

/** Per-record facts of {@link InPlaceCaptureWriter.beginRecord}, all optional. */
export interface RecordInfo {
  /** Wire length; defaults to the frame length. */
  originalLength?: number;
  /** pcapng interface id. @default 0 */
  interfaceId?: number;
  /** pcapng direction flag. */
  direction?: PacketDirection;
  /** pcapng `opt_comment`. */
  comment?: string;
}

/**
 * A {@link CaptureWriter} that lets the caller build a frame straight into its buffer
 * (zero-copy): `beginRecord` writes the record header and returns where the frame goes in
 * `recordBytes`; the caller writes exactly `length` bytes there, then calls `commitRecord`,
 * with no other call on the writer in between. Time comes as whole seconds plus nanoseconds
 * (plain numbers), so the hot path needs no BigInt.
 *
 * @example
 * ```ts
 * const at = writer.beginRecord(1_700_000_000, 5_000, frameLength);
 * writeFrame(spec, payload, writer.recordBytes, at);
 * writer.commitRecord();
 * ```
 */
export interface InPlaceCaptureWriter extends CaptureWriter {
  /**
   * Starts a record of `length` frame bytes (cut to the snap length on commit).
   *
   * @param seconds whole seconds since the Unix epoch, an integer ≥ 0
   * @param nanoseconds nanoseconds within that second, an integer 0..999999999
   * @param length frame bytes the caller will write
   * @param info original length, interface, direction, comment
   * @returns offset in {@link InPlaceCaptureWriter.recordBytes} where the frame goes
   * @throws RangeError after close, while a record is open, or for a time the format cannot hold
   */
  beginRecord(seconds: number, nanoseconds: number, length: number, info?: RecordInfo): number;
  /** Buffer the offset of `beginRecord` refers to; read it after each `beginRecord`. */
  readonly recordBytes: Uint8Array;
  /** Ends the record begun last (writes trailers, counts it). */
  commitRecord(): void;
}

/** Malformed or truncated capture input. */
export class CaptureFormatError extends Error {
  /** Error name, for `instanceof`-free checks and messages. */
  override name = "CaptureFormatError";
  /** File name, when the input came from a file. */
  readonly file?: string;
  /** Absolute byte offset where the problem was found. */
  readonly offset: number;
  /** 1-based number of the packet being read, when known. */
  readonly packetNumber?: number;
  /** What the reader expected to find. */
  readonly expected: string;

  /**
   * Builds the message `file, packet N, byte O: expected`.
   *
   * @param expected what the reader expected to find, e.g. "a record header: need 16 bytes"
   * @param where the file, packet number and byte offset of the problem
   */
  constructor(
    expected: string,
    where: { offset: number; packetNumber?: number; file?: string },
  ) {
    const parts = [where.file, where.packetNumber ? `packet ${where.packetNumber}` : undefined]
      .filter((p) => p !== undefined);
    super(`${[...parts, `byte ${where.offset}`].join(", ")}: ${expected}`);
    this.offset = where.offset;
    this.packetNumber = where.packetNumber;
    this.file = where.file;
    this.expected = expected;
  }
}

/** The input ended inside a record; every complete record before it was delivered. */
export class TruncatedCaptureError extends CaptureFormatError {
  /** Error name. */
  override name = "TruncatedCaptureError";
}
