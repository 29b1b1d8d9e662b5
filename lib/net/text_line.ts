/** tcpdump-like lines for decoded packets (`inspect`), with their clock and ASCII helpers. */
import { u16be } from "../bytes.ts";
import { checksumSum, foldChecksum } from "./checksum.ts";
import { networkOffset } from "./decode.ts";
import { IPV4_HEADER_BYTES, TCP_HEADER_BYTES } from "./frame.ts";
import { type DecodedPacket, IP_PROTOCOL, TCP_FLAGS } from "./types.ts";

/**
 * What a text line shows of a captured record: its time, link type, bytes and wire length. A
 * capture reader's record has all of them.
 */
export interface TextLineRecord {
  /** Timestamp in nanoseconds since the Unix epoch. */
  tsNs: bigint;
  /** LINKTYPE_* number of the interface the packet was captured on. */
  linkType: number;
  /** Captured bytes (verbose output reads the IP and TCP headers from them). */
  data: Uint8Array;
  /** Length of the packet on the wire. */
  originalLength: number;
}

/** Options of {@link formatTextLine}. */
export interface TextLineOptions {
  /** Add IP header details and checksum state (tcpdump -v). @default false */
  verbose?: boolean;
  /** Add the transport payload as printable ASCII lines (tcpdump -A). @default false */
  ascii?: boolean;
  /** Print times relative to this timestamp (ns) instead of UTC time of day. */
  relativeToNs?: bigint;
}

/** tcpdump's flag letters, in its bit order: F S R P . U (ECE, CWR as E, W). */
const FLAG_LETTERS: ReadonlyArray<readonly [number, string]> = Object.freeze([
  [TCP_FLAGS.FIN, "F"],
  [TCP_FLAGS.SYN, "S"],
  [TCP_FLAGS.RST, "R"],
  [TCP_FLAGS.PSH, "P"],
  [TCP_FLAGS.ACK, "."],
  [TCP_FLAGS.URG, "U"],
  [0x40, "E"],
  [0x80, "W"],
]);

/** Protocol names printed after the addresses for non-TCP transports. */
const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [IP_PROTOCOL.TCP, "TCP"],
  [IP_PROTOCOL.UDP, "UDP"],
  [IP_PROTOCOL.ICMP, "ICMP"],
  [IP_PROTOCOL.ICMP6, "ICMP6"],
]);

const ASCII_LINE_CHARS = 64;
const IPV6_HEADER_BYTES = 40;
/** Offsets in the IPv4 header: checksum, then source and destination addresses. */
const IPV4_CHECKSUM = 10;
const IPV4_ADDRESSES = 12;
/** Offset of the checksum in the TCP header. */
const TCP_CHECKSUM = 16;
const NS_PER_SECOND = 1_000_000_000n;

/**
 * Formats one packet as tcpdump does (absolute sequence numbers, as with `tcpdump -S`):
 * `12:00:00.000001 IP 10.0.0.1.10001 > 10.0.0.2.5930: Flags [P.], seq 1:101, ack 1, win
 * 65535, length 100`. Verbose and ASCII output add lines; no trailing newline.
 *
 * @param record the captured record (time, link type, bytes for verbose details)
 * @param decoded the packet decoded by `decodePacket`
 * @param options verbose, ascii, relative time origin
 * @returns one or more lines joined by "\n"
 */
export function formatTextLine(
  record: TextLineRecord,
  decoded: DecodedPacket,
  options: TextLineOptions = {},
): string {
  const time = options.relativeToNs === undefined
    ? formatClock(record.tsNs)
    : formatClock(record.tsNs - options.relativeToNs);
  const problems = decoded.problems.length > 0 ? ` [${decoded.problems.join("; ")}]` : "";
  if (decoded.ipVersion === 0) {
    return `${time} link type ${record.linkType}, length ${record.originalLength}${problems}`;
  }
  const ip = decoded.ipVersion === 4 ? "IP" : "IP6";
  const ports = decoded.protocol === IP_PROTOCOL.TCP || decoded.protocol === IP_PROTOCOL.UDP;
  const src = ports ? `${decoded.srcIp}.${decoded.srcPort}` : decoded.srcIp;
  const dst = ports ? `${decoded.dstIp}.${decoded.dstPort}` : decoded.dstIp;
  const header = options.verbose ? ipDetails(record, decoded) : undefined;
  const transport = decoded.tcp !== undefined
    ? tcpText(decoded, header?.tcpChecksum)
    : `${
      PROTOCOL_NAMES.get(decoded.protocol) ?? `ip-proto-${decoded.protocol}`
    }, length ${decoded.payload.length}`;
  const lines = header === undefined
    ? [`${time} ${ip} ${src} > ${dst}: ${transport}${problems}`]
    : [`${time} ${ip} (${header.text})`, `    ${src} > ${dst}: ${transport}${problems}`];
  if (options.ascii) lines.push(...asciiLines(decoded.payload));
  return lines.join("\n");
}

/**
 * `HH:MM:SS.ffffff` of a time of day (UTC) or of a duration; negative durations get "-".
 *
 * @param ns nanoseconds since the epoch, or a duration
 * @returns the clock text, hours not wrapped for durations over a day
 */
