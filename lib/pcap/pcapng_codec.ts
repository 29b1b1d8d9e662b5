/**
 * pcapng: block and option constants, and the encode/decode of SHB, IDB, EPB, SPB, ISB and
 * option lists. Shared by {@link PcapngWriter} and the streaming reader.
 *
 * Every block is `type u32, total length u32, body, total length u32`, padded to 4 bytes;
 * the byte order is set per section by the SHB's byte-order magic.
 *
 * @module
 */
import type { PacketDirection, TsResolution } from "./types.ts";
import { concatBytes, u32be, u32le } from "../bytes.ts";

/** Block type numbers. */
export const BLOCK_TYPE: Readonly<
  Record<"SHB" | "IDB" | "PB" | "SPB" | "NRB" | "ISB" | "EPB" | "DSB", number>
> = Object.freeze(
  {
    SHB: 0x0a0d0d0a,
    IDB: 0x00000001,
    /** Obsolete Packet Block. */
    PB: 0x00000002,
    SPB: 0x00000003,
    NRB: 0x00000004,
    ISB: 0x00000005,
    EPB: 0x00000006,
    DSB: 0x0000000a,
  } as const,
);

/** SHB byte-order magic, as written in the section's byte order. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Section format version written and accepted (major). */
export const PCAPNG_VERSION_MAJOR = 1;
/** Section format version written (minor). */
export const PCAPNG_VERSION_MINOR = 0;
/** Type + leading length. */
export const BLOCK_HEADER_BYTES = 8;
/** Trailing length. */
export const BLOCK_TRAILER_BYTES = 4;
/** Smallest valid block: header + trailer. */
export const MIN_BLOCK_BYTES = 12;
/** SHB up to and including the byte-order magic (enough to learn the byte order). */
export const SHB_PREFIX_BYTES = 12;
/** EPB fixed part: header, interface id, timestamp (2 × u32), captured and original length. */
export const EPB_FIXED_BYTES = 28;
/** Obsolete PB fixed part: header, interface id u16, drops u16, timestamp, lengths. */
export const PB_FIXED_BYTES = 28;
/** SPB fixed part: header and original length. */
export const SPB_FIXED_BYTES = 12;

/** Option codes by scope (pcapng spec §3.5 and the per-block option tables). */
export const OPTION: Readonly<
  Record<
    | "ENDOFOPT"
    | "COMMENT"
    | "SHB_HARDWARE"
    | "SHB_OS"
    | "SHB_USERAPPL"
    | "IF_NAME"
    | "IF_DESCRIPTION"
    | "IF_TSRESOL"
    | "IF_TSOFFSET"
    | "EPB_FLAGS"
    | "ISB_STARTTIME"
    | "ISB_ENDTIME"
    | "ISB_IFRECV"
    | "ISB_IFDROP",
    number
  >
> = Object.freeze(
  {
    ENDOFOPT: 0,
    COMMENT: 1,
    SHB_HARDWARE: 2,
    SHB_OS: 3,
    SHB_USERAPPL: 4,
    IF_NAME: 2,
    IF_DESCRIPTION: 3,
    IF_TSRESOL: 9,
    IF_TSOFFSET: 14,
    EPB_FLAGS: 2,
    ISB_STARTTIME: 2,
    ISB_ENDTIME: 3,
    ISB_IFRECV: 4,
    ISB_IFDROP: 5,
  } as const,
);

/** `if_tsresol` byte per resolution we write. */
export const TSRESOL: Readonly<Record<TsResolution, number>> = Object.freeze({ us: 6, ns: 9 });

/** `epb_flags` bits 0-1 by direction. */
export const DIRECTION_FLAGS: Readonly<Record<PacketDirection, number>> = Object.freeze({
  inbound: 1,
  outbound: 2,
});

/** Packet direction by `epb_flags & 3` (0 = not known, 3 = invalid). */
export const FLAG_DIRECTIONS: ReadonlyMap<number, PacketDirection> = new Map([
  [1, "inbound"],
  [2, "outbound"],
]);

