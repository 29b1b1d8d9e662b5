import assert from "node:assert/strict";
import { memorySink, readAll } from "../../testing/pcap_test_util.ts";
import { BLOCK_TYPE, decodeOptions, OPTION } from "./pcapng_codec.ts";
import { PcapngWriter } from "./pcapng_writer.ts";
import { PcapWriter } from "./pcap_writer.ts";
import type { CaptureRecord, InterfaceInfo, PacketToWrite } from "./types.ts";
import { createWriter } from "./writer.ts";

const T0 = 1_700_000_000_123_456_789n;

function packets(): PacketToWrite[] {
  return [
    { tsNs: T0, data: Uint8Array.of(1, 2, 3) },
    { tsNs: T0 + 999_999_999n, data: new Uint8Array(61).fill(7), originalLength: 1500 },
    { tsNs: T0 + 5_000_000_001n, data: new Uint8Array(0) },
  ];
}

for (const tsResolution of ["us", "ns"] as const) {
  for (const littleEndian of [true, false]) {
    Deno.test(`PcapWriter round-trips ${tsResolution} ${littleEndian ? "LE" : "BE"} through readCapture()`, async () => {
      const m = memorySink();
      const w = new PcapWriter(m.sink, { tsResolution, littleEndian, linkType: 101 });
      for (const p of packets()) w.write(p);
      await w.close();
      const bytes = m.bytes();
      assert.equal(
        new DataView(bytes.buffer).getUint32(0, littleEndian),
        tsResolution === "ns" ? 0xa1b23c4d : 0xa1b2c3d4,
      );
      const formats: unknown[] = [];
      const { records, error } = await readAll([bytes], { onFormat: (f) => formats.push(f) });
      assert.equal(error, undefined);
      assert.deepEqual(formats, [{ format: "pcap", littleEndian }]);
      const keep = (t: bigint) => tsResolution === "ns" ? t : t / 1000n * 1000n;
      assert.deepEqual(
        records.map((r) => [r.tsNs, r.data.length, r.originalLength, r.linkType]),
        packets().map((p) => [keep(p.tsNs), p.data.length, p.originalLength ?? p.data.length, 101]),
      );
      assert.deepEqual(records[1].data, Array(61).fill(7));
    });
  }
}

Deno.test("PcapWriter writes the exact µs little-endian file header", async () => {
  const m = memorySink();
  await new PcapWriter(m.sink, { snapLength: 0x1234 }).close();
  assert.deepEqual(Array.from(m.bytes()), [
    0xd4,
    0xc3,
    0xb2,
    0xa1, // magic
    2,
    0,
    4,
    0, // version 2.4
    0,
    0,
    0,
    0, // thiszone
    0,
    0,
    0,
    0, // sigfigs
    0x34,
    0x12,
    0,
    0, // snaplen
    1,
    0,
    0,
    0, // Ethernet
  ]);
});

Deno.test("PcapWriter cuts to the snap length and keeps the original length", async () => {
  const m = memorySink();
  const w = new PcapWriter(m.sink, { snapLength: 100 });
  w.write({ tsNs: T0, data: new Uint8Array(200).map((_, i) => i) });
  await w.close();
  const { records } = await readAll([m.bytes()]);
  assert.equal(records[0].data.length, 100);
  assert.equal(records[0].originalLength, 200);
  assert.deepEqual(records[0].data, Array.from({ length: 100 }, (_, i) => i));
});

for (const tsResolution of ["us", "ns"] as const) {
  for (const littleEndian of [true, false]) {
    Deno.test(`PcapngWriter round-trips ${tsResolution} ${littleEndian ? "LE" : "BE"} with interfaces, flags and comments`, async () => {
      const m = memorySink();
      const w = new PcapngWriter(m.sink, {
        littleEndian,
        application: "spicecap test",
        interfaces: [{ name: "main", description: "main channel", tsResolution }],
      });
      const second = w.addInterface({ name: "raw", linkType: 101, snapLength: 8, tsResolution });
      w.write({ ...packets()[0], direction: "outbound", comment: "link message ✓" });
      w.write({ ...packets()[1], interfaceId: second, direction: "inbound" });
      w.write({ ...packets()[2], comment: "odd" });
      w.setInterfaceDrops(second, 42n);
      await w.close();
      const interfaces: InterfaceInfo[] = [];
      const { records, error } = await readAll([m.bytes()], {
        onInterface: (i) => interfaces.push(i),
      });
      assert.equal(error, undefined);
      assert.deepEqual(
        interfaces.map((
          i,
        ) => [i.id, i.name, i.description, i.linkType, i.snapLength, i.tsResolution]),
        [
          [0, "main", "main channel", 1, 262_144, tsResolution],
          [1, "raw", undefined, 101, 8, tsResolution],
        ],
      );
      const keep = (t: bigint) => tsResolution === "ns" ? t : t / 1000n * 1000n;
      assert.deepEqual(
        records.map((
          r,
        ) => [r.interfaceId, r.tsNs, r.data.length, r.originalLength, r.direction, r.comment]),
        [
          [0, keep(T0), 3, 3, "outbound", "link message ✓"],
          [1, keep(T0 + 999_999_999n), 8, 1500, "inbound", undefined],
          [0, keep(T0 + 5_000_000_001n), 0, 0, undefined, "odd"],
        ],
      );
      assert.deepEqual(isbCounters(m.bytes(), littleEndian), [[0, 2n, 0n], [1, 1n, 42n]]);
    });
  }
}

