/**
 * The interfaces of a pcapng section as the reader keeps them: link type, snap length and
 * the conversion of their timestamps to nanoseconds.
 */
import { type DecodedIdb, tsresolToNs } from "./pcapng_codec.ts";

const NS_PER_SECOND = 1_000_000_000n;

/** An interface of the current section, with the last timestamp it converted. */
export interface Iface {
  id: number;
  linkType: number;
  snapLength: number;
  /** Units → ns is the identity (if_tsresol 9, no offset). */
  plainNs: boolean;
  mul: bigint;
  div: bigint;
  offsetNs: bigint;
  /** Upper 32 bits of the last timestamp, and their value in units. */
  lastHigh: number;
  lastHighUnits: bigint;
  /** Lower 32 bits and value of the last timestamp, reused by a packet with the same time. */
  lastLow: number;
  lastTsNs: bigint;
}

/**
 * The reader's view of an interface described by an IDB.
 *
 * @param id interface id, numbered across the file's sections
 * @param idb the decoded IDB
 * @returns the interface, with no timestamp converted yet
 */
export function newInterface(id: number, idb: DecodedIdb): Iface {
  const { mul, div } = tsresolToNs(idb.tsresol);
  const offsetNs = idb.tsOffsetSeconds * NS_PER_SECOND;
  return {
    id,
    linkType: idb.linkType,
    snapLength: idb.snapLength,
    plainNs: mul === 1n && div === 1n && offsetNs === 0n,
    mul,
    div,
    offsetNs,
    lastHigh: -1,
    lastHighUnits: 0n,
    lastLow: -1,
    lastTsNs: 0n,
  };
}

/**
 * Nanoseconds since the epoch of a timestamp in the interface's units. Packets of one time
 * share one BigInt, and the upper half's BigInt is kept while it does not change. (Splitting
 * decimal units into a Number second and fraction, as classic pcap records are read, measured
 * ~25% slower per record: the Number values pass 2^31 and convert to BigInt the slow way.)
 *
 * @param iface the packet's interface; its last timestamp is updated
 * @param high upper 32 bits of the timestamp
 * @param low lower 32 bits
 * @returns the time in ns, `if_tsoffset` included
 */
export function timestamp(iface: Iface, high: number, low: number): bigint {
  if (high !== iface.lastHigh) {
    iface.lastHigh = high;
    iface.lastHighUnits = BigInt(high) * 0x1_0000_0000n;
  } else if (low === iface.lastLow) return iface.lastTsNs;
  const units = iface.lastHighUnits + BigInt(low);
  iface.lastLow = low;
  iface.lastTsNs = iface.plainNs ? units : units * iface.mul / iface.div + iface.offsetNs;
  return iface.lastTsNs;
}