/** One option: code and raw value (a view when decoded). */
export interface PcapngOption {
  /** Option code (see {@link OPTION}). */
  code: number;
  /** Raw value, without padding. */
  value: Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * Rounds up to a multiple of 4.
 *
 * @param n byte count
 * @returns n padded to 32 bits
 */
export function pad4(n: number): number {
  return (n + 3) & ~3;
}

/**
 * Encodes an option list, with `opt_endofopt` when non-empty.
 *
 * @param options code/value pairs
 * @param littleEndian section byte order
 * @returns the padded option bytes (empty when there are no options)
 */
export function encodeOptions(options: PcapngOption[], littleEndian: boolean): Uint8Array {
  if (options.length === 0) return new Uint8Array(0);
  let size = 4;
  for (const o of options) size += 4 + pad4(o.value.length);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  let at = 0;
  for (const o of options) {
    v.setUint16(at, o.code, littleEndian);
    v.setUint16(at + 2, o.value.length, littleEndian);
    out.set(o.value, at + 4);
    at += 4 + pad4(o.value.length);
  }
  return out; // the final 4 zero bytes are opt_endofopt
}

/**
 * Decodes an option list. Stops at `opt_endofopt` or the end of `bytes`.
 *
 * @param bytes the options area of a block body
 * @param littleEndian section byte order
 * @returns the options (values are views into `bytes`) and, if malformed, what was wrong
 */
export function decodeOptions(
  bytes: Uint8Array,
  littleEndian: boolean,
): { options: PcapngOption[]; problem?: string; problemOffset?: number } {
  const options: PcapngOption[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 4 <= bytes.length) {
    const code = v.getUint16(at, littleEndian);
    const length = v.getUint16(at + 2, littleEndian);
    if (code === OPTION.ENDOFOPT) return { options };
    if (at + 4 + length > bytes.length) {
      return {
        options,
        problem: `option ${code} of ${length} bytes to fit in the ${bytes.length - at - 4} ` +
          "bytes left in its block",
        problemOffset: at,
      };
    }
    options.push({ code, value: bytes.subarray(at + 4, at + 4 + length) });
    at += 4 + pad4(length);
  }
  return { options };
}

/**
 * Wraps a body into a block: type, total length, body padded to 4, total length.
 *
 * @param type block type
 * @param body fixed fields followed by options
 * @param littleEndian section byte order
 * @returns the block bytes
 */
export function encodeBlock(type: number, body: Uint8Array, littleEndian: boolean): Uint8Array {
  const total = BLOCK_HEADER_BYTES + pad4(body.length) + BLOCK_TRAILER_BYTES;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, littleEndian);
  v.setUint32(4, total, littleEndian);
  out.set(body, BLOCK_HEADER_BYTES);
  v.setUint32(total - 4, total, littleEndian);
  return out;
}

function u64(n: bigint, le: boolean): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, n), le);
  return out;
}

/**
 * Encodes a Section Header Block with unknown section length (-1).
 *
 * @param fields byte order and the optional `shb_userappl` text
 * @returns the block bytes
 */
export function encodeShb(fields: { littleEndian: boolean; application?: string }): Uint8Array {
  const le = fields.littleEndian;
  const fixed = new Uint8Array(16);
  const v = new DataView(fixed.buffer);
  v.setUint32(0, BYTE_ORDER_MAGIC, le);
  v.setUint16(4, PCAPNG_VERSION_MAJOR, le);
  v.setUint16(6, PCAPNG_VERSION_MINOR, le);
  v.setBigInt64(8, -1n, le); // section length not specified
  const options = fields.application === undefined
    ? []
    : [{ code: OPTION.SHB_USERAPPL, value: utf8.encode(fields.application) }];
  return encodeBlock(BLOCK_TYPE.SHB, concatBytes([fixed, encodeOptions(options, le)]), le);
}

/** Fields of an Interface Description Block. */
export interface IdbFields {
  /** LINKTYPE_* of the interface. */
  linkType: number;
  /** Snap length (0 = none). */
  snapLength: number;
  /** Written as `if_tsresol`. */
  tsResolution: TsResolution;
  /** `if_name`. */
  name?: string;
  /** `if_description`. */
  description?: string;
}

/**
 * Encodes an Interface Description Block with `if_name`, `if_description`, `if_tsresol`.
 *
 * @param fields interface description
 * @param littleEndian section byte order
 * @returns the block bytes
 */
export function encodeIdb(fields: IdbFields, littleEndian: boolean): Uint8Array {
  const fixed = new Uint8Array(8);
  const v = new DataView(fixed.buffer);
  v.setUint16(0, fields.linkType, littleEndian);
  v.setUint16(2, 0, littleEndian); // reserved
  v.setUint32(4, fields.snapLength >>> 0, littleEndian);
  const options: PcapngOption[] = [];
  if (fields.name !== undefined) {
    options.push({ code: OPTION.IF_NAME, value: utf8.encode(fields.name) });
  }
  if (fields.description !== undefined) {
    options.push({ code: OPTION.IF_DESCRIPTION, value: utf8.encode(fields.description) });
  }
  options.push({
    code: OPTION.IF_TSRESOL,
    value: Uint8Array.of(TSRESOL[fields.tsResolution]),
  });
  return encodeBlock(
    BLOCK_TYPE.IDB,
    concatBytes([fixed, encodeOptions(options, littleEndian)]),
    littleEndian,
  );
}

/** Fields of an Interface Statistics Block. */
export interface IsbFields {
  /** Interface the statistics describe. */
  interfaceId: number;
  /** Timestamp in the interface's units (ns for `if_tsresol` 9). */
  timestamp: bigint;
  /** `isb_ifrecv`: packets received on the interface. */
  received: bigint;
  /** `isb_ifdrop`: packets dropped by the interface. */
  dropped: bigint;
}

