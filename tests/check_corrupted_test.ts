/**
 * Corrupted copies of a real session, built by rewriting records with the lib/pcap writer:
 * `check` must exit 1 and name the exact packet. Also the CLI's exit codes for unreadable input.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import type { CaptureRecord } from "../lib/pcap/types.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { readSpiceMessages } from "../lib/session/messages.ts";

const SOURCE = new URL("../fixtures/raw/screenshot_lo.pcapng", import.meta.url).pathname;

interface JsonFinding {
  type: string;
  severity: string;
  code: string;
  packetNumber?: number;
  file: string;
  expected?: string;
  actual?: string;
}

async function readAll(path: string): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCaptureFile(path)) out.push(r);
  return out;
}

/** Packet number completing the first unit with this message name. */
async function packetOf(name: string): Promise<number> {
  for await (const ev of readSpiceMessages(readCaptureFile(SOURCE))) {
    if (ev.unit.kind === "message" && ev.unit.name === name) return ev.packetNumber;
  }
  throw new Error(`no ${name} message in ${SOURCE}`);
}

async function writeCopy(dir: string, name: string, records: CaptureRecord[]): Promise<string> {
  const path = `${dir}/${name}`;
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const w = createWriter("pcap", file.writable, {
    linkType: records[0].linkType,
    tsResolution: "ns",
  });
  for (const r of records) {
    w.write({ tsNs: r.tsNs, data: r.data, originalLength: r.originalLength });
  }
  await w.close();
  return path;
}

/** Swaps Ethernet MACs, IPv4 addresses and TCP ports (checksums stay valid: sums commute). */
function swapDirection(frame: Uint8Array): Uint8Array {
  const f = frame.slice();
  const swap = (a: number, b: number, n: number) => {
    for (let i = 0; i < n; i++) [f[a + i], f[b + i]] = [f[b + i], f[a + i]];
  };
  const ip = 14;
  const tcp = ip + (f[ip] & 0x0f) * 4;
  swap(0, 6, 6);
  swap(ip + 12, ip + 16, 4);
  swap(tcp, tcp + 2, 2);
  return f;
}

async function check(
  path: string,
): Promise<{ code: number; findings: JsonFinding[]; io: ReturnType<typeof memoryIo> }> {
  const io = memoryIo();
  const code = await main(["check", "--json", path], io);
  const lines = io.stdout().trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(lines.at(-1).type, "summary", "the summary comes last");
  return { code, findings: lines.filter((l) => l.type === "finding"), io };
}

function firstError(findings: JsonFinding[]): JsonFinding {
  const e = findings.find((f) => f.severity === "error");
  assert.ok(e, `expected an error finding, got ${JSON.stringify(findings)}`);
  return e;
}

Deno.test("check exits 0 on an unmodified pcap copy of the real session", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = await writeCopy(dir, "copy.pcap", await readAll(SOURCE));
    const { code, findings } = await check(path);
    assert.equal(code, 0, JSON.stringify(findings));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check names the packet after a dropped segment as a sequence gap", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const records = await readAll(SOURCE);
    const dropped = await packetOf("NAME");
    const copy = records.filter((r) => r.packetNumber !== dropped);
    const { code, findings } = await check(await writeCopy(dir, "dropped.pcap", copy));
    assert.equal(code, 1);
    const e = firstError(findings);
    // the packet that now carries number `dropped` is the one right after the hole
    assert.equal(e.packetNumber, dropped);
    assert.ok(e.code === "seq-gap" || e.code === "ack-unsent", e.code);
    const gap = findings.find((f) => f.code === "seq-gap")!;
    assert.match(gap.expected!, /^seq \d+$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check names a packet whose source and destination were swapped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const records = await readAll(SOURCE);
    const swapped = await packetOf("UUID");
    const copy = records.map((r) =>
      r.packetNumber === swapped ? { ...r, data: swapDirection(r.data) } : r
    );
    const { code, findings } = await check(await writeCopy(dir, "swapped.pcap", copy));
    assert.equal(code, 1);
    const e = firstError(findings);
    assert.deepEqual([e.code, e.packetNumber], ["direction", swapped]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check names a packet whose timestamp was moved back", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const records = await readAll(SOURCE);
    const moved = 20;
    const copy = records.map((r) =>
      r.packetNumber === moved ? { ...r, tsNs: records[moved - 2].tsNs - 1_000_000n } : r
    );
    const { code, findings } = await check(await writeCopy(dir, "time.pcap", copy));
    assert.equal(code, 1);
    const errors = findings.filter((f) => f.severity === "error");
    assert.deepEqual(errors.map((f) => [f.code, f.packetNumber]), [["time-backwards", moved]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check reports a cut final record as a truncated tail and exits 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const records = await readAll(SOURCE);
    const path = await writeCopy(dir, "cut.pcap", records);
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 10));
    const { code, findings } = await check(path);
    assert.equal(code, 1);
    const tail = findings.filter((f) => f.code === "truncated-tail");
    assert.equal(tail.length, 1);
    assert.equal(tail[0].packetNumber, records.length);
    assert.equal(tail[0].file, path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check exits 2 naming the file when it is not a capture or does not exist", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const junk = `${dir}/junk.pcap`;
    await Deno.writeTextFile(junk, "this is not a capture file at all");
    const io = memoryIo();
    assert.equal(await main(["check", junk], io), 2);
    assert.match(io.stdout(), /junk\.pcap.*unreadable/);
    const io2 = memoryIo();
    assert.equal(await main(["check", `${dir}/missing.pcap`], io2), 2);
    assert.match(io2.stdout(), /missing\.pcap/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("check rejects bad usage with exit 2", async () => {
  const io = memoryIo();
  assert.equal(await main(["check"], io), 2);
  assert.match(io.stderr(), /PATH/);
  const io2 = memoryIo();
  assert.equal(await main(["check", "--bogus", SOURCE], io2), 2);
  const io3 = memoryIo();
  assert.equal(await main(["check", "--help"], io3), 0);
  assert.match(io3.stdout(), /^Usage: deno task check/);
});
