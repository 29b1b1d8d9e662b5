import assert from "node:assert/strict";
import { chunkings, readAll } from "../../testing/pcap_test_util.ts";
import { concatBytes } from "../bytes.ts";
import {
  BLOCK_TYPE,
  encodeBlock,
  encodeIdb,
  encodeOptions,
  encodeShb,
  OPTION,
  type PcapngOption,
  tsresolToNs,
} from "./pcapng_codec.ts";
import { CaptureFormatError, type InterfaceInfo, TruncatedCaptureError } from "./types.ts";

/** Big-endian pcapng: SHB, IDB "eth" (ns), EPB with flags and comment, unknown block. */
const BE_NG = Uint8Array.of(
  0x0a,
  0x0d,
  0x0d,
  0x0a, // SHB type
  0x00,
  0x00,
  0x00,
  0x1c, // length 28
  0x1a,
  0x2b,
  0x3c,
  0x4d, // byte-order magic, big-endian
  0x00,
  0x01,
  0x00,
  0x00, // version 1.0
  0xff,
  0xff,
  0xff,
  0xff, // section length -1 (high)
  0xff,
  0xff,
  0xff,
  0xff, // section length -1 (low)
  0x00,
  0x00,
  0x00,
  0x1c, // length 28
  0x00,
  0x00,
  0x00,
  0x01, // IDB type (offset 28)
  0x00,
  0x00,
  0x00,
  0x28, // length 40
  0x00,
  0x01,
  0x00,
  0x00, // linktype 1, reserved
  0x00,
  0x00,
  0xff,
  0xff, // snaplen 65535
  0x00,
  0x02,
  0x00,
  0x03, // if_name, 3 bytes
  0x65,
  0x74,
  0x68,
  0x00, // "eth" + padding
  0x00,
  0x09,
  0x00,
  0x01, // if_tsresol, 1 byte
  0x09,
  0x00,
  0x00,
  0x00, // 9 (ns) + padding
  0x00,
  0x00,
  0x00,
  0x00, // opt_endofopt
  0x00,
  0x00,
  0x00,
  0x28, // length 40
  0x00,
  0x00,
  0x00,
  0x06, // EPB type (offset 68)
  0x00,
  0x00,
  0x00,
  0x38, // length 56
  0x00,
  0x00,
  0x00,
  0x00, // interface 0
  0x17,
  0x97,
  0x9c,
  0xfe, // timestamp high
  0x3d,
  0x85,
  0xcd,
  0x15, // timestamp low (1700000000123456789 ns)
  0x00,
  0x00,
  0x00,
  0x04, // captured length 4
  0x00,
  0x00,
  0x00,
  0x3c, // original length 60
  0xde,
  0xad,
  0xbe,
  0xef, // data
  0x00,
  0x02,
  0x00,
  0x04, // epb_flags, 4 bytes
  0x00,
  0x00,
  0x00,
  0x01, // inbound
  0x00,
  0x01,
  0x00,
  0x02, // opt_comment, 2 bytes
  0x68,
  0x69,
  0x00,
  0x00, // "hi" + padding
  0x00,
  0x00,
  0x00,
  0x00, // opt_endofopt
  0x00,
  0x00,
  0x00,
  0x38, // length 56
  0x00,
  0x00,
  0x0b,
  0xad, // unknown block type (offset 124)
  0x00,
  0x00,
  0x00,
  0x10, // length 16
  0x01,
  0x02,
  0x03,
  0x04, // body
  0x00,
  0x00,
  0x00,
  0x10, // length 16
);

const BE_NG_RECORD = {
  packetNumber: 1,
  offset: 68,
  tsNs: 1_700_000_000_123_456_789n,
  interfaceId: 0,
  linkType: 1,
  data: [0xde, 0xad, 0xbe, 0xef],
  originalLength: 60,
  direction: "inbound",
  comment: "hi",
};

Deno.test("readCapture() reads a big-endian pcapng and skips unknown blocks in every chunking", async () => {
  for (const { name, chunks } of chunkings(BE_NG)) {
    const interfaces: InterfaceInfo[] = [];
    const formats: unknown[] = [];
    const { records, error } = await readAll(chunks, {
      onInterface: (i) => interfaces.push(i),
      onFormat: (f) => formats.push(f),
    });
    assert.equal(error, undefined, `${name}: ${error}`);
    assert.deepEqual(records, [BE_NG_RECORD], name);
    assert.deepEqual(formats, [{ format: "pcapng", littleEndian: false }]);
    assert.deepEqual(interfaces, [{
      id: 0,
      linkType: 1,
      snapLength: 65535,
      tsResolution: "ns",
      tsresol: 9,
      section: 0,
      name: "eth",
    }]);
  }
});

