import assert from "node:assert/strict";
import { concatBytes } from "../bytes.ts";
import { decodePacket } from "./decode.ts";
import type { DecodedPacket } from "./types.ts";
import { buildFrame } from "./frame.ts";
import { asciiLines, formatClock, formatTextLine, type TextLineRecord } from "./text_line.ts";

/** 2023-11-14 22:13:20.123456789 UTC. */
const T = 1_700_000_000_123_456_789n;
const PAYLOAD = new TextEncoder().encode("REDQ\x02\x00hello\n");

function tcpCase(flags: number, payload = PAYLOAD) {
  const data = buildFrame({
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 10001,
    dstPort: 5930,
    seq: 1000,
    ack: 2000,
    flags,
    ipId: 7,
  }, payload);
  const record: TextLineRecord = { tsNs: T, linkType: 1, data, originalLength: data.length };
  const decoded: DecodedPacket = {
    ipVersion: 4,
    srcIp: "10.0.0.1",
    dstIp: "10.0.0.2",
    protocol: 6,
    srcPort: 10001,
    dstPort: 5930,
    tcp: { seq: 1000, ack: 2000, flags, window: 65535, headerLength: 20 },
    payload: data.subarray(54),
    problems: [],
  };
  return { record, decoded };
}

Deno.test("formatTextLine() prints a tcpdump-like TCP line", () => {
  const { record, decoded } = tcpCase(0x18);
  assert.equal(
    formatTextLine(record, decoded),
    "22:13:20.123456 IP 10.0.0.1.10001 > 10.0.0.2.5930: Flags [P.], seq 1000:1012, ack 2000, " +
      "win 65535, length 12",
  );
});

Deno.test("formatTextLine() prints SYN, SYN-ACK and pure ACK like tcpdump", () => {
  const empty = new Uint8Array(0);
  const line = (flags: number) => {
    const { record, decoded } = tcpCase(flags, empty);
    return formatTextLine(record, decoded).split(": ")[1];
  };
  assert.equal(line(0x02), "Flags [S], seq 1000, win 65535, length 0");
  assert.equal(line(0x12), "Flags [S.], seq 1000, ack 2000, win 65535, length 0");
  assert.equal(line(0x10), "Flags [.], ack 2000, win 65535, length 0");
  assert.equal(line(0x11), "Flags [F.], seq 1000, ack 2000, win 65535, length 0");
});

Deno.test("formatTextLine() prints times relative to a start", () => {
  const { record, decoded } = tcpCase(0x18);
  const line = formatTextLine(record, decoded, { relativeToNs: T - 3_723_000_001_000n });
  assert.ok(line.startsWith("01:02:03.000001 IP "), line);
  assert.equal(formatClock(-1_500n), "-00:00:00.000001");
});

Deno.test("formatTextLine() verbose adds IP fields and checksum state", () => {
  const { record, decoded } = tcpCase(0x18);
  const [ip, tcp] = formatTextLine(record, decoded, { verbose: true }).split("\n");
  assert.match(
    ip,
    /^22:13:20\.123456 IP \(tos 0x0, ttl 64, id 7, offset 0, flags \[DF\], proto TCP \(6\), length 52, cksum 0x[0-9a-f]{4} \(correct\)\)$/,
  );
  assert.match(
    tcp,
    /^ {4}10\.0\.0\.1\.10001 > 10\.0\.0\.2\.5930: Flags \[P\.\], cksum 0x[0-9a-f]{4} \(correct\), seq 1000:1012/,
  );
  record.data[60] ^= 0xff; // corrupt the payload: TCP checksum no longer matches
  record.data[22] ^= 0x01; // corrupt the TTL: IP checksum no longer matches
  const bad = formatTextLine(record, decoded, { verbose: true });
  assert.match(bad, /ttl 65, .*cksum 0x[0-9a-f]{4} \(incorrect -> 0x[0-9a-f]{4}\)\)/);
  assert.match(bad, /Flags \[P\.\], cksum 0x[0-9a-f]{4} \(incorrect -> 0x[0-9a-f]{4}\)/);
});

Deno.test("formatTextLine() ascii adds the payload as printable lines", () => {
  const { record, decoded } = tcpCase(0x18);
  const lines = formatTextLine(record, decoded, { ascii: true }).split("\n");
  assert.deepEqual(lines.slice(1), ["REDQ..hello."]);
  assert.deepEqual(asciiLines(new Uint8Array(130).fill(0x41)).map((l) => l.length), [64, 64, 2]);
});

Deno.test("formatTextLine() prints UDP, non-IP frames and decoder problems", () => {
  const { record, decoded } = tcpCase(0x18);
  const udp: DecodedPacket = { ...decoded, protocol: 17, tcp: undefined };
  assert.match(
    formatTextLine(record, udp),
    / IP 10\.0\.0\.1\.10001 > 10\.0\.0\.2\.5930: UDP, length 12$/,
  );
  const none: DecodedPacket = {
    ipVersion: 0,
    srcIp: "",
    dstIp: "",
    protocol: -1,
    srcPort: 0,
    dstPort: 0,
    payload: new Uint8Array(0),
    problems: ["ethertype 0x0806 not decoded"],
  };
  assert.equal(
    formatTextLine(record, none),
    "22:13:20.123456 link type 1, length 66 [ethertype 0x0806 not decoded]",
  );
});

Deno.test("formatTextLine() verbose finds the IP header behind VLAN tags and cooked headers", () => {
  const { record } = tcpCase(0x18);
  const frame = record.data;
  // 802.1Q: the tag (TPID 0x8100, TCI) sits between the MAC addresses and the EtherType.
  const tagged = concatBytes([frame.subarray(0, 12), Uint8Array.of(0x81, 0x00, 0x00, 0x05)]);
  const vlan = concatBytes([tagged, frame.subarray(12)]);
  // Linux SLL: packet type, ARPHRD, address length, 8 address bytes, protocol (IPv4).
  const sllHeader = Uint8Array.of(0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00);
  const sll = concatBytes([sllHeader, frame.subarray(14)]);
  for (const [linkType, data] of [[1, vlan], [113, sll]] as const) {
    const decoded = decodePacket(data, linkType);
    const line = formatTextLine({ ...record, linkType, data }, decoded, { verbose: true });
    assert.match(line, /proto TCP \(6\), length 52, cksum 0x[0-9a-f]{4} \(correct\)\)\n/, line);
    assert.match(line, /Flags \[P\.\], cksum 0x[0-9a-f]{4} \(correct\), seq 1000:1012/, line);
  }
  const unknown = formatTextLine({ ...record, linkType: 147 }, decodePacket(frame, 1), {
    verbose: true,
  });
  assert.match(unknown, /\(proto TCP \(6\), header not captured\)/);
});