export function formatClock(ns: bigint): string {
  const sign = ns < 0n ? "-" : "";
  const abs = ns < 0n ? -ns : ns;
  const seconds = abs / NS_PER_SECOND;
  const micros = Number((abs % NS_PER_SECOND) / 1000n);
  const ofDay = Number(sign === "" ? seconds % 86_400n : seconds);
  const hh = Math.floor(ofDay / 3600);
  const mm = Math.floor((ofDay % 3600) / 60);
  const ss = ofDay % 60;
  return `${sign}${pad(hh, 2)}:${pad(mm, 2)}:${pad(ss, 2)}.${pad(micros, 6)}`;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

function tcpFlags(flags: number): string {
  return FLAG_LETTERS.filter(([bit]) => (flags & bit) !== 0).map(([, l]) => l).join("") ||
    "none";
}

function tcpText(decoded: DecodedPacket, checksum: string | undefined): string {
  const tcp = decoded.tcp!;
  const length = decoded.payload.length;
  const parts = [`Flags [${tcpFlags(tcp.flags)}]`];
  if (checksum !== undefined) parts.push(`cksum ${checksum}`);
  if (length > 0 || (tcp.flags & (TCP_FLAGS.SYN | TCP_FLAGS.FIN | TCP_FLAGS.RST)) !== 0) {
    parts.push(length > 0 ? `seq ${tcp.seq}:${(tcp.seq + length) >>> 0}` : `seq ${tcp.seq}`);
  }
  if ((tcp.flags & TCP_FLAGS.ACK) !== 0) parts.push(`ack ${tcp.ack}`);
  parts.push(`win ${tcp.window}`, `length ${length}`);
  return parts.join(", ");
}

/**
 * Checksum state in tcpdump's words. `sum` is the plain sum (see `checksumSum`) of the covered
 * bytes, pseudo header included, with the checksum field left out.
 */
function checksumText(stored: number, sum: number): string {
  const h = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;
  const expected = ~foldChecksum(sum) & 0xffff;
  return stored === expected
    ? `${h(stored)} (correct)`
    : `${h(stored)} (incorrect -> ${h(expected)})`;
}

/** Plain sum of `bytes[start, end)` without the 16-bit field at `field` (an even distance in). */
function sumWithout(bytes: Uint8Array, start: number, end: number, field: number): number {
  const sum = checksumSum(bytes, start, end);
  return field + 2 <= end ? sum - u16be(bytes, field) : sum;
}

/** IP header details for verbose output, and the TCP checksum state when checkable. */
function ipDetails(
  record: TextLineRecord,
  decoded: DecodedPacket,
): { text: string; tcpChecksum?: string } {
  const d = record.data;
  const at = networkOffset(d, record.linkType);
  const name = PROTOCOL_NAMES.get(decoded.protocol) ?? "unknown";
  const proto = `${name} (${decoded.protocol})`;
  if (at < 0 || at + IPV4_HEADER_BYTES > d.length) {
    return { text: `proto ${proto}, header not captured` };
  }
  if (decoded.ipVersion === 6) {
    if (at + IPV6_HEADER_BYTES > d.length) {
      return { text: `next-header ${proto}, header not captured` };
    }
    return {
      text: `hlim ${d[at + 7]}, next-header ${proto} payload length: ${u16be(d, at + 4)}`,
    };
  }
  const ihl = (d[at] & 0x0f) * 4;
  const totalLength = u16be(d, at + 2);
  const fragment = u16be(d, at + 6);
  const flags = [(fragment & 0x4000) !== 0 ? "DF" : "", (fragment & 0x2000) !== 0 ? "+" : ""]
    .filter((f) => f !== "").join("");
  const ipSum = sumWithout(d, at, Math.min(at + ihl, d.length), at + IPV4_CHECKSUM);
  const text = `tos 0x${d[at + 1].toString(16)}, ttl ${d[at + 8]}, id ${u16be(d, at + 4)}, ` +
    `offset ${(fragment & 0x1fff) * 8}, flags [${flags || "none"}], proto ${proto}, ` +
    `length ${totalLength}, cksum ${checksumText(u16be(d, at + IPV4_CHECKSUM), ipSum)}`;
  const tcpStart = at + ihl;
  const tcpEnd = at + totalLength;
  if (decoded.tcp === undefined || tcpEnd > d.length || tcpStart + TCP_HEADER_BYTES > tcpEnd) {
    return { text, tcpChecksum: decoded.tcp === undefined ? undefined : "(unverified)" };
  }
  const pseudo = checksumSum(d, at + IPV4_ADDRESSES, at + IPV4_HEADER_BYTES) + IP_PROTOCOL.TCP +
    (tcpEnd - tcpStart);
  const tcpSum = pseudo + sumWithout(d, tcpStart, tcpEnd, tcpStart + TCP_CHECKSUM);
  return { text, tcpChecksum: checksumText(u16be(d, tcpStart + TCP_CHECKSUM), tcpSum) };
}

/**
 * Payload as printable ASCII, non-printable bytes as ".", 64 characters per line.
 *
 * @param payload transport payload
 * @returns lines (none for an empty payload)
 */
export function asciiLines(payload: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < payload.length; i += ASCII_LINE_CHARS) {
    let line = "";
    const end = Math.min(i + ASCII_LINE_CHARS, payload.length);
    for (let j = i; j < end; j++) {
      const c = payload[j];
      line += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".";
    }
    lines.push(line);
  }
  return lines;
}