/** An EPB built with the codec (little-endian unless told). */
function epb(
  fields: { iface: number; units: bigint; data: number[]; options?: Uint8Array },
  le = true,
): Uint8Array {
  const fixed = new Uint8Array(20);
  const v = new DataView(fixed.buffer);
  v.setUint32(0, fields.iface, le);
  v.setUint32(4, Number(fields.units >> 32n), le);
  v.setUint32(8, Number(fields.units & 0xffffffffn), le);
  v.setUint32(12, fields.data.length, le);
  v.setUint32(16, fields.data.length, le);
  const data = new Uint8Array((fields.data.length + 3) & ~3);
  data.set(fields.data);
  return encodeBlock(
    BLOCK_TYPE.EPB,
    concatBytes([fixed, data, fields.options ?? new Uint8Array()]),
    le,
  );
}

/** An IDB with a raw if_tsresol byte and an optional if_tsoffset. */
function idb(tsresol: number, tsOffsetSeconds = 0n, le = true, linkType = 1): Uint8Array {
  const fixed = new Uint8Array(8);
  new DataView(fixed.buffer).setUint16(0, linkType, le);
  const offset = new Uint8Array(8);
  new DataView(offset.buffer).setBigInt64(0, tsOffsetSeconds, le);
  const options: PcapngOption[] = [{ code: OPTION.IF_TSRESOL, value: Uint8Array.of(tsresol) }];
  if (tsOffsetSeconds !== 0n) options.push({ code: OPTION.IF_TSOFFSET, value: offset });
  return encodeBlock(BLOCK_TYPE.IDB, concatBytes([fixed, encodeOptions(options, le)]), le);
}

Deno.test("readCapture() numbers interfaces across sections and follows each byte order", async () => {
  const bytes = concatBytes([
    encodeShb({ littleEndian: true }),
    encodeIdb({ linkType: 1, snapLength: 0, tsResolution: "us", name: "a" }, true),
    encodeIdb({ linkType: 101, snapLength: 0, tsResolution: "ns", name: "b" }, true),
    epb({ iface: 1, units: 5n, data: [1] }),
    epb({ iface: 0, units: 7n, data: [2, 2] }),
    encodeBlock(0x0bad, Uint8Array.of(9, 9, 9, 9), true),
    encodeShb({ littleEndian: false }),
    encodeIdb({ linkType: 228, snapLength: 0, tsResolution: "ns", name: "c" }, false),
    epb({ iface: 0, units: 9n, data: [3, 3, 3] }, false),
  ]);
  for (const { name, chunks } of chunkings(bytes)) {
    const ids: [number, string | undefined, number | undefined][] = [];
    const { records, error } = await readAll(chunks, {
      onInterface: (i) => ids.push([i.id, i.name, i.section]),
    });
    assert.equal(error, undefined, `${name}: ${error}`);
    assert.deepEqual(ids, [[0, "a", 0], [1, "b", 0], [2, "c", 1]], name);
    assert.deepEqual(
      records.map((r) => [r.packetNumber, r.interfaceId, r.linkType, r.tsNs, r.data]),
      [[1, 1, 101, 5n, [1]], [2, 0, 1, 7_000n, [2, 2]], [3, 2, 228, 9n, [3, 3, 3]]],
      name,
    );
  }
});

Deno.test("readCapture() converts binary if_tsresol and applies if_tsoffset", async () => {
  assert.deepEqual(tsresolToNs(0x80 | 10), { mul: 1_000_000_000n, div: 1024n });
  assert.deepEqual(tsresolToNs(12), { mul: 1n, div: 1000n });
  const bytes = concatBytes([
    encodeShb({ littleEndian: true }),
    idb(0x80 | 10), // 2^-10 s units
    idb(6, 100n), // µs units, +100 s
    epb({ iface: 0, units: 2048n, data: [1] }), // 2 s
    epb({ iface: 1, units: 1n, data: [2] }), // 100 s + 1 µs
  ]);
  const { records, error } = await readAll([bytes]);
  assert.equal(error, undefined);
  assert.deepEqual(records.map((r) => r.tsNs), [2_000_000_000n, 100_000_001_000n]);
});

Deno.test("readCapture() converts decimal timestamps exactly, below and above 2^53 units", async () => {
  const cases: [tsresol: number, tsOffsetSeconds: bigint, units: bigint[]][] = [
    [6, 0n, [1_700_000_000_999_999n, 1_700_000_001_000_000n, 1_700_000_001_000_000n]],
    [6, -5n, [2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1_000_001n, 2n ** 64n - 1n]],
    [9, 0n, [999_999_999n, 1_000_000_000n, 1_700_000_000_123_456_789n]],
    [3, 7n, [1_700_000_000_999n, 2n ** 53n - 1n]],
    [0, 0n, [0n, 1n, 2n ** 53n + 3n]],
    [12, 0n, [1_000_000_000_999n, 2n ** 60n + 1_999n]], // ps: the BigInt path, truncated
  ];
  for (const [tsresol, tsOffsetSeconds, units] of cases) {
    const { mul, div } = tsresolToNs(tsresol);
    const bytes = concatBytes([
      encodeShb({ littleEndian: true }),
      idb(tsresol, tsOffsetSeconds),
      ...units.map((u) => epb({ iface: 0, units: u, data: [1] })),
    ]);
    const { records, error } = await readAll([bytes]);
    assert.equal(error, undefined);
    assert.deepEqual(
      records.map((r) => r.tsNs),
      units.map((u) => u * mul / div + tsOffsetSeconds * 1_000_000_000n),
      `if_tsresol ${tsresol}`,
    );
  }
});