/**
 * Encodes an Interface Statistics Block with `isb_ifrecv` and `isb_ifdrop`.
 *
 * @param fields interface id, timestamp and counters
 * @param littleEndian section byte order
 * @returns the block bytes
 */
export function encodeIsb(fields: IsbFields, littleEndian: boolean): Uint8Array {
  const fixed = new Uint8Array(12);
  const v = new DataView(fixed.buffer);
  v.setUint32(0, fields.interfaceId, littleEndian);
  v.setUint32(4, Number(BigInt.asUintN(64, fields.timestamp) >> 32n), littleEndian);
  v.setUint32(8, Number(BigInt.asUintN(32, fields.timestamp)), littleEndian);
  const options = [
    { code: OPTION.ISB_IFRECV, value: u64(fields.received, littleEndian) },
    { code: OPTION.ISB_IFDROP, value: u64(fields.dropped, littleEndian) },
  ];
  return encodeBlock(
    BLOCK_TYPE.ISB,
    concatBytes([fixed, encodeOptions(options, littleEndian)]),
    littleEndian,
  );
}

/** Decoded fixed part of an IDB plus its options. */
export interface DecodedIdb {
  /** LINKTYPE_* of the interface. */
  linkType: number;
  /** Snap length (0 = none). */
  snapLength: number;
  /** `if_name`, when present. */
  name?: string;
  /** `if_description`, when present. */
  description?: string;
  /** Raw `if_tsresol` byte (6 when absent). */
  tsresol: number;
  /** `if_tsoffset` in seconds (0 when absent). */
  tsOffsetSeconds: bigint;
}

const utf8Decoder = new TextDecoder();

/**
 * Decodes an IDB body (everything between the leading and trailing lengths).
 *
 * @param body block body
 * @param littleEndian section byte order
 * @returns the interface description, or a problem text
 */
export function decodeIdb(
  body: Uint8Array,
  littleEndian: boolean,
): DecodedIdb | { problem: string } {
  if (body.length < 8) return { problem: `an IDB body of at least 8 bytes, found ${body.length}` };
  const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const idb: DecodedIdb = {
    linkType: v.getUint16(0, littleEndian),
    snapLength: v.getUint32(4, littleEndian),
    tsresol: TSRESOL.us,
    tsOffsetSeconds: 0n,
  };
  const { options, problem } = decodeOptions(body.subarray(8), littleEndian);
  if (problem !== undefined) return { problem };
  for (const o of options) {
    if (o.code === OPTION.IF_NAME) idb.name = utf8Decoder.decode(o.value);
    else if (o.code === OPTION.IF_DESCRIPTION) idb.description = utf8Decoder.decode(o.value);
    else if (o.code === OPTION.IF_TSRESOL && o.value.length >= 1) idb.tsresol = o.value[0];
    else if (o.code === OPTION.IF_TSOFFSET && o.value.length >= 8) {
      idb.tsOffsetSeconds = new DataView(o.value.buffer, o.value.byteOffset, 8)
        .getBigInt64(0, littleEndian);
    }
  }
  return idb;
}

/**
 * How to turn timestamp units of an `if_tsresol` into nanoseconds: `units * mul / div`.
 * Bit 7 clear: 10^-n seconds; set: 2^-n seconds.
 *
 * @param tsresol raw option byte
 * @returns multiplier and divisor (one of them is 1n)
 */
export function tsresolToNs(tsresol: number): { mul: bigint; div: bigint } {
  const n = BigInt(tsresol & 0x7f);
  if ((tsresol & 0x80) !== 0) return { mul: 1_000_000_000n, div: 1n << n };
  return n <= 9n ? { mul: 10n ** (9n - n), div: 1n } : { mul: 1n, div: 10n ** (n - 9n) };
}

/**
 * The coarse resolution reported for an `if_tsresol` byte: "ns" when finer than 1 µs.
 *
 * @param tsresol raw option byte
 * @returns "us" or "ns"
 */
export function tsresolName(tsresol: number): TsResolution {
  const { mul, div } = tsresolToNs(tsresol);
  return mul >= 1000n && div === 1n ? "us" : "ns";
}

/**
 * Extracts `opt_comment` and the direction from EPB/PB options.
 *
 * @param options decoded options
 * @param littleEndian section byte order
 * @returns comment and direction when present
 */
export function packetOptions(
  options: PcapngOption[],
  littleEndian: boolean,
): { comment?: string; direction?: PacketDirection } {
  const out: { comment?: string; direction?: PacketDirection } = {};
  for (const o of options) {
    if (o.code === OPTION.COMMENT) out.comment = utf8Decoder.decode(o.value);
    else if (o.code === OPTION.EPB_FLAGS && o.value.length >= 4) {
      const flags = littleEndian ? u32le(o.value, 0) : u32be(o.value, 0);
      const d = FLAG_DIRECTIONS.get(flags & 3);
      if (d !== undefined) out.direction = d;
    }
  }
  return out;
}
