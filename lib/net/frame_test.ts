import assert from "node:assert/strict";
import { checksumSum, foldChecksum, internetChecksum } from "./checksum.ts";
import { buildFrame, FRAME_HEADER_BYTES, MAX_FRAME_PAYLOAD_BYTES, writeFrame } from "./frame.ts";
import { formatIpv6, ipv4ToNumber, numberToIpv4, parseIpv6 } from "./ipv4.ts";
import { decodePacket } from "./decode.ts";
import { type FrameSpec, TCP_FLAGS } from "./types.ts";

/** Reference one's-complement sum: one 16-bit word at a time. */
function slowChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  return ~sum & 0xffff;
}

function pattern(length: number, seed = 7): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const SYN_SPEC: FrameSpec = {
  srcIp: 0x0a000001,
  dstIp: 0x0a000002,
  srcPort: 10001,
  dstPort: 5930,
  seq: 1000,
  ack: 0,
  flags: TCP_FLAGS.SYN,
};

// deno-fmt-ignore
const KNOWN_SYN = Uint8Array.of(
  0x02, 0x00, 0x00, 0x00, 0x00, 0x02, // Ethernet destination 02:00:00:00:00:02
  0x02, 0x00, 0x00, 0x00, 0x00, 0x01, // Ethernet source 02:00:00:00:00:01
  0x08, 0x00,                         // EtherType IPv4
  0x45,                               // IPv4 version 4, header length 5 words
  0x00,                               // DSCP/ECN
  0x00, 0x28,                         // total length 40
  0x00, 0x00,                         // identification 0
  0x40, 0x00,                         // flags DF, fragment offset 0
  0x40,                               // TTL 64
  0x06,                               // protocol TCP
  0x26, 0xce,                         // header checksum: ~(0x4500+0x28+0x4000+0x4006+0x0a00+1+0x0a00+2)
  0x0a, 0x00, 0x00, 0x01,             // source 10.0.0.1
  0x0a, 0x00, 0x00, 0x02,             // destination 10.0.0.2
  0x27, 0x11,                         // source port 10001
  0x17, 0x2a,                         // destination port 5930
  0x00, 0x00, 0x03, 0xe8,             // sequence number 1000
  0x00, 0x00, 0x00, 0x00,             // acknowledgement number 0
  0x50,                               // data offset 5 words
  0x02,                               // flags SYN
  0xff, 0xff,                         // window 65535
  0x59, 0xbd,                         // checksum: ~fold(pseudo 0x141d + header words 0x19225)
  0x00, 0x00,                         // urgent pointer
);

Deno.test("buildFrame() writes a SYN byte for byte as computed by hand", () => {
  assert.deepEqual(buildFrame(SYN_SPEC, new Uint8Array(0)), KNOWN_SYN);
  assert.equal(FRAME_HEADER_BYTES, 54);
});

Deno.test("internetChecksum() of a header holding its checksum is zero", () => {
  const ipHeader = KNOWN_SYN.subarray(14, 34);
  assert.equal(internetChecksum(ipHeader), 0);
});

Deno.test("internetChecksum() matches a word-by-word sum at every length and alignment", () => {
  const data = pattern(3000);
  for (const start of [0, 1, 2, 3]) {
    for (const length of [0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 1001, 2048, 2995]) {
      const view = data.subarray(start, start + length);
      assert.equal(internetChecksum(view), slowChecksum(view), `start ${start} length ${length}`);
    }
  }
  // A range inside a buffer gives the same sum as a copy of it.
  assert.equal(
    foldChecksum(checksumSum(data, 3, 1500)),
    foldChecksum(checksumSum(data.slice(3, 1500))),
  );
});

Deno.test("internetChecksum() adds the initial partial sum", () => {
  const data = pattern(100);
  const whole = new Uint8Array(104);
  whole.set([0x12, 0x34, 0x56, 0x78]);
  whole.set(data, 4);
  assert.equal(internetChecksum(data, 0x1234 + 0x5678), internetChecksum(whole));
});

