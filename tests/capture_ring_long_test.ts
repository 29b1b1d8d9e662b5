import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import { SpiceProxy } from "../harness/capture/proxy.ts";
import { Recording } from "../harness/capture/recording.ts";
import { unitsOf } from "../testing/capture_harness.ts";
import { checkPath } from "../lib/check/check_path.ts";
import { syntheticLink, syntheticMessage } from "../testing/synthetic_spice.ts";

const RING = 16 << 20;
const TOTAL = 2 * 1024 ** 3 + (64 << 20);
/** RSS may grow by this much over what it was once the ring had filled (GC slack). */
const RSS_SLACK = 96 << 20;
/** Bytes the peer lets the recording worker lag behind. */
const BACKLOG = 16 << 20;

async function readExactly(conn: Deno.Conn, n: number): Promise<void> {
  const buf = new Uint8Array(Math.min(n, 1 << 20));
  for (let got = 0; got < n;) {
    const k = await conn.read(buf.subarray(0, Math.min(buf.length, n - got)));
    if (k === null) throw new Error("EOF");
    got += k;
  }
}

Deno.test("capture --ring 16MiB: 2 GB through the proxy, memory flat, snapshot holds the last 16 MiB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-ring-long-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const recording = await Recording.start({
    dir: `${dir}/out`,
    ring: { bytes: RING, triggers: {}, onExit: true },
  });
  const proxy = SpiceProxy.start({
    target: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    recording,
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const server = await listener.accept();
  try {
    const l = syntheticLink(CHANNEL_TYPES.display);
    await client.write(l.link);
    await readExactly(server, l.link.length);
    await server.write(l.reply);
    await readExactly(client, l.reply.length);
    await client.write(new Uint8Array([...l.authMechanism, ...l.ticket]));
    await readExactly(server, 132);
    await server.write(l.result);
    await readExactly(client, 4);
    // Mixed message sizes, many of them per write, like a busy display.
    const batch = new Uint8Array([
      ...syntheticMessage(304, 60_000),
      ...Array.from({ length: 40 }, (_, i) => [...syntheticMessage(302, 100 + i)]).flat(),
      ...syntheticMessage(304, 200_000, 0x33),
    ]);
    const reader = readExactly(client, Math.ceil(TOTAL / batch.length) * batch.length);
    const rss: number[] = [];
    let sent = 0;
    for (let i = 0; sent < TOTAL; i++) {
      for (let off = 0; off < batch.length;) off += await server.write(batch.subarray(off));
      sent += batch.length;
      // The relay never waits for the worker; the peer does, so no connection turns lossy and
      // memory measures the ring, not the hand-over backlog.
      while (recording.inFlightBytes > BACKLOG) await new Promise((r) => setTimeout(r, 1));
      if (i % 500 === 0) rss.push(Deno.memoryUsage().rss);
    }
    await reader;
    await recording.stats(); // the worker has taken everything in
    rss.push(Deno.memoryUsage().rss);
    const settled = rss[Math.floor(rss.length / 8)];
    const peak = Math.max(...rss.slice(Math.floor(rss.length / 8)));
    assert.ok(
      peak - settled < RSS_SLACK,
      `RSS grew ${((peak - settled) / 2 ** 20).toFixed(0)} MiB after the ring filled ` +
        `(samples, MiB: ${rss.map((r) => Math.round(r / 2 ** 20)).join(" ")})`,
    );
  } finally {
    client.close();
    server.close();
    listener.close();
    await proxy.close();
  }
  await recording.close();
  try {
    const [exit] = recording.snapshots;
    assert.ok(exit, "the exit snapshot");
    const m = await readManifest(exit);
    const snap = m.snapshot!;
    assert.equal(snap.reason, "exit");
    const display = m.channels[0];
    const kept = display.bytes.received;
    // The ring charges each message 96 bytes on top of its payload, and drops whole messages.
    assert.ok(kept <= RING && kept > RING - (1 << 20), `kept ${kept} bytes`);
    assert.ok(snap.channels[0].notKeptBytes.received > 2 * 1024 ** 3 - RING);
    const { problems } = await unitsOf(`${exit}/display.pcap`);
    assert.ok(problems.every((p) => p.startsWith("gap")), problems.slice(0, 3).join("; "));
    const findings: string[] = [];
    for await (const item of checkPath(exit)) {
      if (item.type === "finding" && item.finding.severity !== "info") {
        findings.push(item.finding.message);
      }
    }
    assert.deepEqual(findings.slice(0, 3), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
