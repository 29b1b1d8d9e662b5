import assert from "node:assert/strict";
import { decodeInto, decodePacket } from "./decode.ts";
import { TcpFlow } from "./tcp_flow.ts";
import { buildFrame } from "./frame.ts";
import { TCP_FLAGS } from "./types.ts";
import { concatBytes } from "../bytes.ts";

// deno-fmt-ignore
const IPV4_SYN = Uint8Array.of(
  0x45, 0x00, 0x00, 0x28,             // IPv4, IHL 5, total length 40
  0x00, 0x00, 0x40, 0x00,             // id 0, DF
  0x40, 0x06, 0x26, 0xce,             // TTL 64, TCP, header checksum
  0x0a, 0x00, 0x00, 0x01,             // 10.0.0.1
  0x0a, 0x00, 0x00, 0x02,             // 10.0.0.2
  0x27, 0x11, 0x17, 0x2a,             // ports 10001 → 5930
  0x00, 0x00, 0x03, 0xe8,             // seq 1000
  0x00, 0x00, 0x00, 0x00,             // ack 0
  0x50, 0x02, 0xff, 0xff,             // data offset 5, SYN, window 65535
  0x59, 0xbd, 0x00, 0x00,             // checksum, urgent pointer
);

// deno-fmt-ignore
const ETHERNET = Uint8Array.of(
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // destination
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // source
);

function assertSyn(data: Uint8Array, linkType: number): void {
  const p = decodePacket(data, linkType, { verifyChecksums: true });
  assert.deepEqual(p.problems, [], `link type ${linkType}`);
  assert.equal(p.ipVersion, 4);
  assert.equal(p.srcIp, "10.0.0.1");
  assert.equal(p.dstIp, "10.0.0.2");
  assert.equal(p.srcPort, 10001);
  assert.equal(p.dstPort, 5930);
  assert.equal(p.tcp?.seq, 1000);
  assert.equal(p.tcp?.flags, TCP_FLAGS.SYN);
  assert.equal(p.payload.length, 0);
}

Deno.test("decodePacket() reads Ethernet, raw IP and loopback link types", () => {
  assertSyn(concatBytes([ETHERNET, Uint8Array.of(0x08, 0x00), IPV4_SYN]), 1);
  assertSyn(IPV4_SYN, 101);
  assertSyn(IPV4_SYN, 228);
  assertSyn(concatBytes([Uint8Array.of(2, 0, 0, 0), IPV4_SYN]), 0); // NULL, little-endian AF_INET
  assertSyn(concatBytes([Uint8Array.of(0, 0, 0, 2), IPV4_SYN]), 0); // NULL, big-endian AF_INET
  assertSyn(concatBytes([Uint8Array.of(0, 0, 0, 2), IPV4_SYN]), 108); // LOOP, network order
});

Deno.test("decodePacket() reads one and two 802.1Q tags", () => {
  // deno-fmt-ignore
  const oneTag = Uint8Array.of(
    0x81, 0x00, 0x00, 0x64,           // 802.1Q, VLAN 100
    0x08, 0x00,                       // IPv4
  );
  assertSyn(concatBytes([ETHERNET, oneTag, IPV4_SYN]), 1);
  // deno-fmt-ignore
  const twoTags = Uint8Array.of(
    0x88, 0xa8, 0x00, 0x0a,           // 802.1ad outer tag, VLAN 10
    0x81, 0x00, 0x00, 0x14,           // 802.1Q inner tag, VLAN 20
    0x08, 0x00,                       // IPv4
  );
  assertSyn(concatBytes([ETHERNET, twoTags, IPV4_SYN]), 1);
  const threeTags = Uint8Array.of(0x81, 0, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 0x08, 0x00);
  const p = decodePacket(concatBytes([ETHERNET, threeTags, IPV4_SYN]), 1);
  assert.deepEqual(p.problems, ["more than 2 VLAN tags"]);
});

Deno.test("decodePacket() reads Linux cooked SLL and SLL2 headers", () => {
  // deno-fmt-ignore
  const sll = Uint8Array.of(
    0x00, 0x04,                       // packet type: sent by us
    0x00, 0x01,                       // ARPHRD_ETHER
    0x00, 0x06,                       // address length 6
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // address, padded to 8
    0x08, 0x00,                       // protocol IPv4
  );
  assertSyn(concatBytes([sll, IPV4_SYN]), 113);
  // deno-fmt-ignore
  const sll2 = Uint8Array.of(
    0x08, 0x00,                       // protocol IPv4
    0x00, 0x00,                       // reserved
    0x00, 0x00, 0x00, 0x02,           // interface index 2
    0x00, 0x01,                       // ARPHRD_ETHER
    0x04,                             // packet type: sent by us
    0x06,                             // address length 6
    0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, // address, padded to 8
  );
  assertSyn(concatBytes([sll2, IPV4_SYN]), 276);
});

