/** Transport-layer decoding shared by the IPv4 and IPv6 paths of decode.ts (private). */
import { u16be, u32be } from "../bytes.ts";
import { checksumSum, foldChecksum } from "./checksum.ts";
import { type DecodedPacket, IP_PROTOCOL } from "./types.ts";

/** The problems of a packet that has none: shared and frozen, replaced at the first problem. */
export const NO_PROBLEMS: readonly string[] = Object.freeze([]);

/** Adds a problem to a decoded packet (its list is made at the first one: most have none). */
export function addProblem(p: DecodedPacket, problem: string): void {
  p.problems = p.problems === NO_PROBLEMS ? [problem] : [...p.problems, problem];
}

const TCP_MIN_HEADER = 20;
const UDP_HEADER_BYTES = 8;
const ICMP_HEADER_BYTES = 8;

function hex4(v: number): string {
  return "0x" + v.toString(16).padStart(4, "0");
}

/**
 * Adds "<what> checksum 0x…, expected 0x…" to the problems unless `sum` (over the data
 * including the checksum field `field`) folds to 0xffff.
 */
export function checksumProblem(
  p: DecodedPacket,
  what: string,
  sum: number,
  field: number,
): void {
  if (foldChecksum(sum) === 0xffff) return;
  const expected = ~foldChecksum(sum - field) & 0xffff;
  addProblem(p, `${what} checksum ${hex4(field)}, expected ${hex4(expected)}`);
}

/**
 * Decodes TCP, UDP, ICMP or ICMPv6 at `t` (up to `end`) into `p`; `pseudo` is the pseudo-header
 * sum used when `checkable`.
 */
export function decodeTransport(
  p: DecodedPacket,
  data: Uint8Array,
  t: number,
  end: number,
  checkable: boolean,
  pseudo: number,
  ipv6: boolean,
): void {
  const avail = end - t;
  const protocol = p.protocol;
  if (protocol === IP_PROTOCOL.TCP) {
    if (avail >= 4) {
      p.srcPort = u16be(data, t);
      p.dstPort = u16be(data, t + 2);
    }
    if (avail < TCP_MIN_HEADER) {
      addProblem(p, `TCP header needs ${TCP_MIN_HEADER} bytes, has ${avail}`);
      return;
    }
    const headerLength = (data[t + 12] >>> 4) * 4;
    p.tcp = {
      seq: u32be(data, t + 4),
      ack: u32be(data, t + 8),
      flags: data[t + 13],
      window: u16be(data, t + 14),
      headerLength,
    };
    if (headerLength < TCP_MIN_HEADER) {
      addProblem(p, `TCP header length ${headerLength} is below ${TCP_MIN_HEADER}`);
      return;
    }
    if (headerLength > avail) {
      addProblem(p, `TCP header length ${headerLength} exceeds segment ${avail}`);
      return;
    }
    p.payload = data.subarray(t + headerLength, end);
    if (checkable) {
      checksumProblem(p, "TCP", pseudo + checksumSum(data, t, end), u16be(data, t + 16));
    }
  } else if (protocol === IP_PROTOCOL.UDP) {
    if (avail < UDP_HEADER_BYTES) {
      addProblem(p, `UDP header needs ${UDP_HEADER_BYTES} bytes, has ${avail}`);
      return;
    }
    p.srcPort = u16be(data, t);
    p.dstPort = u16be(data, t + 2);
    const udpLength = u16be(data, t + 4);
    if (udpLength < UDP_HEADER_BYTES) {
      addProblem(p, `UDP length ${udpLength} is below ${UDP_HEADER_BYTES}`);
      return;
    }
    let udpEnd = t + udpLength;
    if (udpLength > avail) {
      if (p.truncated !== true) {
        addProblem(p, `UDP length ${udpLength} exceeds IP payload ${avail}`);
      }
      udpEnd = end;
      checkable = false;
    }
    p.payload = data.subarray(t + UDP_HEADER_BYTES, udpEnd);
    const field = u16be(data, t + 6);
    if (field === 0) {
      if (ipv6) addProblem(p, "UDP checksum 0x0000 (absent), required over IPv6");
    } else if (checkable) {
      // The pseudo header counted the IP payload length; UDP uses its own length field.
      const sum = pseudo - avail + udpLength + checksumSum(data, t, udpEnd);
      checksumProblem(p, "UDP", sum, field);
    }
  } else if (protocol === IP_PROTOCOL.ICMP || protocol === IP_PROTOCOL.ICMP6) {
    if (avail < 4) {
      addProblem(p, `ICMP header needs 4 bytes, has ${avail}`);
      return;
    }
    p.icmp = { type: data[t], code: data[t + 1] };
    p.payload = data.subarray(Math.min(t + ICMP_HEADER_BYTES, end), end);
    if (checkable) {
      const base = protocol === IP_PROTOCOL.ICMP6 ? pseudo : 0;
      const what = protocol === IP_PROTOCOL.ICMP6 ? "ICMPv6" : "ICMP";
      checksumProblem(p, what, base + checksumSum(data, t, end), u16be(data, t + 2));
    }
  } else {
    p.payload = data.subarray(t, end);
  }
}
