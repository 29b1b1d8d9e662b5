/**
 * Inputs at the edges of what the formats hold, through the CLI: times a channel file cannot
 * carry and filters nested too deep give one clear line and exit 2, and a failed merge or
 * import leaves no partial output behind (while what was there before stays untouched).
 */
import assert from "node:assert/strict";
import { concatBytes } from "../lib/bytes.ts";
import { BLOCK_TYPE, encodeBlock, encodeShb } from "../lib/pcap/pcapng_codec.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";

const RAW = new URL("../fixtures/raw/screenshot_lo.pcapng", import.meta.url).pathname;

async function run(...argv: string[]): Promise<{ code: number; stderr: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, stderr: io.stderr() };
}

/** An EPB of interface 0 whose timestamp is `units` as written, little-endian. */
function epb(units: bigint, data: Uint8Array): Uint8Array {
  const body = new Uint8Array(20 + ((data.length + 3) & ~3));
  const v = new DataView(body.buffer);
  v.setUint32(4, Number(units >> 32n), true);
  v.setUint32(8, Number(units & 0xffff_ffffn), true);
  v.setUint32(12, data.length, true);
  v.setUint32(16, data.length, true);
  body.set(data, 20);
  return encodeBlock(BLOCK_TYPE.EPB, body, true);
}

/** A pcapng with one IDB without `if_tsresol` (so µs units) and the given packets. */
function pcapngMicroseconds(linkType: number, packets: Uint8Array[]): Uint8Array {
  const idb = new Uint8Array(8);
  new DataView(idb.buffer).setUint16(0, linkType, true);
  new DataView(idb.buffer).setUint32(4, 262_144, true);
  return concatBytes([encodeShb({ littleEndian: true }), encodeBlock(BLOCK_TYPE.IDB, idb, true)]
    .concat(packets));
}

/** The raw fixture rewritten in µs units, packet i (0-based) at `unitsOf(i, its µs time)`. */
async function rawWithTimes(unitsOf: (i: number, us: bigint) => bigint): Promise<Uint8Array> {
  const packets: Uint8Array[] = [];
  let linkType = 1;
  for await (const r of readCaptureFile(RAW)) {
    linkType = r.linkType;
    packets.push(epb(unitsOf(packets.length, r.tsNs / 1000n), r.data));
  }
  return pcapngMicroseconds(linkType, packets);
}

async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) names.push(e.name);
  return names.sort();
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern);
  assert.doesNotMatch(stderr, /internal error|RangeError|\n\s+at /, stderr);
}

Deno.test("merge names the file and packet of a nanosecond time in a µs interface", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 1.7e18 "µs" (nanoseconds written without if_tsresol) is past 2554 in 64-bit ns
    await Deno.writeFile(
      `${dir}/ns.pcapng`,
      pcapngMicroseconds(1, [epb(1_700_000_000_000_000_000n, new Uint8Array(60))]),
    );
    await Deno.writeTextFile(`${dir}/old.pcapng`, "kept");
    const { code, stderr } = await run("merge", `${dir}/ns.pcapng`, "-o", `${dir}/old.pcapng`);
    assert.equal(code, 2);
    assertOneLine(stderr, /ns\.pcapng, packet 1, byte 48: a timestamp a pcapng file can hold/);
    assert.deepEqual(await entries(dir), ["ns.pcapng", "old.pcapng"]);
    assert.equal(await Deno.readTextFile(`${dir}/old.pcapng`), "kept");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import past 2106 into pcap fails on that packet and leaves no session behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const year2200Us = 7_258_118_400_000_000n;
    // the first 30 packets are fine (files get written), then the times jump to 2200
    await Deno.writeFile(
      `${dir}/late.pcapng`,
      await rawWithTimes((i, us) => i < 30 ? us : year2200Us + BigInt(i)),
    );
    let { code, stderr } = await run("import", `${dir}/late.pcapng`, "-o", `${dir}/a/b/out`);
    assert.equal(code, 2);
    assertOneLine(stderr, /late\.pcapng, packet 31, byte \d+: a timestamp a pcap file can hold/);
    assert.deepEqual(await entries(dir), ["late.pcapng"]);
    // an existing directory that is not empty is refused up front and left as it was
    await Deno.mkdir(`${dir}/existing`);
    await Deno.writeTextFile(`${dir}/existing/notes.txt`, "mine");
    ({ code, stderr } = await run("import", `${dir}/late.pcapng`, "-o", `${dir}/existing`));
    assert.equal(code, 2, stderr);
    assertOneLine(stderr, /existing is not empty \(notes\.txt\)/);
    assert.deepEqual(await entries(`${dir}/existing`), ["notes.txt"]);
    // pcapng channel files hold 2200: the same input imports, into an empty directory too
    await Deno.mkdir(`${dir}/empty`);
    ({ code, stderr } = await run(
      "import",
      `${dir}/late.pcapng`,
      "--format",
      "pcapng",
      "-o",
      `${dir}/empty`,
    ));
    assert.equal(code, 0, stderr);
    assert.deepEqual(await entries(`${dir}/empty`), [
      "display.pcapng",
      "main.pcapng",
      "session.json",
    ]);
    assert.deepEqual(await entries(dir), ["empty", "existing", "late.pcapng"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import --format pcapng of times near 2^63 µs is a clear error, not a Date error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/far.pcapng`, await rawWithTimes((i) => (1n << 63n) + BigInt(i)));
    const { code, stderr } = await run(
      "import",
      `${dir}/far.pcapng`,
      "--format",
      "pcapng",
      "-o",
      `${dir}/out`,
    );
    assert.equal(code, 2);
    assertOneLine(stderr, /far\.pcapng, packet 1, byte 48: a timestamp a pcapng file can hold/);
    assert.deepEqual(await entries(dir), ["far.pcapng"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect --filter with 5000 nested parentheses names the column, exit 2", async () => {
  const filter = "(".repeat(5000) + "tcp" + ")".repeat(5000);
  const { code, stderr } = await run("inspect", "--filter", filter, RAW);
  assert.equal(code, 2);
  assertOneLine(stderr, /filter: column 101: expected at most 100 nested '\(' and 'not'/);
});