Deno.test("decodePacket() reads IPv6 TCP past a hop-by-hop header, UDP and ICMPv6", () => {
  // deno-fmt-ignore
  const tcp6 = Uint8Array.of(
    0x60, 0x00, 0x00, 0x00,           // version 6, traffic class 0, flow label 0
    0x00, 0x1c, 0x00, 0x40,           // payload length 28, next header hop-by-hop, hop limit 64
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // 2001:db8::2
    0x06, 0x00,                       // hop-by-hop: next TCP, length 0 (8 bytes)
    0x01, 0x04, 0x00, 0x00, 0x00, 0x00, // PadN option
    0x27, 0x11, 0x17, 0x2a,           // ports 10001 → 5930
    0x00, 0x00, 0x03, 0xe8,           // seq 1000
    0x00, 0x00, 0x00, 0x00,           // ack 0
    0x50, 0x02, 0xff, 0xff,           // data offset 5, SYN, window
    0x12, 0x4b, 0x00, 0x00,           // checksum (tshark: good), urgent pointer
  );
  let p = decodePacket(tcp6, 229, { verifyChecksums: true });
  assert.deepEqual(p.problems, []);
  assert.equal(p.ipVersion, 6);
  assert.equal(p.srcIp, "2001:db8::1");
  assert.equal(p.dstIp, "2001:db8::2");
  assert.equal(p.protocol, 6);
  assert.equal(p.srcPort, 10001);
  assert.equal(p.tcp?.seq, 1000);
  assert.equal(p.ttl, 64);
  // Same packet behind Ethernet and behind Linux-style NULL (AF_INET6 = 10, little-endian).
  const e = decodePacket(concatBytes([ETHERNET, Uint8Array.of(0x86, 0xdd), tcp6]), 1, {
    verifyChecksums: true,
  });
  assert.deepEqual([e.problems, e.dstIp, e.dstPort], [[], "2001:db8::2", 5930]);
  assert.equal(
    decodePacket(concatBytes([Uint8Array.of(10, 0, 0, 0), tcp6]), 0).srcIp,
    "2001:db8::1",
  );
  const corrupt = tcp6.slice();
  corrupt[64] ^= 0xff;
  p = decodePacket(corrupt, 229, { verifyChecksums: true });
  assert.deepEqual(p.problems, ["TCP checksum 0xed4b, expected 0x124b"]);

  // deno-fmt-ignore
  const udp6 = Uint8Array.of(
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x11, 0x40, // payload 10, UDP, hop limit 64
    0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // fe80::1
    0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb, // ff02::fb
    0x14, 0xe9, 0x14, 0xe9,           // ports 5353 → 5353
    0x00, 0x0a, 0x6f, 0x1f,           // length 10, checksum
    0x68, 0x69,                       // "hi"
  );
  p = decodePacket(udp6, 101, { verifyChecksums: true });
  assert.deepEqual(p.problems, []);
  assert.deepEqual([p.protocol, p.srcPort, p.dstPort, p.dstIp], [17, 5353, 5353, "ff02::fb"]);
  assert.deepEqual(p.payload, Uint8Array.of(0x68, 0x69));

  // deno-fmt-ignore
  const icmp6 = Uint8Array.of(
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0x40, // payload 8, ICMPv6, hop limit 64
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // ::1
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // ::1
    0x80, 0x00, 0x7f, 0xb9,           // echo request, code 0, checksum
    0x00, 0x01, 0x00, 0x01,           // identifier 1, sequence 1
  );
  p = decodePacket(icmp6, 229, { verifyChecksums: true });
  assert.deepEqual(p.problems, []);
  assert.deepEqual([p.protocol, p.icmp, p.srcIp], [58, { type: 128, code: 0 }, "::1"]);
});

