import assert from "node:assert/strict";
import { decodePacket } from "./decode.ts";
import {
  FlowClosedError,
  type FlowFrame,
  type FrameSink,
  TcpFlow,
  type TcpFlowOptions,
} from "./tcp_flow.ts";
import { type DecodedPacket, type Direction, TCP_FLAGS } from "./types.ts";

const { SYN, ACK, PSH, FIN } = TCP_FLAGS;
const BASE: TcpFlowOptions = {
  clientIp: 0x0a000001,
  serverIp: 0x0a000002,
  clientPort: 10001,
  serverPort: 5930,
};

interface Seen {
  dir: Direction;
  seq: number;
  ack: number;
  flags: number;
  len: number;
  p: DecodedPacket;
}

function decodeAll(frames: FlowFrame[]): Seen[] {
  return frames.map((f) => {
    const p = decodePacket(f.frame, 1, { verifyChecksums: true });
    assert.deepEqual(p.problems, []);
    assert.equal(p.payload.length, f.payloadLength);
    return {
      dir: f.direction,
      seq: p.tcp!.seq,
      ack: p.tcp!.ack,
      flags: p.tcp!.flags,
      len: f.payloadLength,
      p,
    };
  });
}

function bytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

Deno.test("TcpFlow.open() gives SYN, SYN-ACK, ACK with SYN counting one", () => {
  const flow = new TcpFlow({ ...BASE, clientIsn: 100, serverIsn: 5000 });
  assert.equal(flow.opened, false);
  const s = decodeAll(flow.open());
  assert.deepEqual(s.map(({ dir, seq, ack, flags, len }) => [dir, seq, ack, flags, len]), [
    ["toServer", 100, 0, SYN, 0],
    ["toClient", 5000, 101, SYN | ACK, 0],
    ["toServer", 101, 5001, ACK, 0],
  ]);
  assert.equal(s[0].p.srcIp, "10.0.0.1");
  assert.equal(s[0].p.dstPort, 5930);
  assert.equal(s[1].p.srcIp, "10.0.0.2");
  assert.equal(s[1].p.dstPort, 10001);
  assert.equal(flow.opened, true);
  assert.deepEqual(flow.open(), []);
  assert.equal(flow.nextSeq("toServer"), 101);
  assert.equal(flow.nextSeq("toClient"), 5001);
});

Deno.test("TcpFlow.send() advances seq by payload length and acks the other side", () => {
  const flow = new TcpFlow(BASE);
  flow.open();
  let s = decodeAll(flow.send("toServer", bytes(10)));
  assert.deepEqual(s.map(({ seq, ack, flags, len }) => [seq, ack, flags, len]), [
    [1001, 1001, PSH | ACK, 10],
  ]);
  s = decodeAll(flow.send("toClient", bytes(7)));
  assert.deepEqual(s.map(({ seq, ack, flags, len }) => [seq, ack, flags, len]), [
    [1001, 1011, PSH | ACK, 7],
  ]);
  s = decodeAll(flow.send("toServer", bytes(3)));
  assert.deepEqual(s.map(({ seq, ack }) => [seq, ack]), [[1011, 1008]]);
  assert.equal(flow.nextSeq("toServer"), 1014);
  assert.deepEqual(flow.send("toServer", new Uint8Array(0)), []);
});

Deno.test("TcpFlow.send() before open() returns the handshake first", () => {
  const flow = new TcpFlow(BASE);
  const s = decodeAll(flow.send("toClient", bytes(4)));
  assert.deepEqual(s.map(({ dir, flags, len }) => [dir, flags, len]), [
    ["toServer", SYN, 0],
    ["toClient", SYN | ACK, 0],
    ["toServer", ACK, 0],
    ["toClient", PSH | ACK, 4],
  ]);
});

Deno.test("TcpFlow.send() splits a payload at the MSS; the payloads concatenate back", () => {
  const flow = new TcpFlow(BASE);
  flow.open();
  const payload = bytes(256018);
  const s = decodeAll(flow.send("toServer", payload));
  const data = s.filter((x) => x.len > 0);
  assert.deepEqual(data.map((x) => x.len), [65495, 65495, 65495, 59533]);
  for (const x of s) assert.ok(x.p.ipLength! <= 65535);
  assert.deepEqual(data.map((x) => x.flags), [ACK, ACK, ACK, PSH | ACK]);
  const joined = new Uint8Array(payload.length);
  let o = 0;
  for (const x of data) {
    assert.equal(x.seq, 1001 + o);
    joined.set(x.p.payload, o);
    o += x.len;
  }
  assert.deepEqual(joined, payload);
  assert.equal(flow.nextSeq("toServer"), 1001 + 256018);
  // The server acknowledges before each segment that would fill its 65535-byte window.
  const acks = s.filter((x) => x.len === 0);
  assert.deepEqual(acks.map(({ dir, seq, ack, flags }) => [dir, seq, ack, flags]), [
    ["toClient", 1001, 1001 + 65495, ACK],
    ["toClient", 1001, 1001 + 2 * 65495, ACK],
    ["toClient", 1001, 1001 + 3 * 65495, ACK],
  ]);
});

Deno.test("TcpFlow honours a small MSS and keeps in-flight bytes below the window", () => {
  const flow = new TcpFlow({ ...BASE, mss: 1000, window: 3000 });
  const s = decodeAll([...flow.open(), ...flow.send("toServer", bytes(4500))]);
  const rows = s.slice(3).map(({ dir, seq, ack, len }) => [dir, seq, ack, len]);
  assert.deepEqual(rows, [
    ["toServer", 1001, 1001, 1000],
    ["toServer", 2001, 1001, 1000],
    ["toClient", 1001, 3001, 0],
    ["toServer", 3001, 1001, 1000],
    ["toServer", 4001, 1001, 1000],
    ["toServer", 5001, 1001, 500], // 2000 in flight + 500 < 3000: no ACK needed
  ]);
  assert.throws(() => new TcpFlow({ ...BASE, mss: 65496 }), RangeError);
  assert.throws(() => new TcpFlow({ ...BASE, mss: 0 }), RangeError);
});