/** [interface, isb_ifrecv, isb_ifdrop] of every ISB, walking blocks with the codec. */
function isbCounters(bytes: Uint8Array, le: boolean): [number, bigint, bigint][] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: [number, bigint, bigint][] = [];
  for (let at = 0; at < bytes.length;) {
    const length = v.getUint32(at + 4, le);
    if (v.getUint32(at, le) === BLOCK_TYPE.ISB) {
      const { options } = decodeOptions(bytes.subarray(at + 20, at + length - 4), le);
      const get = (code: number) => {
        const o = options.find((o) => o.code === code)!;
        return new DataView(o.value.buffer, o.value.byteOffset, 8).getBigUint64(0, le);
      };
      out.push([v.getUint32(at + 8, le), get(OPTION.ISB_IFRECV), get(OPTION.ISB_IFDROP)]);
    }
    at += length;
  }
  return out;
}

Deno.test("createWriter() picks the format and gives pcapng the pcap-style options", async () => {
  const m = memorySink();
  const w = createWriter("pcapng", m.sink, { tsResolution: "us", linkType: 228, snapLength: 4 });
  assert.equal(w.format, "pcapng");
  w.write({ tsNs: T0, data: Uint8Array.of(1, 2, 3, 4, 5) });
  await w.close();
  const interfaces: InterfaceInfo[] = [];
  const { records } = await readAll([m.bytes()], { onInterface: (i) => interfaces.push(i) });
  assert.deepEqual([interfaces[0].linkType, interfaces[0].snapLength, interfaces[0].tsResolution], [
    228,
    4,
    "us",
  ]);
  assert.deepEqual([records[0].data, records[0].originalLength], [[1, 2, 3, 4], 5]);
  assert.equal(createWriter("pcap", memorySink().sink).format, "pcap");
});

Deno.test("write() is synchronous and bytes reach the sink only on flush below the chunk size", async () => {
  const seen: number[] = [];
  const sink = new WritableStream<Uint8Array>({ write: (c) => void seen.push(c.length) });
  const w = new PcapWriter(sink);
  assert.equal(w.write({ tsNs: T0, data: new Uint8Array(10) }), undefined);
  assert.equal(w.bufferedBytes, 24 + 16 + 10);
  await Promise.resolve();
  assert.deepEqual(seen, []);
  await w.flush();
  assert.deepEqual(seen, [50]);
  assert.equal(w.bufferedBytes, 0);
  await w.close();
});

Deno.test("a full chunk goes to the sink without flush, and bufferedBytes counts it until accepted", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const seen: number[] = [];
  const sink = new WritableStream<Uint8Array>({
    async write(c) {
      seen.push(c.length);
      await gate;
    },
  });
  const w = new PcapngWriter(sink, { chunkBytes: 256 });
  for (let i = 0; i < 10; i++) w.write({ tsNs: T0, data: new Uint8Array(60) });
  const deadline = Date.now() + 2000;
  while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  assert.ok(seen.length > 0, "no chunk reached the sink without an explicit flush");
  assert.ok(w.bufferedBytes >= 10 * 92, `bufferedBytes ${w.bufferedBytes} forgot pending writes`);
  release();
  await w.flush();
  assert.equal(w.bufferedBytes, 0);
  await w.close();
});

Deno.test("close() twice resolves and write() after close throws", async () => {
  for (const w of [new PcapWriter(memorySink().sink), new PcapngWriter(memorySink().sink)]) {
    await w.close();
    await w.close();
    assert.throws(() => w.write({ tsNs: T0, data: new Uint8Array(1) }), RangeError);
  }
});

Deno.test("a sink that throws rejects flush and close, never write", async () => {
  for (const format of ["pcap", "pcapng"] as const) {
    const boom = new Error("disk full");
    const sink = new WritableStream<Uint8Array>({
      write() {
        throw boom;
      },
    });
    const w = createWriter(format, sink, { chunkBytes: 128 });
    for (let i = 0; i < 20; i++) w.write({ tsNs: T0, data: new Uint8Array(100) });
    await assert.rejects(w.flush(), (e) => e === boom);
    w.write({ tsNs: T0, data: new Uint8Array(100) }); // still no throw
    await assert.rejects(w.close(), (e) => e === boom);
    await w.close(); // second close resolves
  }
});

Deno.test("PcapWriter rejects timestamps a pcap record cannot hold", () => {
  const w = new PcapWriter(memorySink().sink);
  assert.throws(() => w.write({ tsNs: -1n, data: new Uint8Array(1) }), RangeError);
  assert.throws(() => w.write({ tsNs: 1n << 64n, data: new Uint8Array(1) }), RangeError);
});

Deno.test("written records are views that later writes and reads never overwrite", async () => {
  const m = memorySink();
  const w = new PcapWriter(m.sink);
  const frame = new Uint8Array(4);
  for (let i = 0; i < 3; i++) {
    frame.fill(i); // the writer copies: reusing the caller's buffer is fine
    w.write({ tsNs: T0, data: frame });
  }
  await w.close();
  const kept: CaptureRecord[] = [];
  const { readCapture } = await import("./reader.ts");
  for await (const r of readCapture([m.bytes()])) kept.push(r);
  assert.deepEqual(kept.map((r) => Array.from(r.data)), [[0, 0, 0, 0], [1, 1, 1, 1], [2, 2, 2, 2]]);
});
