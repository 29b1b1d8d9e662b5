import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import { captureChild, unitsOf } from "../testing/capture_harness.ts";
import { checkPath } from "../lib/check/check_path.ts";
import { syntheticLink, syntheticMessage } from "../testing/synthetic_spice.ts";

const RING = 16 << 20;
const TOTAL = 2 * 1024 ** 3 + (64 << 20);
/** RSS may grow by this much over what it was once the ring had filled (GC slack). */
const RSS_SLACK = 96 << 20;

async function readExactly(conn: Deno.Conn, n: number): Promise<void> {
  const buf = new Uint8Array(Math.min(n, 1 << 20));
  for (let got = 0; got < n;) {
    const k = await conn.read(buf.subarray(0, Math.min(buf.length, n - got)));
    if (k === null) throw new Error("EOF");
    got += k;
  }
}

/** Resident memory of a process, from /proc. */
async function rssOf(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

Deno.test("capture --ring 16MiB: 2 GB through the proxy, memory flat, snapshot holds the last 16 MiB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-ring-long-" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  // Its own process, so its memory is its own (test files share one under --parallel);
  // --record-all: the relay waits for the worker rather than turn the connection lossy.
  const capture = captureChild([
    "--target",
    `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    "--ring",
    `${RING >> 20}MiB`,
    "--snapshot-on",
    "exit",
    "--record-all",
    "-o",
    `${dir}/out`,
  ]);
  let client: Deno.Conn | undefined;
  let server: Deno.Conn | undefined;
  try {
    client = await Deno.connect({ hostname: "127.0.0.1", port: await capture.port });
    server = await listener.accept();
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
      if (i % 500 === 0) rss.push(await rssOf(capture.child.pid));
    }
    await reader;
    rss.push(await rssOf(capture.child.pid));
    const settled = rss[Math.floor(rss.length / 8)];
    const peak = Math.max(...rss.slice(Math.floor(rss.length / 8)));
    assert.ok(
      peak - settled < RSS_SLACK,
      `RSS grew ${((peak - settled) / 2 ** 20).toFixed(0)} MiB after the ring filled ` +
        `(samples, MiB: ${rss.map((r) => Math.round(r / 2 ** 20)).join(" ")})`,
    );
  } finally {
    client?.close();
    server?.close();
    listener.close();
    capture.child.kill("SIGINT");
  }
  const status = await capture.status;
  try {
    assert.equal(status.code, 0, capture.stderr());
    const snapshots = [];
    for await (const e of Deno.readDir(`${dir}/out/snapshots`)) snapshots.push(e.name);
    const exit = snapshots.find((n) => n.endsWith("-exit"));
    assert.ok(exit, `the exit snapshot among ${snapshots.join(", ")}`);
    const path = `${dir}/out/snapshots/${exit}`;
    const m = await readManifest(path);
    const snap = m.snapshot!;
    assert.equal(snap.reason, "exit");
    assert.equal(m.lossy, undefined, "nothing turned lossy");
    const display = m.channels[0];
    const kept = display.bytes.received;
    // The ring charges each message 96 bytes on top of its payload, and drops whole messages.
    assert.ok(kept <= RING && kept > RING - (1 << 20), `kept ${kept} bytes`);
    assert.ok(snap.channels[0].notKeptBytes.received > 2 * 1024 ** 3 - RING);
    const { problems } = await unitsOf(`${path}/display.pcap`);
    assert.ok(problems.every((p) => p.startsWith("gap")), problems.slice(0, 3).join("; "));
    const findings: string[] = [];
    for await (const item of checkPath(path)) {
      if (item.type === "finding" && item.finding.severity !== "info") {
        findings.push(item.finding.message);
      }
    }
    assert.deepEqual(findings.slice(0, 3), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
