import assert from "node:assert/strict";
import { chunkings, readAll, type RecordSnapshot } from "../../testing/pcap_test_util.ts";
import { concatBytes } from "../bytes.ts";
import { readCapture, readCaptureBatches, readCaptureFile } from "./reader.ts";
import { CaptureFormatError, type InterfaceInfo, TruncatedCaptureError } from "./types.ts";

/** Big-endian, microsecond pcap with two records (pcapgo read_test.go style). */
const BE_US_TWO_RECORDS = Uint8Array.of(
  0xa1,
  0xb2,
  0xc3,
  0xd4, // magic: big-endian, µs
  0x00,
  0x02,
  0x00,
  0x04, // version 2.4
  0x00,
  0x00,
  0x00,
  0x00, // thiszone
  0x00,
  0x00,
  0x00,
  0x00, // sigfigs
  0x00,
  0x00,
  0xff,
  0xff, // snaplen 65535
  0x00,
  0x00,
  0x00,
  0x01, // linktype 1 (Ethernet)
  0x65,
  0x53,
  0xf1,
  0x00, // record 1 ts_sec 1700000000
  0x00,
  0x01,
  0xe2,
  0x40, // ts_usec 123456
  0x00,
  0x00,
  0x00,
  0x04, // incl_len 4
  0x00,
  0x00,
  0x00,
  0x3c, // orig_len 60
  0xde,
  0xad,
  0xbe,
  0xef, // data
  0x65,
  0x53,
  0xf1,
  0x01, // record 2 ts_sec 1700000001
  0x00,
  0x00,
  0x00,
  0x01, // ts_usec 1
  0x00,
  0x00,
  0x00,
  0x02, // incl_len 2
  0x00,
  0x00,
  0x00,
  0x02, // orig_len 2
  0x01,
  0x02, // data
);

/** Little-endian, nanosecond pcap, link type RAW, one record. */
const LE_NS_ONE_RECORD = Uint8Array.of(
  0x4d,
  0x3c,
  0xb2,
  0xa1, // magic: little-endian, ns
  0x02,
  0x00,
  0x04,
  0x00, // version 2.4
  0x00,
  0x00,
  0x00,
  0x00, // thiszone
  0x00,
  0x00,
  0x00,
  0x00, // sigfigs
  0x00,
  0x00,
  0x04,
  0x00, // snaplen 262144
  0x65,
  0x00,
  0x00,
  0x00, // linktype 101 (RAW)
  0x00,
  0xf1,
  0x53,
  0x65, // ts_sec 1700000000
  0x15,
  0xcd,
  0x5b,
  0x07, // ts_nsec 123456789
  0x03,
  0x00,
  0x00,
  0x00, // incl_len 3
  0x03,
  0x00,
  0x00,
  0x00, // orig_len 3
  0x45,
  0x00,
  0x00, // data
);

const BE_US_RECORDS: RecordSnapshot[] = [
  {
    packetNumber: 1,
    offset: 24,
    tsNs: 1_700_000_000_123_456_000n,
    interfaceId: 0,
    linkType: 1,
    data: [0xde, 0xad, 0xbe, 0xef],
    originalLength: 60,
  },
  {
    packetNumber: 2,
    offset: 44,
    tsNs: 1_700_000_001_000_001_000n,
    interfaceId: 0,
    linkType: 1,
    data: [1, 2],
    originalLength: 2,
  },
];

Deno.test("readCapture() reads a big-endian µs pcap in every chunking", async () => {
  for (const { name, chunks } of chunkings(BE_US_TWO_RECORDS)) {
    const { records, error } = await readAll(chunks);
    assert.equal(error, undefined, name);
    assert.deepEqual(records, BE_US_RECORDS, name);
  }
});

Deno.test("readCapture() reads a little-endian ns pcap and reports format and interface", async () => {
  for (const { name, chunks } of chunkings(LE_NS_ONE_RECORD)) {
    const formats: unknown[] = [];
    const interfaces: InterfaceInfo[] = [];
    const { records, error } = await readAll(chunks, {
      onFormat: (f) => formats.push(f),
      onInterface: (i) => interfaces.push(i),
    });
    assert.equal(error, undefined, name);
    assert.deepEqual(formats, [{ format: "pcap", littleEndian: true }], name);
    assert.deepEqual(interfaces, [
      { id: 0, linkType: 101, snapLength: 262_144, tsResolution: "ns" },
    ], name);
    assert.deepEqual(records, [{
      packetNumber: 1,
      offset: 24,
      tsNs: 1_700_000_000_123_456_789n,
      interfaceId: 0,
      linkType: 101,
      data: [0x45, 0, 0],
      originalLength: 3,
    }], name);
  }
});

Deno.test("readCapture() accepts a header-only file as zero packets", async () => {
  for (const { name, chunks } of chunkings(BE_US_TWO_RECORDS.subarray(0, 24))) {
    assert.deepEqual(await readAll(chunks), { records: [] }, name);
  }
});