Deno.test("decodePacket() reads IPv4 UDP and ICMP and checks their checksums", () => {
  // deno-fmt-ignore
  const udp = Uint8Array.of(
    0x45, 0x00, 0x00, 0x1e, 0x00, 0x00, 0x40, 0x00, // total length 30, DF
    0x40, 0x11, 0x26, 0xcd,           // TTL 64, UDP, header checksum
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, // 10.0.0.1 → 10.0.0.2
    0x00, 0x35, 0x04, 0xd2,           // ports 53 → 1234
    0x00, 0x0a, 0x7e, 0x67,           // length 10, checksum
    0x68, 0x69,                       // "hi"
  );
  let p = decodePacket(udp, 228, { verifyChecksums: true });
  assert.deepEqual(p.problems, []);
  assert.deepEqual([p.protocol, p.srcPort, p.dstPort], [17, 53, 1234]);
  assert.deepEqual(p.payload, Uint8Array.of(0x68, 0x69));
  const badUdp = udp.slice();
  badUdp[27] = 0x00;
  p = decodePacket(badUdp, 228, { verifyChecksums: true });
  assert.deepEqual(p.problems, ["UDP checksum 0x7e00, expected 0x7e67"]);

  // deno-fmt-ignore
  const icmp = Uint8Array.of(
    0x45, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x40, 0x00, // total length 28, DF
    0x40, 0x01, 0x26, 0xdf,           // TTL 64, ICMP, header checksum
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, // 10.0.0.1 → 10.0.0.2
    0x08, 0x00, 0xf7, 0xfd,           // echo request, code 0, checksum
    0x00, 0x01, 0x00, 0x01,           // identifier 1, sequence 1
  );
  p = decodePacket(icmp, 228, { verifyChecksums: true });
  assert.deepEqual(p.problems, []);
  assert.deepEqual([p.protocol, p.icmp, p.srcPort], [1, { type: 8, code: 0 }, 0]);
});

Deno.test("decodePacket() reports bad checksums and lengths instead of throwing", () => {
  const frame = buildFrame({
    srcIp: 0x0a000001,
    dstIp: 0x0a000002,
    srcPort: 1,
    dstPort: 2,
    seq: 5,
    ack: 6,
    flags: TCP_FLAGS.ACK,
  }, new TextEncoder().encode("hello"));
  const badIp = frame.slice();
  badIp[24] = 0x12;
  badIp[25] = 0x34;
  let p = decodePacket(badIp, 1, { verifyChecksums: true });
  assert.equal(p.problems.length, 1);
  assert.match(p.problems[0], /^IPv4 header checksum 0x1234, expected 0x[0-9a-f]{4}$/);
  assert.equal(p.problems[0], `IPv4 header checksum 0x1234, expected 0x${hex(frame, 24)}`);
  assert.deepEqual(decodePacket(badIp, 1).problems, [], "checksums are only verified on request");

  const badTcp = frame.slice();
  badTcp[54] ^= 1; // payload 'h' → 'i'
  p = decodePacket(badTcp, 1, { verifyChecksums: true });
  assert.equal(p.problems.length, 1);
  assert.match(p.problems[0], /^TCP checksum 0x[0-9a-f]{4}, expected 0x[0-9a-f]{4}$/);

  // Total length says 65 but only 45 bytes of IP were captured, and nobody said why.
  const longIp = frame.slice();
  longIp[17] = 65;
  longIp[24] = longIp[25] = 0; // keep the header checksum out of the picture
  p = decodePacket(longIp, 1);
  assert.deepEqual(p.problems, ["IPv4 total length 65 exceeds captured 45"]);
  assert.equal(p.truncated, true);

  const shortTcp = frame.slice(0, 14 + 20 + 10);
  shortTcp[17] = 30;
  p = decodePacket(shortTcp, 1);
  assert.deepEqual(p.problems, ["TCP header needs 20 bytes, has 10"]);

  const badOffset = frame.slice();
  badOffset[46] = 0xf0; // TCP header length 60 > 25-byte segment
  assert.deepEqual(decodePacket(badOffset, 1).problems, [
    "TCP header length 60 exceeds segment 25",
  ]);
  badOffset[46] = 0x40;
  assert.deepEqual(decodePacket(badOffset, 1).problems, ["TCP header length 16 is below 20"]);

  assert.deepEqual(decodePacket(frame.slice(0, 10), 1).problems, [
    "Ethernet header needs 14 bytes, captured 10",
  ]);
  assert.deepEqual(decodePacket(frame.slice(0, 30), 1).problems, [
    "IPv4 header needs 20 bytes, captured 16",
  ]);
  assert.deepEqual(decodePacket(frame, 147).problems, ["unsupported link type 147"]);
  assert.deepEqual(decodePacket(new Uint8Array(0), 101).problems, ["IP header missing"]);
  assert.deepEqual(decodePacket(Uint8Array.of(0x50), 101).problems, ["unknown IP version 5"]);
});

