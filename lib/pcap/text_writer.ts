/** tcpdump-like text lines for decoded packets (`inspect`, `capture --text`). */
import { IP_PROTOCOL, TCP_FLAGS } from "../net/types.ts";
import type { DecodedPacket } from "../net/types.ts";
import { type CaptureRecord, LINKTYPE } from "./types.ts";

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

/** Link header length before the IP header, by link type (Ethernet handled apart). */
const LINK_HEADER_BYTES: ReadonlyMap<number, number> = new Map([
  [LINKTYPE.NULL, 4],
  [LINKTYPE.LOOP, 4],
  [LINKTYPE.RAW, 0],
  [LINKTYPE.IPV4, 0],
  [LINKTYPE.IPV6, 0],
  [LINKTYPE.LINUX_SLL, 16],
  [LINKTYPE.LINUX_SLL2, 20],
]);

const ETHERNET_HEADER_BYTES = 14;
const VLAN_TAG_BYTES = 4;
const VLAN_ETHERTYPES: ReadonlySet<number> = new Set([0x8100, 0x88a8]);
const ASCII_LINE_CHARS = 64;
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
  record: CaptureRecord,
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

/** Offset of the IP header in the record's bytes, or -1 when unknown. */
function ipOffset(record: CaptureRecord): number {
  const fixed = LINK_HEADER_BYTES.get(record.linkType);
  if (fixed !== undefined) return fixed;
  if (record.linkType !== LINKTYPE.ETHERNET) return -1;
  const d = record.data;
  let at = ETHERNET_HEADER_BYTES;
  while (at <= d.length && VLAN_ETHERTYPES.has((d[at - 2] << 8) | d[at - 1])) {
    at += VLAN_TAG_BYTES;
  }
  return at;
}

/** Ones' complement sum of 16-bit big-endian words, folded (not inverted). */
function onesComplementSum(bytes: Uint8Array, start: number, end: number, seed = 0): number {
  let sum = seed;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * Checksum state in tcpdump's words. `sumWithoutField` is the ones' complement sum of the
 * covered bytes with the checksum field left out.
 */
function checksumText(stored: number, sumWithoutField: number): string {
  const h = (n: number) => `0x${n.toString(16).padStart(4, "0")}`;
  const expected = ~sumWithoutField & 0xffff;
  return stored === expected
    ? `${h(stored)} (correct)`
    : `${h(stored)} (incorrect -> ${h(expected)})`;
}

/** Sum of `[start, end)` without the 16-bit field at `field`. */
function sumWithout(bytes: Uint8Array, start: number, end: number, field: number, seed = 0) {
  return onesComplementSum(bytes, field + 2, end, onesComplementSum(bytes, start, field, seed));
}

/** IP header details for verbose output, and the TCP checksum state when checkable. */
function ipDetails(
  record: CaptureRecord,
  decoded: DecodedPacket,
): { text: string; tcpChecksum?: string } {
  const d = record.data;
  const at = ipOffset(record);
  const v = new DataView(d.buffer, d.byteOffset, d.byteLength);
  const name = PROTOCOL_NAMES.get(decoded.protocol) ?? "unknown";
  const proto = `${name} (${decoded.protocol})`;
  if (at < 0 || at + 20 > d.length) return { text: `proto ${proto}, header not captured` };
  if (decoded.ipVersion === 6) {
    if (at + 40 > d.length) return { text: `next-header ${proto}, header not captured` };
    return {
      text: `hlim ${d[at + 7]}, next-header ${proto} payload length: ${v.getUint16(at + 4)}`,
    };
  }
  const ihl = (d[at] & 0x0f) * 4;
  const totalLength = v.getUint16(at + 2);
  const fragment = v.getUint16(at + 6);
  const flags = [(fragment & 0x4000) !== 0 ? "DF" : "", (fragment & 0x2000) !== 0 ? "+" : ""]
    .filter((f) => f !== "").join("");
  const ipSum = sumWithout(d, at, Math.min(at + ihl, d.length), at + 10);
  const text = `tos 0x${d[at + 1].toString(16)}, ttl ${d[at + 8]}, id ${v.getUint16(at + 4)}, ` +
    `offset ${(fragment & 0x1fff) * 8}, flags [${flags || "none"}], proto ${proto}, ` +
    `length ${totalLength}, cksum ${checksumText(v.getUint16(at + 10), ipSum)}`;
  const tcpStart = at + ihl;
  const tcpEnd = at + totalLength;
  if (decoded.tcp === undefined || tcpEnd > d.length || tcpStart + 20 > tcpEnd) {
    return { text, tcpChecksum: decoded.tcp === undefined ? undefined : "(unverified)" };
  }
  const pseudo = onesComplementSum(d, at + 12, at + 20) + IP_PROTOCOL.TCP + (tcpEnd - tcpStart);
  const tcpSum = sumWithout(d, tcpStart, tcpEnd, tcpStart + 16, pseudo);
  return { text, tcpChecksum: checksumText(v.getUint16(tcpStart + 16), tcpSum) };
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