Deno.test("readCapture() reads simple and obsolete packet blocks", async () => {
  const spbBody = new Uint8Array(8);
  new DataView(spbBody.buffer).setUint32(0, 3, true); // original length 3
  spbBody.set([7, 8, 9], 4);
  const pbFixed = new Uint8Array(24);
  const v = new DataView(pbFixed.buffer);
  v.setUint16(0, 0, true); // interface 0
  v.setUint32(8, 1000, true); // timestamp low (µs)
  v.setUint32(12, 2, true); // captured
  v.setUint32(16, 2, true); // original
  pbFixed.set([5, 6], 20);
  const flags = encodeOptions([{ code: 2, value: Uint8Array.of(2, 0, 0, 0) }], true);
  const bytes = concatBytes([
    encodeShb({ littleEndian: true }),
    idb(6),
    encodeBlock(BLOCK_TYPE.SPB, spbBody, true),
    encodeBlock(BLOCK_TYPE.PB, concatBytes([pbFixed, flags]), true),
  ]);
  const { records, error } = await readAll([bytes]);
  assert.equal(error, undefined);
  assert.deepEqual(records.map((r) => [r.tsNs, r.data, r.originalLength, r.direction]), [
    [0n, [7, 8, 9], 3, undefined],
    [1_000_000n, [5, 6], 2, "outbound"],
  ]);
});

async function assertNgFails(
  bytes: Uint8Array,
  expect: { type: typeof CaptureFormatError; offset: number; message: RegExp; delivered?: number },
  options: { maxRecordBytes?: number } = {},
): Promise<void> {
  for (const { name, chunks } of chunkings(bytes)) {
    const { records, error } = await readAll(chunks, options);
    assert.ok(error instanceof expect.type, `${name}: ${error}`);
    if (expect.type === CaptureFormatError) assert.ok(!(error instanceof TruncatedCaptureError));
    assert.equal(error.offset, expect.offset, `${name}: ${error.message}`);
    assert.match(error.message, expect.message, name);
    assert.equal(records.length, expect.delivered ?? 0, name);
  }
}

Deno.test("readCapture() rejects a block length that is not a multiple of 4", async () => {
  const bytes = BE_NG.slice(0, 124);
  bytes[68 + 7] = 0x37; // EPB length 55
  await assertNgFails(bytes, {
    type: CaptureFormatError,
    offset: 72,
    message: /packet 1, byte 72: a block length that is a multiple of 4.*found 55/,
  });
});

Deno.test("readCapture() rejects a trailing length that differs from the leading one", async () => {
  const bytes = BE_NG.slice();
  bytes[124 + 15] = 0x14; // unknown block trailer says 20
  await assertNgFails(bytes, {
    type: CaptureFormatError,
    offset: 136,
    delivered: 1,
    message: /trailing block length equal to the leading 16, found 20/,
  });
});

Deno.test("readCapture() rejects a block over maxRecordBytes before buffering it", async () => {
  const bytes = BE_NG.slice(0, 76);
  bytes.set([0x7f, 0xff, 0xff, 0xfc], 72); // EPB length 2147483644
  await assertNgFails(bytes, {
    type: CaptureFormatError,
    offset: 72,
    message: /at most maxRecordBytes \(268435456\) bytes, found 2147483644/,
  });
});

Deno.test("readCapture() reports a cut pcapng block after the complete ones", async () => {
  await assertNgFails(BE_NG.subarray(0, 134), {
    type: TruncatedCaptureError,
    offset: 124,
    delivered: 1,
    message: /a 16-byte block \(type 0x00000bad\), found 10 bytes/,
  });
});

Deno.test("readCapture() rejects a packet on an interface that was never described", async () => {
  const bytes = concatBytes([
    encodeShb({ littleEndian: true }),
    idb(9),
    epb({ iface: 3, units: 1n, data: [] }),
  ]);
  await assertNgFails(bytes, {
    type: CaptureFormatError,
    offset: bytes.length - 32,
    message: /interface id below 1 .* found 3/,
  });
});

Deno.test("readCapture() rejects a pcapng section with a bad byte-order magic", async () => {
  const bytes = BE_NG.slice(0, 28);
  bytes.set([1, 2, 3, 4], 8);
  await assertNgFails(bytes, {
    type: CaptureFormatError,
    offset: 8,
    message: /byte-order magic/,
  });
});
