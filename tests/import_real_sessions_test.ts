/**
 * `import` turns the real raw captures into session directories: every SPICE unit arrives
 * byte for byte in its channel file, `check` passes on the result, and tshark decodes it
 * without being told the port.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { readManifest } from "../lib/capture/manifest.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import type { CaptureRecord } from "../lib/pcap/types.ts";
import { createWriter } from "../lib/pcap/writer.ts";
import { readSpiceMessages } from "../lib/session/messages.ts";
import { readSessionMessages } from "../lib/session/session_files.ts";
import { runTshark } from "../testing/tshark.ts";

const RAW = new URL("../fixtures/raw/", import.meta.url).pathname;
const FIXTURES = ["screenshot_lo.pcapng", "screenshot_sll2.pcap", "spicy_all_channels.pcapng"];

/** "channel:id" → units as "C|S kind type hex-digest-ish" in stream order. */
async function unitsByChannel(
  events: AsyncIterable<
    {
      connection: { channelType?: number; channelId?: number };
      unit: { fromClient: boolean; kind: string; type?: number; bytes: Uint8Array };
    }
  >,
) {
  const out = new Map<string, string[]>();
  for await (const ev of events) {
    const key = `${ev.connection.channelType}:${ev.connection.channelId}`;
    const list = out.get(key) ?? [];
    const u = ev.unit;
    let sum = 0;
    for (const b of u.bytes) sum = (sum * 31 + b) >>> 0;
    list.push(`${u.fromClient ? "C" : "S"} ${u.kind} ${u.type ?? ""} ${u.bytes.length} ${sum}`);
    out.set(key, list);
  }
  return out;
}

for (const name of FIXTURES) {
  Deno.test(`import carries every SPICE unit of ${name} into a session that check passes`, async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/session`;
      const io = memoryIo();
      assert.equal(await main(["import", `${RAW}${name}`, "-o", out], io), 0, io.stderr());
      const source = await unitsByChannel(readSpiceMessages(readCaptureFile(`${RAW}${name}`)));
      const imported = await unitsByChannel(readSessionMessages(out));
      assert.deepEqual(imported, source);
      const manifest = await readManifest(out);
      assert.equal(manifest.channels.length, source.size);
      const checkIo = memoryIo();
      assert.equal(await main(["check", out], checkIo), 0, checkIo.stdout());
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "tshark decodes an imported session's main channel as SPICE without -d",
  ignore: missingTools("tshark") !== undefined,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/session`;
      assert.equal(await main(["import", `${RAW}screenshot_lo.pcapng`, "-o", out], memoryIo()), 0);
      const r = await runTshark([
        "-r",
        `${out}/main.pcap`,
        "-T",
        "fields",
        "-e",
        "spice.message_type",
      ]);
      assert.equal(r.stderr.trim(), "", "tshark has no warning about the imported file");
      const types = r.stdout.split(/[\n,]/).filter((s) => s);
      // MAIN_INIT (103), NAME (113), UUID (114) and CHANNELS_LIST (104) are all there
      for (const t of ["103", "113", "114", "104"]) {
        assert.ok(types.includes(t), `no ${t}: ${types}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("import exits 1 (partial) when the raw capture lost a segment", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const records: CaptureRecord[] = [];
    for await (const r of readCaptureFile(`${RAW}screenshot_lo.pcapng`)) records.push(r);
    // drop the segment carrying MAIN_NAME
    let dropped = 0;
    for await (const ev of readSpiceMessages(readCaptureFile(`${RAW}screenshot_lo.pcapng`))) {
      if (ev.unit.kind === "message" && ev.unit.name === "NAME") dropped = ev.packetNumber;
    }
    const lossy = `${dir}/lossy.pcap`;
    const file = await Deno.open(lossy, { write: true, create: true });
    const w = createWriter("pcap", file.writable, {
      linkType: records[0].linkType,
      tsResolution: "ns",
    });
    for (const r of records) {
      if (r.packetNumber !== dropped) w.write({ tsNs: r.tsNs, data: r.data });
    }
    await w.close();
    const io = memoryIo();
    assert.equal(await main(["import", lossy, "-o", `${dir}/s`, "--json"], io), 1);
    const result = JSON.parse(io.stdout());
    assert.equal(result.partial, true);
    assert.ok(result.problems.some((p: { kind: string }) => p.kind === "gap"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import exits 2 for a missing input or an existing session", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const io = memoryIo();
    assert.equal(await main(["import", `${dir}/nope.pcap`, "-o", `${dir}/s`], io), 2);
    assert.match(io.stderr(), /nope\.pcap/);
    assert.equal(
      await main(["import", `${RAW}screenshot_lo.pcapng`, "-o", `${dir}/s`], memoryIo()),
      0,
    );
    const again = memoryIo();
    assert.equal(await main(["import", `${RAW}screenshot_lo.pcapng`, "-o", `${dir}/s`], again), 2);
    assert.match(again.stderr(), /already holds a session/);
    assert.doesNotMatch(again.stderr(), /internal error/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
