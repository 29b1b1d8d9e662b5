/**
 * Decoding captured frames down to the transport payload, for any link type spicecap reads.
 *
 * One pass, no copies: the payload is a view into the frame. Anything wrong (short headers,
 * lengths that disagree, bad checksums, fragments, unknown link types) becomes a line in
 * `problems`; decoding never throws.
 */
import { u16be, u32be, u32le } from "../bytes.ts";
import { addProblem, checksumProblem, decodeTransport, NO_PROBLEMS } from "./_transport.ts";
import { checksumSum } from "./checksum.ts";
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from "./frame.ts";
import { formatIpv6, numberToIpv4 } from "./ipv4.ts";
import type { DecodedPacket } from "./types.ts";

/** Options of {@link decodePacket}. */
export interface DecodeOptions {
  /** Verify the IPv4 header, TCP, UDP and ICMP checksums. @default false */
  verifyChecksums?: boolean;
  /**
   * Wire length of the frame (the capture record's original length). When it exceeds the
   * captured bytes the frame was cut by the snap length: the packet is marked `truncated`
   * without a problem, and payload checksums are not verified.
   */
  originalLength?: number;
}

/** Pseudo EtherType meaning "IP, version from the first nibble" (raw IP link types). */
const RAW_IP = 0x10000;
const VLAN_TAG_BYTES = 4;
const MAX_VLAN_TAGS = 2;
const VLAN_ETHERTYPES: ReadonlySet<number> = new Set([0x8100, 0x88a8, 0x9100]);

/** BSD loopback address families (NULL/LOOP link types) → EtherType. */
const LOOPBACK_FAMILIES: ReadonlyMap<number, number> = new Map([
  [2, ETHERTYPE_IPV4], // AF_INET everywhere
  [10, ETHERTYPE_IPV6], // Linux
  [24, ETHERTYPE_IPV6], // NetBSD, OpenBSD
  [28, ETHERTYPE_IPV6], // FreeBSD
  [30, ETHERTYPE_IPV6], // macOS
]);

interface LinkLayer {
  name: string;
  /** Link header bytes; the network layer starts here. */
  headerBytes: number;
  /** EtherType (or {@link RAW_IP}) of the network layer; called only with the header present. */
  etherType(data: Uint8Array): number;
}

function loopbackFamily(data: Uint8Array): number {
  // DLT_NULL stores the family in the capturing host's byte order (LOOP in network order);
  // families are small, so a big-endian value above 0xffff was written little-endian.
  const big = u32be(data, 0);
  const family = big > 0xffff ? u32le(data, 0) : big;
  return LOOPBACK_FAMILIES.get(family) ?? RAW_IP;
}

/** Link types (LINKTYPE_* numbers) → where the network layer starts and what it is. */
const LINK_LAYERS: ReadonlyMap<number, LinkLayer> = new Map<number, LinkLayer>([
  [0, { name: "NULL", headerBytes: 4, etherType: loopbackFamily }],
  // Ethernet II: destination, source, EtherType.
  [1, { name: "Ethernet", headerBytes: 14, etherType: (d) => u16be(d, 12) }],
  [101, { name: "raw IP", headerBytes: 0, etherType: () => RAW_IP }],
  [108, { name: "LOOP", headerBytes: 4, etherType: loopbackFamily }],
  // Linux cooked v1: packet type, ARPHRD, address length, 8 address bytes, protocol.
  [113, { name: "Linux SLL", headerBytes: 16, etherType: (d) => u16be(d, 14) }],
  [228, { name: "IPv4", headerBytes: 0, etherType: () => ETHERTYPE_IPV4 }],
  [229, { name: "IPv6", headerBytes: 0, etherType: () => ETHERTYPE_IPV6 }],
  // Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address.
  [276, { name: "Linux SLL2", headerBytes: 20, etherType: (d) => u16be(d, 0) }],
]);

const EMPTY = new Uint8Array(0);
const IPV6_HEADER_BYTES = 40;
const IPV6_FRAGMENT = 44;
const IPV6_AH = 51;
const IPV6_NO_NEXT = 59;
/** IPv6 extension headers skipped on the way to the transport header. */
const IPV6_EXTENSIONS: ReadonlySet<number> = new Set([0, 43, 44, 51, 60, 135, 139, 140]);
const MAX_IPV6_EXTENSIONS = 16;