Deno.test("writeFrame() writes at an offset and returns the frame length", () => {
  const payload = pattern(1001);
  const out = new Uint8Array(2000).fill(0xee);
  const written = writeFrame(
    { ...SYN_SPEC, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH },
    payload,
    out,
    7,
  );
  assert.equal(written, 54 + 1001);
  assert.equal(out[6], 0xee);
  assert.equal(out[7 + written], 0xee);
  const frame = out.subarray(7, 7 + written);
  assert.deepEqual(
    frame,
    buildFrame({ ...SYN_SPEC, flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH }, payload),
  );
});

Deno.test("writeFrame() rejects a payload over the IPv4 limit and a short buffer", () => {
  assert.throws(
    () => buildFrame(SYN_SPEC, new Uint8Array(MAX_FRAME_PAYLOAD_BYTES + 1)),
    /payload of 65496 bytes exceeds the IPv4 limit of 65495/,
  );
  assert.throws(() => writeFrame(SYN_SPEC, new Uint8Array(10), new Uint8Array(60), 0), RangeError);
  assert.equal(buildFrame(SYN_SPEC, new Uint8Array(MAX_FRAME_PAYLOAD_BYTES)).length, 65549);
});

Deno.test("decodePacket() reads back every field buildFrame() wrote, checksums valid", () => {
  for (const length of [0, 1, 2, 3, 100, 1460, 65495]) {
    const payload = pattern(length, length);
    const spec: FrameSpec = {
      srcIp: ipv4ToNumber("192.168.200.17"),
      dstIp: ipv4ToNumber("255.1.0.254"),
      srcPort: 65535,
      dstPort: 1,
      seq: 0xfffffff0,
      ack: 0x80000001,
      flags: TCP_FLAGS.ACK | TCP_FLAGS.PSH | TCP_FLAGS.FIN,
      window: 1234,
      ipId: 0xbeef,
      ttl: 3,
    };
    const p = decodePacket(buildFrame(spec, payload), 1, { verifyChecksums: true });
    assert.deepEqual(p.problems, [], `payload ${length}`);
    assert.equal(p.ipVersion, 4);
    assert.equal(p.srcIp, "192.168.200.17");
    assert.equal(p.dstIp, "255.1.0.254");
    assert.equal(p.protocol, 6);
    assert.equal(p.srcPort, 65535);
    assert.equal(p.dstPort, 1);
    assert.deepEqual(p.tcp, {
      seq: 0xfffffff0,
      ack: 0x80000001,
      flags: spec.flags,
      window: 1234,
      headerLength: 20,
    });
    assert.equal(p.ipId, 0xbeef);
    assert.equal(p.ttl, 3);
    assert.equal(p.ipLength, 40 + length);
    assert.deepEqual(p.payload, payload);
  }
});

Deno.test("ipv4ToNumber() and numberToIpv4() convert both ways and reject bad text", () => {
  assert.equal(ipv4ToNumber("10.0.0.1"), 0x0a000001);
  assert.equal(ipv4ToNumber("255.255.255.255"), 0xffffffff);
  assert.equal(numberToIpv4(0xc0a80001), "192.168.0.1");
  assert.equal(numberToIpv4(ipv4ToNumber("1.2.3.4")), "1.2.3.4");
  for (const bad of ["1.2.3", "1.2.3.256", "a.b.c.d", "1.2.3.4.5", ""]) {
    assert.throws(() => ipv4ToNumber(bad), /Cannot parse IPv4 address/, bad);
  }
});

Deno.test("formatIpv6() writes RFC 5952 text and parseIpv6() reads it back", () => {
  const cases: [string, string][] = [
    ["2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"],
    ["::1", "::1"],
    ["::", "::"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["FE80::ABCD", "fe80::abcd"],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.1"],
  ];
  for (const [input, canonical] of cases) {
    assert.equal(formatIpv6(parseIpv6(input)), canonical, input);
  }
  for (const bad of ["1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::", "1:2:3"]) {
    assert.throws(() => parseIpv6(bad), /Cannot parse IPv6 address/, bad);
  }
});
