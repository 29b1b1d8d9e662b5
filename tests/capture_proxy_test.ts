import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import { SpiceProxy } from "../harness/capture/proxy.ts";
import { Recording } from "../harness/capture/recording.ts";
import { syntheticLink, syntheticMessage } from "../testing/synthetic_spice.ts";

async function readExactly(conn: Deno.Conn, n: number, what: string): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) throw new Error(`${what}: EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

async function readToEnd(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  while (true) {
    const n = await conn.read(buf).catch(() => null);
    if (n === null) break;
    parts.push(buf.slice(0, n));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A fake server, the proxy in front of it, and one client connected through it. */
async function through(recording?: Recording) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  const proxy = SpiceProxy.start({
    target: { hostname: "127.0.0.1", port },
    recording,
  });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
  const server = await listener.accept();
  return {
    proxy,
    client,
    server,
    cleanup: async () => {
      for (const c of [client, server, listener]) {
        try {
          c.close();
        } catch {
          // closed by the test
        }
      }
      await proxy.close();
    },
  };
}

Deno.test("SpiceProxy relays bytes unchanged both ways and half-closes (no recording)", async () => {
  const { proxy, client, server, cleanup } = await through();
  try {
    const up = new Uint8Array(300_000).map((_, i) => i * 7);
    const down = new Uint8Array(200_000).map((_, i) => i * 13);
    const writes = (async () => {
      await client.write(up.subarray(0, 1));
      for (let off = 1; off < up.length;) off += await client.write(up.subarray(off));
      await client.closeWrite();
    })();
    const got = await readToEnd(server);
    await writes;
    assert.deepEqual(got, up);
    // The client half-closed; the server can still answer.
    for (let off = 0; off < down.length;) off += await server.write(down.subarray(off));
    server.close();
    assert.deepEqual(await readToEnd(client), down);
    const s = proxy.stats();
    assert.equal(s.bytesToServer, up.length);
    assert.equal(s.bytesToClient, down.length);
    assert.equal(s.connections, 1);
  } finally {
    await cleanup();
  }
  assert.equal(proxy.stats().active, 0);
});

Deno.test("SpiceProxy records each SPICE unit of a relayed connection as one packet", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recording = await Recording.start({
      dir,
      format: "pcapng",
      flushIntervalMs: 0,
      comments: true,
    });
    const { client, server, cleanup } = await through(recording);
    const l = syntheticLink(CHANNEL_TYPES.display, { channelId: 0, connectionId: 99 });
    const msgs = [syntheticMessage(302, 40), syntheticMessage(304, 70_000)];
    try {
      await client.write(l.link);
      assert.deepEqual(await readExactly(server, l.link.length, "link"), l.link);
      await server.write(l.reply);
      await readExactly(client, l.reply.length, "reply");
      await client.write(l.authMechanism);
      await client.write(l.ticket);
      assert.deepEqual(
        await readExactly(server, 132, "ticket"),
        new Uint8Array([
          ...l.authMechanism,
          ...l.ticket,
        ]),
        "the real ticket is forwarded",
      );
      await server.write(l.result);
      await readExactly(client, 4, "result");
      const both = new Uint8Array([...msgs[0], ...msgs[1]]);
      for (let off = 0; off < both.length;) off += await server.write(both.subarray(off));
      assert.deepEqual(await readExactly(client, both.length, "messages"), both);
    } finally {
      await cleanup();
    }
    const m = await recording.close();
    const display = m.channels.find((c) => c.type === CHANNEL_TYPES.display);
    assert.ok(display, "a display channel in the manifest");
    assert.equal(display.file, "display.pcapng");
    assert.deepEqual(display.packets.sent, 3); // link, mechanism, ticket
    assert.equal(display.bytes.received, l.reply.length + 4 + msgs[0].length + msgs[1].length);
    assert.ok(display.packets.received >= 4, "reply, result and two messages");
    assert.equal((await readManifest(dir)).complete, true);
    assert.ok((await Deno.stat(`${dir}/display.pcapng`)).size > 70_000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SpiceProxy keeps forwarding when the bytes are not SPICE", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const recording = await Recording.start({ dir, flushIntervalMs: 0, comments: true });
    const { proxy, client, server, cleanup } = await through(recording);
    try {
      const junk = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
      await client.write(junk);
      assert.deepEqual(await readExactly(server, junk.length, "junk"), junk);
      await server.write(junk);
      assert.deepEqual(await readExactly(client, junk.length, "junk back"), junk);
      await recording.stats(); // a round trip: the worker's reports on earlier chunks are in
      assert.equal(proxy.stats().captureErrors, 1);
    } finally {
      await cleanup();
    }
    await recording.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SpiceProxy.close() ends connections still being relayed", async () => {
  const { proxy, client, server, cleanup } = await through();
  try {
    await client.write(new Uint8Array([1, 2, 3]));
    await readExactly(server, 3, "bytes");
    await proxy.close();
    assert.equal(proxy.stats().active, 0);
    assert.equal(await client.read(new Uint8Array(4)).catch(() => null), null);
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: proxy.port }));
  } finally {
    await cleanup();
  }
});

Deno.test("SpiceProxy closes the client when the server cannot be reached", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const proxy = SpiceProxy.start({ target: { hostname: "127.0.0.1", port } });
  try {
    const client = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    assert.equal(await client.read(new Uint8Array(4)).catch(() => null), null);
    client.close();
    assert.equal(proxy.stats().refused, 1);
  } finally {
    await proxy.close();
  }
});