/**
 * Decodes a captured frame of the given link type.
 *
 * Link types: Ethernet (1, with up to two 802.1Q/802.1ad tags), Linux SLL (113) and SLL2 (276),
 * raw IP (101, 228, 229), BSD loopback (0, 108). Network: IPv4 with options, IPv6 with hop-by-hop,
 * routing, fragment, destination-options, AH and mobility headers skipped. Transport: TCP
 * (options skipped), UDP, ICMP, ICMPv6.
 *
 * @param data the captured bytes
 * @param linkType LINKTYPE_* number of the capture interface
 * @param options checksum verification and wire length
 * @returns the decoded packet; problems listed, never thrown
 * @example
 * ```ts
 * const p = decodePacket(frame, 1, { verifyChecksums: true });
 * if (p.tcp && p.problems.length === 0) console.log(p.srcPort, p.tcp.seq, p.payload.length);
 * ```
 */
export function decodePacket(
  data: Uint8Array,
  linkType: number,
  options?: DecodeOptions,
): DecodedPacket {
  const p: DecodedPacket = {
    ipVersion: 0,
    srcIp: "",
    dstIp: "",
    protocol: -1,
    srcPort: 0,
    dstPort: 0,
    tcp: undefined,
    payload: EMPTY,
    problems: NO_PROBLEMS,
    srcIpNumber: undefined,
    dstIpNumber: undefined,
    ttl: undefined,
    ipId: undefined,
    ipLength: undefined,
    truncated: undefined,
    icmp: undefined,
  };
  decodeFields(p, data, linkType, options);
  return p;
}

/**
 * {@link decodePacket} into an existing packet object, every field reset first: for readers that
 * decode packet after packet and keep none of them (one object less per packet). The payload
 * is still a new view of `data`.
 *
 * Positional parameters, as decodePacket's: this runs for every packet.
 *
 * @param p the packet to overwrite
 */
export function decodeInto(
  p: DecodedPacket,
  data: Uint8Array,
  linkType: number,
  options?: DecodeOptions,
): void {
  p.ipVersion = 0;
  p.srcIp = "";
  p.dstIp = "";
  p.protocol = -1;
  p.srcPort = 0;
  p.dstPort = 0;
  p.tcp = undefined;
  p.payload = EMPTY;
  p.problems = NO_PROBLEMS;
  p.srcIpNumber = undefined;
  p.dstIpNumber = undefined;
  p.ttl = undefined;
  p.ipId = undefined;
  p.ipLength = undefined;
  p.truncated = undefined;
  p.icmp = undefined;
  decodeFields(p, data, linkType, options);
}

/** Decodes into a packet whose fields hold their initial values (see decodePacket's literal). */
function decodeFields(
  p: DecodedPacket,
  data: Uint8Array,
  linkType: number,
  options?: DecodeOptions,
): void {
  const link = LINK_LAYERS.get(linkType);
  if (link === undefined) {
    addProblem(p, `unsupported link type ${linkType}`);
    return;
  }
  if (data.length < link.headerBytes) {
    addProblem(p, `${link.name} header needs ${link.headerBytes} bytes, captured ${data.length}`);
    return;
  }
  let etherType = link.etherType(data);
  let n = link.headerBytes;
  for (let tags = 0; VLAN_ETHERTYPES.has(etherType); tags++) {
    if (tags === MAX_VLAN_TAGS) {
      addProblem(p, `more than ${MAX_VLAN_TAGS} VLAN tags`);
      return;
    }
    if (data.length < n + VLAN_TAG_BYTES) {
      addProblem(p, `VLAN tag needs ${VLAN_TAG_BYTES} bytes, captured ${data.length - n}`);
      return;
    }
    etherType = u16be(data, n + 2);
    n += VLAN_TAG_BYTES;
  }
  if (etherType === RAW_IP) {
    if (data.length <= n) {
      addProblem(p, "IP header missing");
      return;
    }
    const version = data[n] >>> 4;
    if (version === 4) etherType = ETHERTYPE_IPV4;
    else if (version === 6) etherType = ETHERTYPE_IPV6;
    else {
      addProblem(p, `unknown IP version ${version}`);
      return;
    }
  }
  const verify = options?.verifyChecksums === true;
  const originalLength = options?.originalLength;
  const snapCut = originalLength !== undefined && originalLength > data.length;
  if (etherType === ETHERTYPE_IPV4) decodeIpv4(p, data, n, verify, snapCut, originalLength);
  else if (etherType === ETHERTYPE_IPV6) decodeIpv6(p, data, n, verify, snapCut, originalLength);
  // Other EtherTypes (ARP, LLC, …) carry no IP: not a problem, just nothing to decode.
}