/** Asserts every chunking fails with `type` at `offset`, after delivering `delivered`. */
async function assertFails(
  bytes: Uint8Array,
  expect: {
    type: typeof CaptureFormatError;
    offset: number;
    packetNumber?: number;
    delivered?: number;
    message: RegExp;
  },
): Promise<void> {
  for (const { name, chunks } of chunkings(bytes)) {
    const { records, error } = await readAll(chunks, { file: "x.pcap" });
    assert.ok(error instanceof expect.type, `${name}: ${error}`);
    if (expect.type === CaptureFormatError) {
      assert.ok(!(error instanceof TruncatedCaptureError), `${name}: not truncation: ${error}`);
    }
    assert.equal(error.offset, expect.offset, `${name}: ${error.message}`);
    assert.equal(error.packetNumber, expect.packetNumber, name);
    assert.equal(error.file, "x.pcap");
    assert.match(error.message, expect.message, name);
    assert.equal(records.length, expect.delivered ?? 0, name);
  }
}

Deno.test("readCapture() rejects a zero-length file at offset 0", async () => {
  const { records, error } = await readAll([], { file: "empty.pcap" });
  assert.deepEqual(records, []);
  assert.ok(error instanceof CaptureFormatError);
  assert.ok(!(error instanceof TruncatedCaptureError));
  assert.equal(error.offset, 0);
  assert.match(error.message, /^empty\.pcap, byte 0: a pcap or pcapng file header/);
});

Deno.test("readCapture() rejects a bad magic naming what it found", async () => {
  const bytes = BE_US_TWO_RECORDS.slice();
  bytes.set([0x12, 0x34, 0x56, 0x78]);
  await assertFails(bytes, {
    type: CaptureFormatError,
    offset: 0,
    message: /found 0x12345678/,
  });
});

Deno.test("readCapture() reports a cut file header as truncation", async () => {
  await assertFails(BE_US_TWO_RECORDS.subarray(0, 20), {
    type: TruncatedCaptureError,
    offset: 0,
    message: /24-byte pcap file header, found 20 bytes/,
  });
});

Deno.test("readCapture() reports the offset of a cut record header", async () => {
  await assertFails(BE_US_TWO_RECORDS.subarray(0, 24 + 20 + 9), {
    type: TruncatedCaptureError,
    offset: 44,
    packetNumber: 2,
    delivered: 1,
    message: /packet 2, byte 44: a 16-byte record header, found 9 bytes/,
  });
});

Deno.test("readCapture() delivers complete records before reporting cut packet data", async () => {
  await assertFails(BE_US_TWO_RECORDS.subarray(0, BE_US_TWO_RECORDS.length - 1), {
    type: TruncatedCaptureError,
    offset: 60,
    packetNumber: 2,
    delivered: 1,
    message: /2 bytes of packet data, found 1/,
  });
});

Deno.test("readCapture() rejects an absurd record length without reading on", async () => {
  const head = BE_US_TWO_RECORDS.slice(0, 40);
  head.set([0xff, 0xff, 0xff, 0xf0], 32); // incl_len 4294967280
  let pulled = 0;
  async function* endless() {
    yield head;
    for (;;) {
      pulled++;
      yield new Uint8Array(1 << 16);
    }
  }
  const { records, error } = await readAll(endless());
  assert.ok(error instanceof CaptureFormatError && !(error instanceof TruncatedCaptureError));
  assert.equal(error.offset, 32);
  assert.equal(error.packetNumber, 1);
  assert.match(error.message, /at most 262144 bytes.*found 4294967280/);
  assert.deepEqual(records, []);
  assert.equal(pulled, 0, "the reader pulled data for a record it should have rejected");
});

Deno.test("readCapture() applies maxRecordBytes below the snap length", async () => {
  const { records, error } = await readAll([BE_US_TWO_RECORDS], { maxRecordBytes: 3 });
  assert.ok(error instanceof CaptureFormatError);
  assert.equal(error.offset, 32);
  assert.match(error.message, /at most 3 bytes/);
  assert.deepEqual(records, []);
});

Deno.test("readCaptureBatches() yields the same records as readCapture()", async () => {
  const seen: number[] = [];
  for await (const batch of readCaptureBatches([BE_US_TWO_RECORDS])) {
    for (const r of batch) seen.push(r.packetNumber);
  }
  assert.deepEqual(seen, [1, 2]);
});

Deno.test("readCapture() records stay intact after later chunks arrive", async () => {
  const kept = [];
  for await (const r of readCapture(chunkings(BE_US_TWO_RECORDS)[1].chunks)) kept.push(r);
  assert.deepEqual(kept.map((r) => Array.from(r.data)), [[0xde, 0xad, 0xbe, 0xef], [1, 2]]);
});

Deno.test("readCapture() stops pulling the source when the consumer breaks early", async () => {
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(BE_US_TWO_RECORDS.slice());
    },
    cancel() {
      cancelled = true;
    },
  });
  for await (const r of readCapture(stream)) {
    assert.equal(r.packetNumber, 1);
    break;
  }
  assert.ok(cancelled, "the stream was never cancelled");
});

Deno.test("readCaptureFile() names the file in errors and reads real files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = `${dir}/good.pcap`;
    await Deno.writeFile(good, concatBytes([BE_US_TWO_RECORDS]));
    const numbers = [];
    for await (const r of readCaptureFile(good)) numbers.push(r.packetNumber);
    assert.deepEqual(numbers, [1, 2]);
    const bad = `${dir}/bad.pcap`;
    await Deno.writeFile(bad, BE_US_TWO_RECORDS.subarray(0, 50));
    await assert.rejects(
      async () => {
        for await (const _ of readCaptureFile(bad)) { /* drain */ }
      },
      (e: unknown) => e instanceof TruncatedCaptureError && e.file === bad && e.offset === 44,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
