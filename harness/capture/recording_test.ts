import assert from "node:assert/strict";
import { readManifest } from "../../lib/capture/manifest.ts";
import { CHANNEL_TYPES } from "../../lib/spice/tables.ts";
import { SpiceProxy } from "./proxy.ts";
import { syntheticLink, syntheticMessage } from "../../testing/synthetic_spice.ts";
import { Recording } from "./recording.ts";
import { CAPTURE_HELP, parseCaptureArgs } from "../commands/capture_args.ts";
import { UsageError } from "../errors.ts";

async function readExactly(conn: Deno.Conn, n: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const k = await conn.read(out.subarray(got));
    if (k === null) throw new Error(`${what}: EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** A display channel's link phase between `client` and `server`, through the proxy. */
async function linkPhase(client: Deno.Conn, server: Deno.Conn) {
  const l = syntheticLink(CHANNEL_TYPES.display);
  await writeAll(client, l.link);
  await readExactly(server, l.link.length, "link");
  await writeAll(server, l.reply);
  await readExactly(client, l.reply.length, "reply");
  await writeAll(client, new Uint8Array([...l.authMechanism, ...l.ticket]));
  await readExactly(server, 132, "ticket");
  await writeAll(server, l.result);
  await readExactly(client, 4, "result");
  return l;
}

Deno.test("a connection over the in-flight bound is relayed whole, recorded up to there and counted as dropped", async () => {
  const dir = await Deno.makeTempDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const warnings: string[] = [];
  // 4 KiB: the link phase fits, a 400 KB message does not.
  const recording = await Recording.start({
    dir: `${dir}/s`,
    maxInFlightBytes: 4096,
    flushIntervalMs: 0,
    log: (_level, message) => warnings.push(message),
  });
  const proxy = SpiceProxy.start({
    target: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    recording,
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const server = await listener.accept();
  try {
    const l = await linkPhase(client, server);
    await recording.stats(); // the link phase is in before the big message comes
    const big = syntheticMessage(304, 400_000, 0x77);
    const sent = writeAll(server, big);
    assert.deepEqual(await readExactly(client, big.length, "big message"), big, "relayed whole");
    await sent;
    client.close();
    server.close();
    await proxy.close();
    assert.equal(proxy.stats().lossyConnections, 1);
    const m = await recording.close();
    const display = m.channels.find((c) => c.type === CHANNEL_TYPES.display);
    assert.ok(display, "the display channel is in the manifest");
    assert.equal(display.packets.sent, 3, "link, auth mechanism and ticket were recorded");
    assert.equal(display.bytes.received, l.reply.length + 4, "the big message was not recorded");
    assert.ok(display.dropped >= 1, `dropped ${display.dropped}`);
    assert.equal(m.dropped, display.dropped);
    const lossy = m.lossy!;
    assert.equal(lossy.connections.length, 1);
    assert.equal(lossy.connections[0].file, "display.pcap");
    assert.equal(lossy.connections[0].trigger, "toClient");
    assert.equal(lossy.connections[0].droppedBytes.received, big.length);
    assert.deepEqual(await readManifest(`${dir}/s`), m, "session.json holds the counted drops");
    assert.equal(warnings.filter((w) => /behind the relay/.test(w)).length, 1, "one warning");
  } finally {
    listener.close();
    await proxy.close();
    await recording.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Display connections (`connections`, default 1) through a recording proxy whose worker stalls
 * while their servers stream at once.
 */
async function stalledStream(
  o: { recordAll: boolean; stallMs: number; total: number; connections?: number },
) {
  const dir = await Deno.makeTempDir();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const recording = await Recording.start({
    dir: `${dir}/s`,
    maxInFlightBytes: 256 << 10,
    flushIntervalMs: 0,
    recordAll: o.recordAll,
  });
  const proxy = SpiceProxy.start({
    target: { hostname: "127.0.0.1", port: (listener.addr as Deno.NetAddr).port },
    recording,
    readBufferBytes: 64 << 10,
  });
  const pairs: { client: Deno.Conn; server: Deno.Conn }[] = [];
  try {
    for (let i = 0; i < (o.connections ?? 1); i++) {
      const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      const server = await listener.accept();
      pairs.push({ client, server });
      await linkPhase(client, server);
    }
    await recording.stats();
    const message = syntheticMessage(304, 20_000, 0x55);
    const stream = new Uint8Array(Math.floor(o.total / message.length) * message.length);
    for (let at = 0; at < stream.length; at += message.length) stream.set(message, at);
    recording._stallWorker(o.stallMs); // the worker takes nothing for this long
    await Promise.all(pairs.map(async ({ client, server }) => {
      const sent = writeAll(server, stream);
      assert.deepEqual(await readExactly(client, stream.length, "stream"), stream, "relayed whole");
      await sent;
    }));
    for (const { client, server } of pairs) {
      client.close();
      server.close();
    }
    await proxy.close();
    const m = await recording.close();
    const display = m.channels.find((c) => c.type === CHANNEL_TYPES.display)!;
    return {
      m,
      display,
      stream,
      waitedMs: recording.waitedMs,
      heldMs: proxy.stats().relayHeldMs,
      lossy: proxy.stats().lossyConnections,
    };
  } finally {
    listener.close();
    await proxy.close();
    await recording.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("--record-all: a full backlog holds the relay while the recording catches up, and every byte is recorded", async () => {
  const r = await stalledStream({ recordAll: true, stallMs: 300, total: 8 << 20 });
  assert.equal(r.lossy, 0, "no connection turned lossy");
  assert.equal(r.m.lossy, undefined);
  assert.equal(r.display.dropped, 0);
  assert.equal(
    r.display.bytes.received,
    syntheticLink(CHANNEL_TYPES.display).reply.length + 4 + r.stream.length,
  );
  assert.ok(r.waitedMs >= 100, `the relay waited ${r.waitedMs.toFixed(0)} ms for room`);
  assert.equal(r.heldMs, Math.round(r.waitedMs), "the proxy's counters report the wait");
});

Deno.test("--record-all: connections waiting for room at once all get it, none turns lossy", async () => {
  const r = await stalledStream({ recordAll: true, stallMs: 300, total: 4 << 20, connections: 3 });
  assert.equal(r.lossy, 0, "no connection turned lossy");
  assert.equal(r.display.dropped, 0);
  const link = syntheticLink(CHANNEL_TYPES.display).reply.length + 4;
  assert.equal(r.display.bytes.received, 3 * (link + r.stream.length), "every byte of all three");
});

Deno.test("without --record-all the same stall turns the connection lossy, counted, and relaying goes on", async () => {
  const r = await stalledStream({ recordAll: false, stallMs: 300, total: 8 << 20 });
  assert.equal(r.lossy, 1);
  assert.ok(r.display.dropped > 0);
  assert.equal(r.waitedMs, 0);
});

Deno.test("--record-all: a recording that takes nothing for 0.5 s no longer holds the relay up", async () => {
  const t0 = performance.now();
  const r = await stalledStream({ recordAll: true, stallMs: 1_500, total: 8 << 20 });
  assert.equal(r.lossy, 1, "the stuck recording turned the connection lossy");
  assert.ok(r.display.dropped > 0);
  assert.ok(r.waitedMs < 1_500, `waited ${r.waitedMs.toFixed(0)} ms, not the whole stall`);
  assert.ok(performance.now() - t0 < 8_000);
});

Deno.test("Recording.start() rejects a directory that already holds a session with AlreadyExists", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await (await Recording.start({ dir, flushIntervalMs: 0 })).close();
    await assert.rejects(Recording.start({ dir }), Deno.errors.AlreadyExists);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capture --record-all is off by default and refused with --no-record", () => {
  assert.equal(parseCaptureArgs([]).recordAll, false);
  assert.equal(parseCaptureArgs(["--record-all"]).recordAll, true);
  assert.throws(
    () => parseCaptureArgs(["--record-all", "--no-record"]),
    /cannot go with --no-record/,
  );
  assert.match(CAPTURE_HELP, /--record-all[\s\S]*0\.5 s/);
});

Deno.test("capture --record-backlog takes MiB and refuses nonsense and --no-record", () => {
  assert.equal(parseCaptureArgs(["--record-backlog", "2.5"]).maxInFlightBytes, 2.5 * (1 << 20));
  assert.equal(parseCaptureArgs([]).maxInFlightBytes, undefined);
  assert.throws(() => parseCaptureArgs(["--record-backlog", "0"]), UsageError);
  assert.throws(() => parseCaptureArgs(["--record-backlog", "x"]), /expected a number of MiB/);
  assert.throws(
    () => parseCaptureArgs(["--record-backlog", "8", "--no-record"]),
    /cannot go with --no-record/,
  );
  assert.match(CAPTURE_HELP, /--record-backlog <MiB>[\s\S]*stops being\s+recorded/);
});
