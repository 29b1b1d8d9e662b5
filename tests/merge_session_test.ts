/**
 * `merge` turns a session's channel files into one time-ordered pcapng with one interface per
 * channel, keeping direction flags and comments; tshark reads the result.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import type { Io } from "../harness/io.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { steppingClock } from "../lib/capture/clock.ts";
import { readCapture, readCaptureFile } from "../lib/pcap/reader.ts";
import type { CaptureRecord, InterfaceInfo } from "../lib/pcap/types.ts";
import { writeSyntheticSession } from "../testing/synthetic_session.ts";
import { runTshark } from "../testing/tshark.ts";

async function session(dir: string, format: "pcap" | "pcapng") {
  return await writeSyntheticSession(dir, {
    displayMessages: 60,
    reconnectDisplay: true,
    comments: true,
    // interleave main and display timestamps: every call advances the clock
    session: { format, clock: steppingClock({ startNs: 1_700_000_000_000_000_000n, stepNs: 7n }) },
  });
}

async function readAll(path: string, interfaces: InterfaceInfo[] = []): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCaptureFile(path, { onInterface: (i) => interfaces.push(i) })) {
    out.push(r);
  }
  return out;
}

for (const format of ["pcap", "pcapng"] as const) {
  Deno.test(`merge orders a ${format} session's packets by time with one interface per channel`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const manifest = await session(`${dir}/s`, format);
      const io = memoryIo();
      assert.equal(
        await main(["merge", `${dir}/s`, "-o", `${dir}/all.pcapng`], io),
        0,
        io.stderr(),
      );
      const interfaces: InterfaceInfo[] = [];
      const merged = await readAll(`${dir}/all.pcapng`, interfaces);
      assert.deepEqual(interfaces.map((i) => i.name), manifest.channels.map((c) => c.file));
      let total = 0;
      for (const [i, ch] of manifest.channels.entries()) {
        const own = await readAll(`${dir}/s/${ch.file}`);
        total += own.length;
        const mine = merged.filter((r) => r.interfaceId === i);
        assert.deepEqual(
          mine.map((r) => [r.tsNs, r.data.length]),
          own.map((r) => [r.tsNs, r.data.length]),
        );
      }
      assert.equal(merged.length, total);
      for (let i = 1; i < merged.length; i++) assert.ok(merged[i - 1].tsNs <= merged[i].tsNs);
      // both channels interleave in time (the merge really merged)
      const switches = merged.filter((r, i) =>
        i > 0 && r.interfaceId !== merged[i - 1].interfaceId
      );
      assert.ok(switches.length >= 2);
      // direction flags: client (10.0.0.1, source IP at bytes 26..30) → server is outbound
      for (const r of merged) {
        const fromClient = r.data[29] === 1;
        assert.equal(r.direction, fromClient ? "outbound" : "inbound");
      }
      const comments = merged.filter((r) => r.comment).map((r) => r.comment);
      if (format === "pcapng") assert.ok(comments.includes("main link client"), String(comments));
      const check = memoryIo();
      assert.equal(await main(["check", `${dir}/all.pcapng`], check), 0, check.stdout());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("merge -o - writes the pcapng to stdout", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await session(`${dir}/s`, "pcap");
    const chunks: Uint8Array[] = [];
    const io: Io = {
      out: (b) => {
        chunks.push(typeof b === "string" ? new TextEncoder().encode(b) : b.slice());
        return Promise.resolve();
      },
      err: () => Promise.resolve(),
      signal: new AbortController().signal,
    };
    assert.equal(await main(["merge", `${dir}/s`, "-o", "-"], io), 0);
    let n = 0;
    for await (const _ of readCapture(ReadableStream.from(chunks))) n++;
    const direct = (await readAll(`${dir}/s/main.pcap`)).length +
      (await readAll(`${dir}/s/display.pcap`)).length;
    assert.equal(n, direct);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "tshark reads a merged session with each channel's interface name",
  ignore: missingTools("tshark") !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await session(`${dir}/s`, "pcap");
      assert.equal(await main(["merge", `${dir}/s`, "-o", `${dir}/all.pcapng`], memoryIo()), 0);
      const r = await runTshark([
        "-r",
        `${dir}/all.pcapng`,
        "-T",
        "fields",
        "-e",
        "frame.interface_name",
        "-e",
        "frame.p2p_dir",
      ]);
      assert.equal(r.stderr.trim(), "", "tshark has no warning about the merged file");
      const lines = r.stdout.trim().split("\n");
      assert.deepEqual([...new Set(lines.map((l) => l.split("\t")[0]))].sort(), [
        "display.pcap",
        "main.pcap",
      ]);
      assert.ok(lines.every((l) => /\t[01]$/.test(l)), "every packet has a direction");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("merge exits 2 without -o or for a missing session", async () => {
  const io = memoryIo();
  assert.equal(await main(["merge", "/nonexistent-dir"], io), 2);
  assert.match(io.stderr(), /-o/);
  const io2 = memoryIo();
  assert.equal(await main(["merge", "/nonexistent-dir", "-o", "/tmp/x.pcapng"], io2), 2);
  assert.match(io2.stderr(), /nonexistent-dir/);
});
