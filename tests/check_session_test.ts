/**
 * `check` on session directories written by CaptureSession: clean sessions pass (pcap and
 * pcapng, with a reconnection), and each manifest or channel-file defect is named.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { steppingClock } from "../lib/capture/clock.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import type { CaptureRecord } from "../lib/pcap/types.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { writeSyntheticSession } from "../testing/synthetic_session.ts";

interface JsonFinding {
  severity: string;
  code: string;
  file: string;
  packetNumber?: number;
  message: string;
  expected?: string;
  actual?: string;
}

async function makeSession(dir: string, format: "pcap" | "pcapng" = "pcap") {
  return await writeSyntheticSession(dir, {
    displayMessages: 50,
    reconnectDisplay: true,
    comments: format === "pcapng",
    session: { format, clock: steppingClock() },
  });
}

async function check(path: string) {
  const io = memoryIo();
  const code = await main(["check", "--json", path], io);
  const lines = io.stdout().trim().split("\n").map((l) => JSON.parse(l));
  return {
    code,
    findings: lines.filter((l) => l.type === "finding") as JsonFinding[],
    summary: lines.at(-1),
  };
}

async function withSession(
  format: "pcap" | "pcapng",
  fn: (dir: string) => Promise<void>,
): Promise<void> {
  const tmp = await Deno.makeTempDir();
  try {
    await makeSession(`${tmp}/s`, format);
    await fn(`${tmp}/s`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function editManifest(dir: string, edit: (m: Json) => void) {
  const m = JSON.parse(await Deno.readTextFile(`${dir}/session.json`));
  edit(m);
  await Deno.writeTextFile(`${dir}/session.json`, JSON.stringify(m));
}

async function rewrite(path: string, f: (r: CaptureRecord) => CaptureRecord | undefined) {
  const records: CaptureRecord[] = [];
  for await (const r of readCaptureFile(path)) records.push(r);
  const file = await Deno.open(path, { write: true, truncate: true });
  const w = createWriter("pcap", file.writable, { tsResolution: "ns" });
  for (const r of records) {
    const out = f(r);
    if (out) w.write({ tsNs: out.tsNs, data: out.data });
  }
  await w.close();
}

for (const format of ["pcap", "pcapng"] as const) {
  Deno.test(`check passes on a ${format} session written by CaptureSession`, async () => {
    await withSession(format, async (dir) => {
      const { code, findings, summary } = await check(dir);
      assert.deepEqual(findings, []);
      assert.equal(code, 0);
      assert.equal(summary.files, 2);
      assert.equal(summary.connections, 3, "main + display + display reconnection");
    });
  });
}

Deno.test("check names the channel whose manifest counts differ from its file", async () => {
  await withSession("pcap", async (dir) => {
    await editManifest(dir, (m) => m.channels[1].packets.received += 1);
    const { code, findings } = await check(dir);
    assert.equal(code, 1);
    const f = findings.find((x) => x.code === "manifest-count")!;
    assert.equal(f.file, "display.pcap");
    assert.equal(f.severity, "error");
    assert.match(f.message, /packets\.received/);
  });
});

Deno.test("check only warns about counts of a capture that was not closed", async () => {
  await withSession("pcap", async (dir) => {
    await editManifest(dir, (m) => {
      m.complete = false;
      m.channels[0].bytes.sent = 0;
    });
    const { code, findings } = await check(dir);
    assert.equal(code, 0);
    assert.deepEqual(findings.map((f) => [f.code, f.severity]), [["manifest-count", "warning"]]);
  });
});

Deno.test("check reports a missing channel file and an unlisted one", async () => {
  await withSession("pcap", async (dir) => {
    await Deno.rename(`${dir}/display.pcap`, `${dir}/stray.pcap`);
    const { code, findings } = await check(dir);
    assert.equal(code, 1);
    const files = findings.filter((f) => f.code === "manifest-files").map((f) => f.message);
    assert.equal(files.length, 2);
    assert.ok(files.some((m) => m.includes("display.pcap") && m.includes("does not exist")));
    assert.ok(files.some((m) => m.includes("stray.pcap") && m.includes("not listed")));
  });
});

Deno.test("check rejects a manifest of a newer version or another format", async () => {
  await withSession("pcap", async (dir) => {
    await editManifest(dir, (m) => m.version = 99);
    const newer = await check(dir);
    assert.equal(newer.code, 2);
    assert.deepEqual(newer.findings.map((f) => f.code), ["manifest-version"]);
    // A manifest failing validation makes the directory unreadable (exit 2): its channel list
    // cannot be trusted. The finding names the first bad field.
    await editManifest(dir, (m) => {
      m.version = 1;
      delete m.tsResolution;
      m.channels[0].connections = "x";
    });
    const schema = await check(dir);
    assert.equal(schema.code, 2);
    assert.deepEqual(schema.findings.map((f) => [f.code, f.message]), [
      ["manifest-schema", "field 'tsResolution'"],
    ]);
    await editManifest(dir, (m) => m.tsResolution = "ns");
    const channel = await check(dir);
    assert.equal(channel.code, 2);
    assert.deepEqual(channel.findings.map((f) => [f.code, f.message, f.expected]), [
      ["manifest-schema", "field 'channels[0].connections'", "a list"],
    ]);
  });
});

Deno.test("check names a packet of our session addressed backwards, by address and by flag", async () => {
  await withSession("pcapng", async (dir) => {
    // flip the direction flag of main's 5th packet only: addresses say client → server
    const records: CaptureRecord[] = [];
    for await (const r of readCaptureFile(`${dir}/main.pcapng`)) records.push(r);
    const file = await Deno.open(`${dir}/main.pcapng`, { write: true, truncate: true });
    const w = createWriter("pcapng", file.writable, { interfaces: [{ name: "main.pcapng" }] });
    for (const r of records) {
      const flip = r.packetNumber === 5;
      const direction = flip ? (r.direction === "outbound" ? "inbound" : "outbound") : r.direction;
      w.write({ tsNs: r.tsNs, data: r.data, direction, comment: r.comment });
    }
    await w.close();
    const { code, findings } = await check(dir);
    assert.equal(code, 1);
    assert.deepEqual(findings.map((f) => [f.code, f.file, f.packetNumber]), [[
      "direction",
      "main.pcapng",
      5,
    ]]);
  });
});

Deno.test("check finds time going backwards inside a channel across its reconnection", async () => {
  await withSession("pcap", async (dir) => {
    let firstTs = 0n;
    let second = 0;
    await rewrite(`${dir}/display.pcap`, (r) => {
      if (r.packetNumber === 1) firstTs = r.tsNs;
      // the reconnection's SYN (client port 20000) moved before the first connection's start
      if (r.data[34] === 0x4e && r.data[35] === 0x20 && second === 0) {
        second = r.packetNumber;
        return { ...r, tsNs: firstTs - 1n };
      }
      return r;
    });
    assert.ok(second > 1, "found the reconnection's first packet");
    const { code, findings } = await check(dir);
    assert.equal(code, 1);
    const back = findings.filter((f) => f.code === "time-backwards");
    assert.deepEqual(back.map((f) => [f.file, f.packetNumber]), [["display.pcap", second]]);
  });
});
