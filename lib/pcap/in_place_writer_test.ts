import assert from "node:assert/strict";
import { memorySink, readAll } from "../../testing/pcap_test_util.ts";
import { PcapngWriter } from "./pcapng_writer.ts";
import { PcapWriter } from "./pcap_writer.ts";
import type { InPlaceCaptureWriter, PacketToWrite, TsResolution } from "./types.ts";
import { createWriter } from "./writer.ts";

const NS = 1_000_000_000n;

/** Writes `p` through beginRecord/commitRecord, filling the frame in place. */
function writeInPlace(w: InPlaceCaptureWriter, p: PacketToWrite): void {
  const at = w.beginRecord(Number(p.tsNs / NS), Number(p.tsNs % NS), p.data.length, {
    originalLength: p.originalLength,
    interfaceId: p.interfaceId,
    direction: p.direction,
    comment: p.comment,
  });
  w.recordBytes.set(p.data, at);
  w.commitRecord();
}

function packets(): PacketToWrite[] {
  return [
    { tsNs: 1_700_000_000_123_456_789n, data: Uint8Array.of(1, 2, 3), direction: "outbound" },
    {
      tsNs: 1_700_000_000_999_999_999n,
      data: new Uint8Array(61).fill(7),
      originalLength: 1500,
      comment: "main → link",
      direction: "inbound",
    },
    { tsNs: 1_700_000_005_000_000_001n, data: new Uint8Array(0) },
    { tsNs: 1_700_000_005_000_000_001n, data: new Uint8Array(300).fill(9), comment: "ü" },
  ];
}

for (const format of ["pcap", "pcapng"] as const) {
  for (const tsResolution of ["us", "ns"] as const satisfies TsResolution[]) {
    Deno.test(`${format} ${tsResolution}: beginRecord/commitRecord write the same bytes as write()`, async () => {
      const copy = memorySink();
      const inPlace = memorySink();
      const options = { tsResolution, snapLength: 200, chunkBytes: 256 };
      const a = createWriter(format, copy.sink, options);
      const b = createWriter(format, inPlace.sink, options);
      for (const p of packets()) {
        a.write(p);
        writeInPlace(b, p);
      }
      await a.close();
      await b.close();
      assert.deepEqual(inPlace.bytes(), copy.bytes());
      const { records, error } = await readAll([inPlace.bytes()]);
      assert.equal(error, undefined);
      // The 300-byte frame is cut to the 200-byte snap length, its wire length kept.
      assert.deepEqual(records.map((r) => [r.data.length, r.originalLength]), [
        [3, 3],
        [61, 1500],
        [0, 0],
        [200, 300],
      ]);
      assert.deepEqual(records[3].data, Array(200).fill(9));
      if (format === "pcapng") {
        assert.deepEqual(records.map((r) => [r.direction, r.comment]), [
          ["outbound", undefined],
          ["inbound", "main → link"],
          [undefined, undefined],
          [undefined, "ü"],
        ]);
      }
    });
  }
}

Deno.test("PcapngWriter.beginRecord() carries nanoseconds into the upper 32 bits of units", async () => {
  // 2^32 ns = 4.294967296 s: a time just below and one just above the boundary.
  const m = memorySink();
  const w = new PcapngWriter(m.sink);
  const times = [(1n << 32n) - 1n, 1n << 32n, (5n << 32n) + 123n, 1_700_000_000_000_000_000n];
  for (const tsNs of times) writeInPlace(w, { tsNs, data: Uint8Array.of(1) });
  await w.close();
  const { records } = await readAll([m.bytes()]);
  assert.deepEqual(records.map((r) => r.tsNs), times);
});

Deno.test("beginRecord() and commitRecord() reject misuse with RangeError", async () => {
  for (const w of [new PcapWriter(memorySink().sink), new PcapngWriter(memorySink().sink)]) {
    assert.throws(() => w.commitRecord(), RangeError);
    assert.throws(() => w.beginRecord(1, 1_000_000_000, 4), RangeError);
    assert.throws(() => w.beginRecord(-1, 0, 4), RangeError);
    assert.throws(() => w.beginRecord(1.5, 0, 4), RangeError);
    w.beginRecord(1, 0, 4);
    assert.throws(() => w.beginRecord(1, 0, 4), RangeError, "a second open record");
    assert.throws(() => w.write({ tsNs: 1n, data: new Uint8Array(4) }), RangeError);
    w.commitRecord();
    await w.close();
    assert.throws(() => w.beginRecord(1, 0, 4), RangeError);
  }
  assert.throws(() => new PcapWriter(memorySink().sink).beginRecord(2 ** 32, 0, 4), RangeError);
  assert.throws(() => new PcapngWriter(memorySink().sink).beginRecord(2 ** 40, 0, 4), RangeError);
  assert.throws(
    () => new PcapngWriter(memorySink().sink).beginRecord(0, 0, 4, { interfaceId: 1 }),
    RangeError,
  );
});

/**
 * A slow sink, like a file: it reads each chunk a timer tick after the write started, so a
 * chunk rewritten while its write is pending shows up in the copy.
 */
function trackingSink() {
  const seen: { buffer: ArrayBufferLike; copy: Uint8Array }[] = [];
  return {
    seen,
    sink: new WritableStream<Uint8Array>({
      async write(c) {
        await new Promise((r) => setTimeout(r, 0));
        seen.push({ buffer: c.buffer, copy: c.slice() });
      },
    }),
  };
}

Deno.test("recycleChunks reuses accepted chunks and never rewrites one the sink still holds", async () => {
  const t = trackingSink();
  const w = new PcapWriter(t.sink, { chunkBytes: 1024, recycleChunks: true });
  const frame = new Uint8Array(200);
  let written = 0;
  for (let i = 0; i < 60; i++) {
    frame.fill(i);
    w.write({ tsNs: BigInt(i) * NS, data: frame });
    written++;
    // While a write is pending the chunk it came from must stay untouched: check each copy.
    if (i % 6 === 5) await w.flush();
  }
  await w.close();
  const buffers = new Set(t.seen.map((s) => s.buffer));
  assert.ok(buffers.size < t.seen.length, `no chunk reused: ${buffers.size} buffers`);
  const { records, error } = await readAll(t.seen.map((s) => s.copy));
  assert.equal(error, undefined);
  assert.equal(records.length, written);
  records.forEach((r, i) => assert.deepEqual(r.data, Array(200).fill(i)));
});

Deno.test("without recycleChunks every chunk handed to the sink is a fresh buffer", async () => {
  const t = trackingSink();
  const w = new PcapWriter(t.sink, { chunkBytes: 1024 });
  for (let i = 0; i < 30; i++) {
    w.write({ tsNs: 0n, data: new Uint8Array(200) });
    if (i % 6 === 5) await w.flush();
  }
  await w.close();
  // Flushes hand out several views of one chunk; a buffer never comes back after a later one.
  const order = t.seen.map((s) => s.buffer);
  for (let i = 1; i < order.length; i++) {
    if (order[i] !== order[i - 1]) assert.ok(!order.slice(0, i).includes(order[i]));
  }
});