/**
 * Offset of the network-layer (IP) header in a captured frame: past the link header and up to
 * two VLAN tags, found as {@link decodePacket} finds it.
 *
 * @param data the captured bytes
 * @param linkType LINKTYPE_* number of the capture interface
 * @returns the offset, or -1 for an unsupported link type or a frame that ends before it
 */
export function networkOffset(data: Uint8Array, linkType: number): number {
  const link = LINK_LAYERS.get(linkType);
  if (link === undefined || data.length < link.headerBytes) return -1;
  let etherType = link.etherType(data);
  let n = link.headerBytes;
  for (let tags = 0; VLAN_ETHERTYPES.has(etherType); tags++) {
    if (tags === MAX_VLAN_TAGS || data.length < n + VLAN_TAG_BYTES) return -1;
    etherType = u16be(data, n + 2);
    n += VLAN_TAG_BYTES;
  }
  return n;
}

/** Records that the IP packet ends after the captured bytes; a problem unless the snap cut it. */
function noteTruncation(
  p: DecodedPacket,
  what: string,
  wireEnd: number,
  captured: number,
  snapCut: boolean,
  originalLength: number | undefined,
): void {
  p.truncated = true;
  if (!snapCut) addProblem(p, `${what} exceeds captured ${captured}`);
  else if (originalLength !== undefined && wireEnd > originalLength) {
    addProblem(p, `${what} exceeds the frame's wire length ${originalLength}`);
  }
}

/**
 * The texts of the last two IPv4 addresses formatted: a connection's packets name the same two,
 * and formatting allocates a string per address per packet (the diff bench's GC time).
 */
const recentIpv4 = { a: -1, aText: "", b: -1, bText: "" };

/** {@link numberToIpv4}, remembering the last two addresses. */
function ipv4Text(n: number): string {
  const r = recentIpv4;
  if (n === r.a) return r.aText;
  if (n === r.b) return r.bText;
  const text = numberToIpv4(n);
  r.b = r.a;
  r.bText = r.aText;
  r.a = n;
  r.aText = text;
  return text;
}

