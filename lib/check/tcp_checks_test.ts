import assert from "node:assert/strict";
import { TCP_FLAGS } from "../net/types.ts";
import { TcpConnectionChecker } from "./tcp_checks.ts";

const { SYN, ACK, FIN, PSH, RST } = TCP_FLAGS;

/** A clean connection: handshake, two data segments each way, FIN exchange. */
function cleanConnection(c: TcpConnectionChecker) {
  const all = [
    c.segment(0, { packetNumber: 1, seq: 1000, ack: 0, flags: SYN, payloadLength: 0 }),
    c.segment(1, { packetNumber: 2, seq: 5000, ack: 1001, flags: SYN | ACK, payloadLength: 0 }),
    c.segment(0, { packetNumber: 3, seq: 1001, ack: 5001, flags: ACK, payloadLength: 0 }),
    c.segment(0, { packetNumber: 4, seq: 1001, ack: 5001, flags: PSH | ACK, payloadLength: 42 }),
    c.segment(1, { packetNumber: 5, seq: 5001, ack: 1043, flags: PSH | ACK, payloadLength: 202 }),
    c.segment(0, { packetNumber: 6, seq: 1043, ack: 5203, flags: FIN | ACK, payloadLength: 0 }),
    c.segment(1, { packetNumber: 7, seq: 5203, ack: 1044, flags: FIN | ACK, payloadLength: 0 }),
    c.segment(0, { packetNumber: 8, seq: 1044, ack: 5204, flags: ACK, payloadLength: 0 }),
  ];
  return all.flat();
}

Deno.test("TcpConnectionChecker accepts a clean connection with SYN and FIN counting one", () => {
  const c = new TcpConnectionChecker({ strict: true });
  assert.deepEqual(cleanConnection(c), []);
  assert.equal(c.nextSeq(0), 1044);
  assert.equal(c.nextSeq(1), 5204);
});

Deno.test("TcpConnectionChecker reports a gap at the segment after the missing bytes", () => {
  const c = new TcpConnectionChecker();
  c.segment(0, { packetNumber: 1, seq: 10, ack: 0, flags: ACK, payloadLength: 100 });
  const f = c.segment(0, { packetNumber: 3, seq: 160, ack: 0, flags: ACK, payloadLength: 10 });
  assert.equal(f.length, 1);
  assert.equal(f[0].code, "seq-gap");
  assert.equal(f[0].packetNumber, 3);
  assert.equal(f[0].expected, "seq 110");
  assert.equal(f[0].actual, "seq 160");
  assert.match(f[0].message, /50 byte/);
  // resynchronised: the next in-order segment is clean
  assert.deepEqual(
    c.segment(0, { packetNumber: 4, seq: 170, ack: 0, flags: 0, payloadLength: 1 }),
    [],
  );
});

Deno.test("TcpConnectionChecker tells retransmissions from overlaps, warnings unless strict", () => {
  const lax = new TcpConnectionChecker();
  lax.segment(0, { packetNumber: 1, seq: 0, ack: 0, flags: 0, payloadLength: 100 });
  const r = lax.segment(0, { packetNumber: 2, seq: 50, ack: 0, flags: 0, payloadLength: 50 });
  assert.deepEqual([r[0].code, r[0].severity], ["retransmission", "warning"]);
  const o = lax.segment(0, { packetNumber: 3, seq: 90, ack: 0, flags: 0, payloadLength: 20 });
  assert.deepEqual([o[0].code, o[0].severity], ["seq-overlap", "warning"]);
  assert.equal(lax.nextSeq(0), 110);
  const strict = new TcpConnectionChecker({ strict: true });
  strict.segment(0, { packetNumber: 1, seq: 0, ack: 0, flags: 0, payloadLength: 100 });
  const s = strict.segment(0, { packetNumber: 2, seq: 0, ack: 0, flags: 0, payloadLength: 100 });
  assert.deepEqual([s[0].code, s[0].severity], ["retransmission", "error"]);
});

Deno.test("TcpConnectionChecker reports an ack of bytes the other side never sent", () => {
  const c = new TcpConnectionChecker();
  c.segment(0, { packetNumber: 1, seq: 100, ack: 0, flags: PSH, payloadLength: 10 });
  assert.deepEqual(
    c.segment(1, { packetNumber: 2, seq: 7, ack: 110, flags: ACK, payloadLength: 0 }),
    [],
  );
  const f = c.segment(1, { packetNumber: 3, seq: 7, ack: 120, flags: ACK, payloadLength: 0 });
  assert.deepEqual([f[0].code, f[0].packetNumber, f[0].expected], ["ack-unsent", 3, "ack ≤ 110"]);
});

Deno.test("TcpConnectionChecker names a segment addressed backwards as a direction error", () => {
  const c = new TcpConnectionChecker({ strict: true });
  c.segment(0, { packetNumber: 1, seq: 100, ack: 900, flags: ACK, payloadLength: 10 });
  c.segment(1, { packetNumber: 2, seq: 900, ack: 110, flags: ACK, payloadLength: 5 });
  // packet 3 is side 0's next segment, but recorded as sent by side 1
  const f = c.segment(1, { packetNumber: 3, seq: 110, ack: 905, flags: ACK, payloadLength: 20 });
  assert.deepEqual(f.map((x) => [x.code, x.packetNumber]), [["direction", 3]]);
  // side 0's stream was advanced, so its next segment is clean
  assert.deepEqual(
    c.segment(0, { packetNumber: 4, seq: 130, ack: 905, flags: ACK, payloadLength: 1 }),
    [],
  );
});

Deno.test("TcpConnectionChecker compares sequence numbers across the 2^32 wrap", () => {
  const c = new TcpConnectionChecker({ strict: true });
  c.segment(0, { packetNumber: 1, seq: 0xffff_fff0, ack: 0, flags: 0, payloadLength: 0x20 });
  assert.deepEqual(
    c.segment(0, { packetNumber: 2, seq: 0x10, ack: 0, flags: 0, payloadLength: 1 }),
    [],
  );
  const f = c.segment(0, { packetNumber: 3, seq: 0x20, ack: 0, flags: 0, payloadLength: 1 });
  assert.equal(f[0].code, "seq-gap");
});

Deno.test("TcpConnectionChecker ignores the sequence number of an empty RST", () => {
  const c = new TcpConnectionChecker({ strict: true });
  c.segment(0, { packetNumber: 1, seq: 0, ack: 0, flags: 0, payloadLength: 10 });
  assert.deepEqual(
    c.segment(0, { packetNumber: 2, seq: 5000, ack: 0, flags: RST, payloadLength: 0 }),
    [],
  );
});
