import assert from "node:assert/strict";
import { type ReassemblyResult, TcpReassembler } from "./reassembly.ts";
import { TCP_FLAGS } from "./types.ts";

const { SYN, ACK, FIN, PSH } = TCP_FLAGS;
const enc = new TextEncoder();
const dec = new TextDecoder();

function text(r: ReassemblyResult): string {
  return r.data.map((d) => dec.decode(d)).join("");
}

function seg(seq: number, data: string, packetNumber: number, flags = ACK | PSH) {
  return { seq, flags, payload: enc.encode(data), packetNumber };
}

Deno.test("TcpReassembler delivers in-order data after the SYN with SYN and FIN counting one", () => {
  const r = new TcpReassembler();
  assert.equal(r.expectedSeq, undefined);
  let out = r.push({ seq: 100, flags: SYN, payload: new Uint8Array(0), packetNumber: 1 });
  assert.deepEqual(out, { data: [], events: [] });
  assert.equal(r.expectedSeq, 101);
  out = r.push(seg(101, "hello ", 3));
  assert.deepEqual([text(out), out.events], ["hello ", []]);
  out = r.push(seg(107, "world", 4, ACK | FIN));
  assert.deepEqual([text(out), out.events], ["world", []]);
  assert.equal(r.expectedSeq, 113);
  assert.equal(r.finished, true);
  // A pure ACK after the FIN is no event.
  assert.deepEqual(r.push(seg(113, "", 6, ACK)), { data: [], events: [] });
});

Deno.test("TcpReassembler reports an exact duplicate as a retransmission", () => {
  const r = new TcpReassembler();
  r.push({ seq: 0, flags: SYN, payload: new Uint8Array(0), packetNumber: 1 });
  r.push(seg(1, "abcd", 2));
  const out = r.push(seg(1, "abcd", 3));
  assert.deepEqual(out.data, []);
  assert.deepEqual(out.events, [
    { kind: "retransmission", packetNumber: 3, expectedSeq: 5, seq: 1, length: 4 },
  ]);
  const syn = r.push({ seq: 0, flags: SYN, payload: new Uint8Array(0), packetNumber: 4 });
  assert.equal(syn.events[0].kind, "retransmission");
  r.push(seg(5, "", 5, FIN | ACK));
  const fin = r.push(seg(5, "", 6, FIN | ACK));
  assert.deepEqual(fin.events.map((e) => [e.kind, e.packetNumber]), [["retransmission", 6]]);
});

Deno.test("TcpReassembler delivers only the new tail of a partial overlap", () => {
  const r = new TcpReassembler();
  r.push(seg(1000, "abcdef", 1)); // no SYN: the first segment starts the stream
  const out = r.push(seg(1003, "defghi", 2));
  assert.equal(text(out), "ghi");
  assert.deepEqual(out.events, [
    { kind: "overlap", packetNumber: 2, expectedSeq: 1006, seq: 1003, length: 3 },
  ]);
  assert.equal(r.expectedSeq, 1009);
});

Deno.test("TcpReassembler buffers out-of-order segments until the hole fills", () => {
  const r = new TcpReassembler();
  r.push({ seq: 9, flags: SYN, payload: new Uint8Array(0), packetNumber: 1 });
  let out = r.push(seg(14, "56789", 2));
  assert.deepEqual(out.data, []);
  assert.deepEqual(out.events, [
    { kind: "outOfOrder", packetNumber: 2, expectedSeq: 10, seq: 14, length: 5 },
  ]);
  out = r.push(seg(19, "ab", 3, FIN | ACK));
  assert.equal(out.events[0].kind, "outOfOrder");
  assert.equal(r.bufferedBytes, 7);
  out = r.push(seg(10, "1234", 4));
  assert.equal(text(out), "123456789ab");
  assert.deepEqual(out.events, []);
  assert.equal(r.finished, true);
  assert.equal(r.bufferedBytes, 0);
});

Deno.test("TcpReassembler reports a gap on flush() and when its buffer overflows", () => {
  const r = new TcpReassembler({ maxBufferedBytes: 10 });
  r.push(seg(0, "aa", 1));
  let out = r.push(seg(5, "bbbbbb", 2)); // 3 bytes never captured
  assert.deepEqual(out.data, []);
  out = r.push(seg(11, "cccccc", 3)); // 12 bytes held > 10: resync at 5
  assert.deepEqual(
    out.events.map((e) => [e.kind, e.packetNumber, e.expectedSeq, e.seq, e.length]),
    [
      ["outOfOrder", 3, 2, 11, 6],
      ["gap", 2, 2, 5, 3],
    ],
  );
  assert.equal(text(out), "bbbbbbcccccc");
  out = r.push(seg(20, "dd", 4));
  assert.deepEqual(out.data, []);
  out = r.flush();
  assert.deepEqual(out.events, [
    { kind: "gap", packetNumber: 4, expectedSeq: 17, seq: 20, length: 3 },
  ]);
  assert.equal(text(out), "dd");
});

Deno.test("TcpReassembler.acknowledged() reports bytes the peer acked but the capture missed", () => {
  const r = new TcpReassembler();
  r.push(seg(100, "abc", 1));
  const out = r.acknowledged(110, 2);
  assert.deepEqual(out.events, [
    { kind: "gap", packetNumber: 2, expectedSeq: 103, seq: 110, length: 7 },
  ]);
  assert.equal(text(r.push(seg(110, "z", 3))), "z");
  assert.deepEqual(r.acknowledged(105, 4).events, [], "an old ack is not a gap");
});

Deno.test("TcpReassembler follows sequence numbers across 2^32", () => {
  const r = new TcpReassembler();
  r.push({ seq: 0xfffffffd, flags: SYN, payload: new Uint8Array(0), packetNumber: 1 });
  let out = r.push(seg(0xfffffffe, "wxyz", 2));
  assert.equal(text(out), "wxyz");
  assert.equal(r.expectedSeq, 2);
  out = r.push(seg(4, "!", 3)); // ahead across the wrap
  assert.deepEqual(out.events.map((e) => [e.kind, e.expectedSeq, e.seq]), [["outOfOrder", 2, 4]]);
  out = r.push(seg(0xffffffff, "xyz12", 4)); // overlaps 3 bytes delivered before the wrap
  assert.equal(text(out), "12!");
  assert.deepEqual(out.events.map((e) => [e.kind, e.seq, e.length]), [["overlap", 0xffffffff, 3]]);
  out = r.push(seg(0xfffffffe, "wx", 5));
  assert.deepEqual(out.events.map((e) => e.kind), ["retransmission"]);
});