Deno.test("decodePacket() notes a snap-length cut without reporting checksums", () => {
  const payload = new Uint8Array(1000).fill(0x41);
  const frame = buildFrame({
    srcIp: 1,
    dstIp: 2,
    srcPort: 3,
    dstPort: 4,
    seq: 5,
    ack: 6,
    flags: TCP_FLAGS.ACK,
  }, payload);
  const cut = frame.slice(0, 96);
  const p = decodePacket(cut, 1, { verifyChecksums: true, originalLength: frame.length });
  assert.deepEqual(p.problems, []);
  assert.equal(p.truncated, true);
  assert.equal(p.payload.length, 96 - 54);
  assert.equal(p.tcp?.seq, 5);
  // Still a problem when the header claims more than even the wire length.
  const lying = frame.slice(0, 96);
  lying[16] = 0x10; // total length 4096 + …
  const q = decodePacket(lying, 1, { originalLength: frame.length });
  assert.match(q.problems[0], /^IPv4 total length \d+ exceeds the frame's wire length 1054$/);
});

Deno.test("decodePacket() flags IPv4 fragments and ignores Ethernet padding", () => {
  const frame = buildFrame({
    srcIp: 1,
    dstIp: 2,
    srcPort: 3,
    dstPort: 4,
    seq: 5,
    ack: 6,
    flags: TCP_FLAGS.ACK,
  }, Uint8Array.of(1, 2));
  const padded = concatBytes([frame, new Uint8Array(4)]);
  const p = decodePacket(padded, 1, { verifyChecksums: true });
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.payload, Uint8Array.of(1, 2));

  const later = frame.slice();
  later[20] = 0x00;
  later[21] = 0x10; // fragment offset 128 bytes, DF cleared
  const f = decodePacket(later, 1);
  assert.deepEqual(f.problems, ["IPv4 fragment at offset 128"]);
  assert.equal(f.tcp, undefined);
  const first = frame.slice();
  first[20] = 0x20; // more fragments
  const g = decodePacket(first, 1, { verifyChecksums: true });
  assert.equal(g.tcp?.seq, 5);
  assert.ok(g.problems.includes("IPv4 fragment at offset 0, more fragments follow"));
  assert.ok(!g.problems.some((s) => s.startsWith("TCP checksum")));
});

Deno.test("decodePacket() skips IPv4 header options", () => {
  const frame = buildFrame({
    srcIp: 0x01020304,
    dstIp: 0x05060708,
    srcPort: 80,
    dstPort: 8080,
    seq: 1,
    ack: 2,
    flags: TCP_FLAGS.ACK,
  }, Uint8Array.of(9, 9, 9));
  // Insert 4 bytes of NOP options after the 20-byte IPv4 header; checksums are not verified.
  const withOptions = concatBytes([
    frame.subarray(0, 34),
    Uint8Array.of(1, 1, 1, 0),
    frame.subarray(34),
  ]);
  withOptions[14] = 0x46;
  withOptions[17] += 4;
  const p = decodePacket(withOptions, 1);
  assert.deepEqual(p.problems, []);
  assert.deepEqual([p.srcIp, p.dstPort, p.payload], ["1.2.3.4", 8080, Uint8Array.of(9, 9, 9)]);
});

function hex(bytes: Uint8Array, offset: number): string {
  return ((bytes[offset] << 8) | bytes[offset + 1]).toString(16).padStart(4, "0");
}

Deno.test("decodePacket() never throws on mutated or cut frames of any link type", () => {
  const base = buildFrame({
    srcIp: 1,
    dstIp: 2,
    srcPort: 3,
    dstPort: 4,
    seq: 5,
    ack: 6,
    flags: TCP_FLAGS.ACK,
  }, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  const linkTypes = [0, 1, 101, 108, 113, 228, 229, 276, 9999];
  let decoded = 0;
  for (let i = 0; i < base.length; i++) {
    for (const value of [0x00, 0x06, 0x11, 0x3a, 0x45, 0x60, 0x81, 0xff]) {
      const frame = base.slice();
      frame[i] = value;
      for (const linkType of linkTypes) {
        decodePacket(frame, linkType, { verifyChecksums: true });
        decodePacket(frame.subarray(0, i), linkType, { verifyChecksums: true });
        decoded += 2;
      }
    }
  }
  assert.equal(decoded, base.length * 8 * linkTypes.length * 2);
});

Deno.test("decodeInto() resets every field of the packet it reuses", () => {
  const f = new TcpFlow({
    clientIp: 0x0a000001,
    serverIp: 0x0a000002,
    clientPort: 1,
    serverPort: 2,
  });
  const tcp = f.send("toServer", new Uint8Array(5))[0].frame;
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const p = decodePacket(tcp, 1);
  decodeInto(p, arp, 1);
  assert.deepEqual({ ...p }, { ...decodePacket(arp, 1) });
  decodeInto(p, tcp.subarray(0, 20), 1); // cut short: a problem
  assert.deepEqual({ ...p }, { ...decodePacket(tcp.subarray(0, 20), 1) });
  decodeInto(p, tcp, 1);
  assert.deepEqual({ ...p }, { ...decodePacket(tcp, 1) });
  assert.deepEqual(p.problems, []);
});