Deno.test("TcpFlow.close() gives FIN/ACK, FIN/ACK, ACK with FIN counting one", () => {
  const flow = new TcpFlow(BASE);
  flow.open();
  flow.send("toServer", bytes(5));
  const s = decodeAll(flow.close("toClient"));
  assert.deepEqual(s.map(({ dir, seq, ack, flags }) => [dir, seq, ack, flags]), [
    ["toClient", 1001, 1006, FIN | ACK],
    ["toServer", 1006, 1002, FIN | ACK],
    ["toClient", 1002, 1007, ACK],
  ]);
  assert.equal(flow.closed, true);
  assert.deepEqual(flow.close(), []);
  assert.throws(
    () => flow.send("toServer", bytes(1)),
    (e: unknown) =>
      e instanceof FlowClosedError && e.direction === "toServer" &&
      /Cannot send 1 bytes toServer on 10\.0\.0\.1:10001 ↔ 10\.0\.0\.2:5930: the connection is closed/
        .test(e.message),
  );
});

Deno.test("TcpFlow.close() before open() gives the handshake and the teardown", () => {
  const flow = new TcpFlow(BASE);
  const s = decodeAll(flow.close());
  assert.deepEqual(s.map(({ flags }) => flags), [SYN, SYN | ACK, ACK, FIN | ACK, FIN | ACK, ACK]);
});

Deno.test("TcpFlow sequence numbers wrap modulo 2^32", () => {
  const flow = new TcpFlow({ ...BASE, clientIsn: 0xfffffff0, serverIsn: 0xffffffff });
  const s = decodeAll([
    ...flow.open(),
    ...flow.send("toServer", bytes(100)),
    ...flow.send("toClient", bytes(1)),
  ]);
  assert.deepEqual(s.map(({ seq, ack }) => [seq, ack]), [
    [0xfffffff0, 0],
    [0xffffffff, 0xfffffff1],
    [0xfffffff1, 0],
    [0xfffffff1, 0],
    [0, 0x55],
  ]);
  assert.equal(flow.nextSeq("toServer"), 0x55);
  assert.equal(flow.nextSeq("toClient"), 1);
});

Deno.test("TcpFlow increments the IPv4 id per frame in each direction", () => {
  const flow = new TcpFlow(BASE);
  const s = decodeAll([...flow.open(), ...flow.send("toServer", bytes(2)), ...flow.close()]);
  const ids = (dir: Direction) => s.filter((x) => x.dir === dir).map((x) => x.p.ipId);
  assert.deepEqual(ids("toServer"), [0, 1, 2, 3, 4]);
  assert.deepEqual(ids("toClient"), [0, 1]);
});

Deno.test("TcpFlow.sendInto() writes the same frames as send() into a sink", () => {
  class Sink implements FrameSink {
    buffer = new Uint8Array(1 << 19);
    used = 0;
    log: [Direction, number, number][] = [];
    reserve(frameLength: number, direction: Direction, payloadLength: number): number {
      this.log.push([direction, frameLength, payloadLength]);
      const at = this.used;
      this.used += frameLength;
      return at;
    }
  }
  const a = new TcpFlow(BASE);
  const b = new TcpFlow(BASE);
  const payload = bytes(140000);
  const expected = [...a.send("toServer", payload), ...a.close()];
  const sink = new Sink();
  const count = b.sendInto("toServer", payload, sink) + b.closeInto(sink);
  assert.equal(count, expected.length);
  assert.deepEqual(sink.log, expected.map((f) => [f.direction, f.frame.length, f.payloadLength]));
  const concatenated = new Uint8Array(sink.used);
  let o = 0;
  for (const f of expected) {
    concatenated.set(f.frame, o);
    o += f.frame.length;
  }
  assert.deepEqual(sink.buffer.subarray(0, sink.used), concatenated);
});

Deno.test("TcpFlow without windowAcks gives exactly one frame per segment", () => {
  const flow = new TcpFlow({ ...BASE, windowAcks: false });
  const s = decodeAll([...flow.open(), ...flow.send("toClient", bytes(200000))]).slice(3);
  assert.deepEqual(s.map(({ dir, len }) => [dir, len]), [
    ["toClient", 65495],
    ["toClient", 65495],
    ["toClient", 65495],
    ["toClient", 3515],
  ]);
});

Deno.test("TcpFlow calls a sink's commit() once after each frame is written", () => {
  const flow = new TcpFlow({
    clientIp: 0x0a000001,
    serverIp: 0x0a000002,
    clientPort: 10001,
    serverPort: 5930,
    mss: 10,
  });
  const events: string[] = [];
  const buffer = new Uint8Array(200);
  const sink = {
    buffer,
    reserve(frameLength: number) {
      events.push(`reserve ${frameLength}`);
      buffer.fill(0);
      return 0;
    },
    commit() {
      // The frame is complete when commit() runs: its IPv4 version/IHL byte is written.
      events.push(`commit ${buffer[14].toString(16)}`);
    },
  };
  const frames = flow.sendInto("toServer", new Uint8Array(15), sink);
  assert.equal(frames, 5); // SYN, SYN-ACK, ACK, 10 + 5 bytes
  assert.deepEqual(events, [
    "reserve 54",
    "commit 45",
    "reserve 54",
    "commit 45",
    "reserve 54",
    "commit 45",
    "reserve 64",
    "commit 45",
    "reserve 59",
    "commit 45",
  ]);
});