function decodeIpv4(
  p: DecodedPacket,
  data: Uint8Array,
  n: number,
  verify: boolean,
  snapCut: boolean,
  originalLength: number | undefined,
): void {
  const avail = data.length - n;
  if (avail < 20) {
    addProblem(p, `IPv4 header needs 20 bytes, captured ${avail}`);
    return;
  }
  const version = data[n] >>> 4;
  if (version !== 4) {
    addProblem(p, `IPv4 version field is ${version}`);
    return;
  }
  p.ipVersion = 4;
  const src = u32be(data, n + 12);
  const dst = u32be(data, n + 16);
  p.srcIpNumber = src;
  p.dstIpNumber = dst;
  p.srcIp = ipv4Text(src);
  p.dstIp = ipv4Text(dst);
  p.protocol = data[n + 9];
  p.ttl = data[n + 8];
  p.ipId = u16be(data, n + 4);
  const totalLength = u16be(data, n + 2);
  p.ipLength = totalLength;
  const ihl = (data[n] & 0x0f) * 4;
  if (ihl < 20) {
    addProblem(p, `IPv4 header length ${ihl} is below 20`);
    return;
  }
  if (ihl > avail) {
    addProblem(p, `IPv4 header length ${ihl} exceeds captured ${avail}`);
    return;
  }
  if (verify) checksumProblem(p, "IPv4 header", checksumSum(data, n, n + ihl), u16be(data, n + 10));
  if (totalLength < ihl) {
    addProblem(p, `IPv4 total length ${totalLength} is below its header length ${ihl}`);
    return;
  }
  let end = n + totalLength;
  if (totalLength > avail) {
    noteTruncation(p, `IPv4 total length ${totalLength}`, end, avail, snapCut, originalLength);
    end = data.length;
  }
  const fragment = u16be(data, n + 6);
  const fragmentOffset = (fragment & 0x1fff) * 8;
  const moreFragments = (fragment & 0x2000) !== 0;
  if (fragmentOffset !== 0 || moreFragments) {
    addProblem(
      p,
      `IPv4 fragment at offset ${fragmentOffset}${moreFragments ? ", more fragments follow" : ""}`,
    );
    if (fragmentOffset !== 0) {
      p.payload = data.subarray(n + ihl, end);
      return;
    }
  }
  const checkable = verify && p.truncated !== true && !moreFragments;
  const pseudo = checkable
    ? (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + p.protocol +
      (end - n - ihl)
    : 0;
  decodeTransport(p, data, n + ihl, end, checkable, pseudo, false);
}

function decodeIpv6(
  p: DecodedPacket,
  data: Uint8Array,
  n: number,
  verify: boolean,
  snapCut: boolean,
  originalLength: number | undefined,
): void {
  const avail = data.length - n;
  if (avail < IPV6_HEADER_BYTES) {
    addProblem(p, `IPv6 header needs ${IPV6_HEADER_BYTES} bytes, captured ${avail}`);
    return;
  }
  const version = data[n] >>> 4;
  if (version !== 6) {
    addProblem(p, `IPv6 version field is ${version}`);
    return;
  }
  p.ipVersion = 6;
  p.srcIp = formatIpv6(data, n + 8);
  p.dstIp = formatIpv6(data, n + 24);
  p.ttl = data[n + 7];
  const payloadLength = u16be(data, n + 4);
  p.ipLength = payloadLength + IPV6_HEADER_BYTES;
  let end = n + IPV6_HEADER_BYTES + payloadLength;
  if (end > data.length) {
    noteTruncation(
      p,
      `IPv6 payload length ${payloadLength}`,
      end,
      avail - IPV6_HEADER_BYTES,
      snapCut,
      originalLength,
    );
    end = data.length;
  }
  let next = data[n + 6];
  let t = n + IPV6_HEADER_BYTES;
  let fragmented = false;
  for (let i = 0; IPV6_EXTENSIONS.has(next); i++) {
    if (i === MAX_IPV6_EXTENSIONS || t + 8 > end) {
      p.protocol = next;
      addProblem(p, `IPv6 extension header ${next} exceeds the packet`);
      return;
    }
    let length = (data[t + 1] + 1) * 8;
    if (next === IPV6_AH) length = (data[t + 1] + 2) * 4;
    if (next === IPV6_FRAGMENT) {
      length = 8;
      const fragmentOffset = u16be(data, t + 2) & 0xfff8;
      const more = (data[t + 3] & 1) !== 0;
      addProblem(
        p,
        `IPv6 fragment at offset ${fragmentOffset}${more ? ", more fragments follow" : ""}`,
      );
      fragmented = true;
      if (fragmentOffset !== 0) {
        p.protocol = data[t];
        p.payload = data.subarray(t + 8, end);
        return;
      }
    }
    next = data[t];
    t += length;
  }
  p.protocol = next;
  if (t > end) {
    addProblem(p, `IPv6 extension headers exceed the packet`);
    return;
  }
  if (next === IPV6_NO_NEXT) return;
  const checkable = verify && p.truncated !== true && !fragmented;
  let pseudo = 0;
  if (checkable) {
    pseudo = checksumSum(data, n + 8, n + IPV6_HEADER_BYTES) + next + (end - t);
  }
  decodeTransport(p, data, t, end, checkable, pseudo, true);
}
