/**
 * Classic pcap: constants and the encode/decode of the file header and record header.
 * Shared by {@link PcapWriter} and the streaming reader, so each number lives here once.
 *
 * Layout (all fields in the byte order given by the magic):
 * file header  magic u32, version major u16 (2), minor u16 (4), thiszone i32, sigfigs u32,
 *              snaplen u32, linktype u32 (upper bits: FCS length, ignored)  = 24 bytes
 * record       ts_sec u32, ts_frac u32 (µs or ns), incl_len u32, orig_len u32 = 16 bytes
 *
 * @module
 */
import type { TsResolution } from "./types.ts";

/** Magic of a microsecond-resolution file, as written in the file's byte order. */
export const PCAP_MAGIC_US = 0xa1b2c3d4;
/** Magic of a nanosecond-resolution file. */
export const PCAP_MAGIC_NS = 0xa1b23c4d;
/** Size of the file header in bytes. */
export const PCAP_FILE_HEADER_BYTES = 24;
/** Size of a record header in bytes. */
export const PCAP_RECORD_HEADER_BYTES = 16;
/** File format version written and accepted (major). */
export const PCAP_VERSION_MAJOR = 2;
/** File format version written (minor). */
export const PCAP_VERSION_MINOR = 4;
/**
 * Largest snap length libpcap and Wireshark accept for ordinary link types; the reader
 * rejects records longer than `max(snapLength, PCAP_MAX_SNAPLEN)`.
 */
export const PCAP_MAX_SNAPLEN = 262_144;
/** Default snap length written by {@link PcapWriter}. */
export const PCAP_DEFAULT_SNAPLEN = 262_144;

/** Fraction units per second, by resolution. */
export const FRACTION_PER_SECOND: Readonly<Record<TsResolution, number>> = Object.freeze({
  us: 1_000_000,
  ns: 1_000_000_000,
});

/** Decoded classic pcap file header. */
export interface PcapFileHeader {
  /** Byte order of the file. */
  littleEndian: boolean;
  /** Resolution chosen by the magic. */
  tsResolution: TsResolution;
  /** Format version (major), 2. */
  versionMajor: number;
  /** Format version (minor), usually 4. */
  versionMinor: number;
  /** Snap length declared in the header. */
  snapLength: number;
  /** Link type (lower 16 bits of the field). */
  linkType: number;
}

/** Fields written into a pcap file header. */
export interface PcapFileHeaderFields {
  /** Byte order to write. */
  littleEndian: boolean;
  /** Selects the µs or ns magic. */
  tsResolution: TsResolution;
  /** Snap length to declare. */
  snapLength: number;
  /** LINKTYPE_* of every record. */
  linkType: number;
}

/**
 * Encodes the 24-byte file header.
 *
 * @param fields byte order, resolution, snap length and link type
 * @returns the header bytes
 */
export function encodePcapFileHeader(fields: PcapFileHeaderFields): Uint8Array {
  const out = new Uint8Array(PCAP_FILE_HEADER_BYTES);
  const v = new DataView(out.buffer);
  const le = fields.littleEndian;
  v.setUint32(0, fields.tsResolution === "ns" ? PCAP_MAGIC_NS : PCAP_MAGIC_US, le);
  v.setUint16(4, PCAP_VERSION_MAJOR, le);
  v.setUint16(6, PCAP_VERSION_MINOR, le);
  v.setInt32(8, 0, le); // thiszone: always UTC
  v.setUint32(12, 0, le); // sigfigs
  v.setUint32(16, fields.snapLength >>> 0, le);
  v.setUint32(20, fields.linkType >>> 0, le);
  return out;
}

/** Resolution and byte order of every accepted magic, keyed by the magic read big-endian. */
const MAGICS: ReadonlyMap<number, { littleEndian: boolean; tsResolution: TsResolution }> = new Map([
  [0xa1b2c3d4, { littleEndian: false, tsResolution: "us" }],
  [0xd4c3b2a1, { littleEndian: true, tsResolution: "us" }],
  [0xa1b23c4d, { littleEndian: false, tsResolution: "ns" }],
  [0x4d3cb2a1, { littleEndian: true, tsResolution: "ns" }],
]);

/**
 * Whether the first four bytes are one of the classic pcap magics (either order).
 *
 * @param first4BigEndian the first four bytes read as a big-endian u32
 * @returns true for a µs or ns magic in either byte order
 */
export function isPcapMagic(first4BigEndian: number): boolean {
  return MAGICS.has(first4BigEndian >>> 0);
}

/**
 * Decodes a file header; `undefined` when the magic is not a pcap magic.
 *
 * @param bytes at least {@link PCAP_FILE_HEADER_BYTES} bytes
 * @returns the header fields, or undefined for an unknown magic
 */
export function decodePcapFileHeader(bytes: Uint8Array): PcapFileHeader | undefined {
  const v = new DataView(bytes.buffer, bytes.byteOffset, PCAP_FILE_HEADER_BYTES);
  const kind = MAGICS.get(v.getUint32(0, false));
  if (kind === undefined) return undefined;
  const le = kind.littleEndian;
  return {
    littleEndian: le,
    tsResolution: kind.tsResolution,
    versionMajor: v.getUint16(4, le),
    versionMinor: v.getUint16(6, le),
    snapLength: v.getUint32(16, le),
    linkType: v.getUint32(20, le) & 0xffff,
  };
}
