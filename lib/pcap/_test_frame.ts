/**
 * A small Ethernet + IPv4 + TCP frame builder with correct checksums, for the pcap tests and
 * the pcap bench when `lib/net/frame.ts` is not there. Not part of the pcap API: the
 * product builds frames with lib/net.
 */
import type { FrameSpec } from "../net/types.ts";

/** Ethernet 14 + IPv4 20 + TCP 20. */
export const TEST_FRAME_HEADER_BYTES = 54;

const CLIENT_MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);
const SERVER_MAC = Uint8Array.of(2, 0, 0, 0, 0, 2);

function sum16(bytes: Uint8Array, start: number, end: number, seed: number): number {
  let sum = seed;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/**
 * Writes one frame at `out[offset]`: Ethernet II, IPv4 (DF, no options), TCP (no options),
 * payload; IPv4 header checksum and TCP checksum (with pseudo header) computed.
 *
 * @param spec addresses, ports, seq/ack, flags
 * @param payload TCP payload
 * @param out destination with room for 54 + payload.length bytes
 * @param offset where the frame starts
 * @returns bytes written
 */
export function writeTestFrame(
  spec: FrameSpec,
  payload: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const o = offset;
  out.set(spec.dstMac ?? SERVER_MAC, o);
  out.set(spec.srcMac ?? CLIENT_MAC, o + 6);
  v.setUint16(o + 12, 0x0800);
  const ip = o + 14;
  const ipLength = 40 + payload.length;
  v.setUint8(ip, 0x45);
  v.setUint8(ip + 1, 0);
  v.setUint16(ip + 2, ipLength);
  v.setUint16(ip + 4, spec.ipId ?? 0);
  v.setUint16(ip + 6, 0x4000); // DF
  v.setUint8(ip + 8, spec.ttl ?? 64);
  v.setUint8(ip + 9, 6);
  v.setUint16(ip + 10, 0);
  v.setUint32(ip + 12, spec.srcIp >>> 0);
  v.setUint32(ip + 16, spec.dstIp >>> 0);
  v.setUint16(ip + 10, ~sum16(out, ip, ip + 20, 0) & 0xffff);
  const tcp = ip + 20;
  v.setUint16(tcp, spec.srcPort);
  v.setUint16(tcp + 2, spec.dstPort);
  v.setUint32(tcp + 4, spec.seq >>> 0);
  v.setUint32(tcp + 8, spec.ack >>> 0);
  v.setUint8(tcp + 12, 5 << 4);
  v.setUint8(tcp + 13, spec.flags);
  v.setUint16(tcp + 14, spec.window ?? 65535);
  v.setUint32(tcp + 16, 0); // checksum, urgent pointer
  out.set(payload, tcp + 20);
  const tcpLength = 20 + payload.length;
  const pseudo = sum16(out, ip + 12, ip + 20, 6 + tcpLength);
  v.setUint16(tcp + 16, ~sum16(out, tcp, tcp + tcpLength, pseudo) & 0xffff);
  return TEST_FRAME_HEADER_BYTES + payload.length;
}

/**
 * Builds one frame into a new array (see {@link writeTestFrame}).
 *
 * @param spec addresses, ports, seq/ack, flags
 * @param payload TCP payload
 * @returns the frame
 */
export function buildTestFrame(spec: FrameSpec, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(TEST_FRAME_HEADER_BYTES + payload.length);
  writeTestFrame(spec, payload, out, 0);
  return out;
}
