/** The timestamps each capture format can hold, checked before a record is written. */
import type { CaptureFormat, TsResolution } from "./types.ts";

const NS_PER_SECOND = 1_000_000_000n;

/**
 * One past the last timestamp, in ns since the epoch, a record can carry: classic pcap stores
 * whole seconds in 32 bits (up to 2106-02-07); pcapng stores 64 bits of the interface's units
 * (up to 2554-07-21 in nanoseconds).
 */
export const TIMESTAMP_END_NS: Readonly<Record<CaptureFormat, Record<TsResolution, bigint>>> =
  Object.freeze({
    pcap: { us: (1n << 32n) * NS_PER_SECOND, ns: (1n << 32n) * NS_PER_SECOND },
    pcapng: { us: (1n << 64n) * 1000n, ns: 1n << 64n },
  });

/** `YYYY-MM-DD` of a time in ns since the epoch. */
function day(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().slice(0, 10);
}

/** Where a timestamp is to be written. */
export interface TimestampTarget {
  /** The format it is to be written in. */
  format: CaptureFormat;
  /** The file's or interface's resolution. */
  resolution: TsResolution;
}

/**
 * Says what is wrong with a timestamp a writer of `format` could not hold.
 *
 * @param tsNs the record's time, ns since the epoch
 * @param target the format and resolution it is to be written in
 * @returns undefined when the time fits, else the "expected …, found …" text of an error
 * @example
 * ```ts
 * timestampProblem(5_000_000_000_000_000_000n, { format: "pcap", resolution: "ns" });
 * // "a timestamp a pcap file can hold (1970-01-01 to 2106-02-07), found 5000000000 s since 1970"
 * ```
 */
export function timestampProblem(tsNs: bigint, target: TimestampTarget): string | undefined {
  const { format, resolution } = target;
  const end = TIMESTAMP_END_NS[format][resolution];
  if (tsNs >= 0n && tsNs < end) return undefined;
  const seconds = tsNs / NS_PER_SECOND;
  return `a timestamp a ${format} file can hold (1970-01-01 to ${day(end - 1n)}), found ` +
    `${seconds} s since 1970${tsNs < 0n ? " (before 1970)" : ""}`;
}
