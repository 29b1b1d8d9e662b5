/**
 * Capture never loses data silently: concurrent connections of one channel are each recorded,
 * a unit cut short by a disconnect is recorded and counted, a reset is recorded as a reset, a
 * connection that is not SPICE is listed with what it carried, and `check` fails on a session
 * whose manifest reports bytes not recorded. Synthetic SPICE peers on loopback, real proxy.
 */
import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { CHANNEL_TYPES } from "../lib/spice/tables.ts";
import { SpiceProxy } from "../harness/capture/proxy.ts";
import { Recording } from "../harness/capture/recording.ts";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { syntheticLink, syntheticMessage } from "../testing/synthetic_spice.ts";
import { pollUntil, tshark, unitsOf } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

const noTshark = missingTools("tshark") !== undefined;
const LINK = syntheticLink(CHANNEL_TYPES.main);
/** Client bytes before the messages: link, auth mechanism, ticket. */
const CLIENT_LINK_BYTES = LINK.link.length + LINK.authMechanism.length + LINK.ticket.length;

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let got = 0; got < n;) {
    const k = await conn.read(out.subarray(got));
    if (k === null) throw new Error(`EOF after ${got} of ${n} bytes`);
    got += k;
  }
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/**
 * A fake SPICE server: answers each connection's link phase, then echoes what the client
 * sends until it half-closes.
 */
function echoServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const serve = async (c: Deno.Conn) => {
    try {
      await readExactly(c, LINK.link.length);
      await writeAll(c, LINK.reply);
      await readExactly(c, LINK.authMechanism.length + LINK.ticket.length);
      await writeAll(c, LINK.result);
      const buf = new Uint8Array(65536);
      for (let n; (n = await c.read(buf)) !== null;) await writeAll(c, buf.subarray(0, n));
    } catch {
      // not SPICE, or a reset client: nothing more to echo
    } finally {
      try {
        c.close();
      } catch {
        // closed by close()
      }
    }
  };
  const served: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const c of listener) {
      conns.push(c);
      served.push(serve(c));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    conns,
    async close() {
      listener.close();
      await accepting;
      await Promise.all(served);
      for (const c of conns) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
    },
  };
}

/** Recording + proxy in front of an echo server, in a fresh directory. */
async function setup(format: "pcap" | "pcapng" = "pcapng") {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-integrity-" });
  const dir = `${tmp}/s`;
  const recording = await Recording.start({ dir, format, flushIntervalMs: 0, comments: true });
  const server = echoServer();
  const proxy = SpiceProxy.start({
    target: { hostname: "127.0.0.1", port: server.port },
    recording,
  });
  return {
    dir,
    proxy,
    connect: () => Deno.connect({ hostname: "127.0.0.1", port: proxy.port }),
    async finish() {
      await proxy.close();
      await server.close();
      return await recording.close();
    },
    cleanup: () => Deno.remove(tmp, { recursive: true }),
  };
}

/** Runs the client's side of the link phase. */
async function link(c: Deno.Conn, connectionId: number): Promise<void> {
  await writeAll(c, syntheticLink(CHANNEL_TYPES.main, { connectionId }).link);
  await readExactly(c, LINK.reply.length);
  await writeAll(c, new Uint8Array([...LINK.authMechanism, ...LINK.ticket]));
  await readExactly(c, LINK.result.length);
}

/** Connection i's messages: three of body size 50 + i filled with i + 1. */
function messagesOf(i: number): Uint8Array[] {
  return [0, 1, 2].map((k) => syntheticMessage(101 + k, 50 + i, i + 1));
}

Deno.test({
  name: "20 concurrent connections of one channel are all recorded, each its own flow",
  ignore: noTshark,
  fn: async () => {
    const s = await setup("pcap");
    const n = 20;
    try {
      const clients = await Promise.all(Array.from({ length: n }, () => s.connect()));
      await Promise.all(clients.map((c, i) => link(c, i)));
      await Promise.all(clients.map(async (c, i) => {
        const bytes = new Uint8Array(messagesOf(i).flatMap((m) => [...m]));
        await writeAll(c, bytes);
        assert.deepEqual(await readExactly(c, bytes.length), bytes, "echoed through the proxy");
        await c.closeWrite();
        assert.equal(await c.read(new Uint8Array(1)), null);
        c.close();
      }));
      await pollUntil(() => s.proxy.stats().active === 0 || undefined, 10_000, "relays to end");
      const m = await s.finish();
      const ch = m.channels.find((c) => c.typeName === "main")!;
      assert.equal(m.channels.length, 1, "one file for the channel");
      assert.equal(ch.connections.length, n);
      assert.equal(new Set(ch.connections.map((c) => c.clientPort)).size, n, "distinct ports");
      assert.ok(ch.connections.every((c) => c.closedNs !== undefined));
      const msgBytes = Array.from({ length: n }, (_, i) => 3 * (56 + i)).reduce((a, b) => a + b);
      assert.equal(ch.bytes.sent, n * CLIENT_LINK_BYTES + msgBytes);
      assert.equal(ch.bytes.received, n * (LINK.reply.length + 4) + msgBytes);
      assert.equal(m.dropped, 0);

      const { units, problems } = await unitsOf(`${s.dir}/main.pcap`);
      assert.deepEqual(problems, []);
      for (let i = 0; i < n; i++) {
        const mine = units.filter((u) => u.kind === "message" && u.bytes[6] === i + 1);
        assert.equal(mine.length, 6, `connection ${i}: 3 messages each way`);
      }
      const streams = await tshark([
        "-r",
        `${s.dir}/main.pcap`,
        "-T",
        "fields",
        "-e",
        "tcp.stream",
      ]);
      assert.equal(new Set(streams).size, n, "tshark sees one TCP stream per connection");
      const io = memoryIo();
      assert.equal(await main(["check", s.dir], io), 0, io.stdout());
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "a unit cut short by the client's disconnect is recorded as the last segment, counted",
  ignore: noTshark,
  fn: async () => {
    const s = await setup();
    try {
      const c = await s.connect();
      await link(c, 1);
      const half = syntheticMessage(101, 70_000).subarray(0, 16);
      await writeAll(c, half);
      await c.closeWrite();
      assert.equal(await readExactly(c, 16).then(() => "echoed"), "echoed");
      c.close();
      await pollUntil(() => s.proxy.stats().active === 0 || undefined, 10_000, "relay to end");
      const m = await s.finish();
      const ch = m.channels[0];
      assert.deepEqual(ch.partialBytes, { sent: 16, received: 16 });
      assert.equal(ch.bytes.sent, CLIENT_LINK_BYTES + 16, "the 16 bytes are recorded");
      const comments = await tshark([
        ...["-r", `${s.dir}/main.pcapng`, "-Y", "tcp.len > 0"],
        ...["-T", "fields", "-e", "frame.comment"],
      ]);
      assert.match(comments.at(-2)!, /^main → partial: 16 bytes/);
      assert.match(comments.at(-1)!, /^main ← partial: 16 bytes/);
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test({
  name: "a connection reset by the client is recorded as an RST, not a FIN exchange",
  ignore: noTshark,
  fn: async () => {
    const s = await setup("pcap");
    try {
      const c = await s.connect();
      await link(c, 1);
      // Echoed bytes the client never reads: closing then sends an RST instead of a FIN.
      await writeAll(c, syntheticMessage(101, 1000));
      await pollUntil(() => s.proxy.stats().bytesToClient > 1000 || undefined, 10_000, "echo");
      c.close();
      await pollUntil(() => s.proxy.stats().active === 0 || undefined, 10_000, "relay to end");
      await s.finish();
      const flags = await tshark([
        ...["-r", `${s.dir}/main.pcap`, "-T", "fields"],
        ...["-e", "tcp.srcport", "-e", "tcp.flags.reset", "-e", "tcp.flags.fin"],
      ]);
      assert.equal(flags.at(-1), "10001\t1\t0", flags.slice(-3).join(" | "));
      assert.ok(flags.every((f) => !f.endsWith("\t1")), "no FIN");
    } finally {
      await s.cleanup();
    }
  },
});

Deno.test("a connection that is not SPICE is listed with what it relayed; check fails on it", async () => {
  const s = await setup();
  const before = Date.now();
  try {
    const c = await s.connect();
    const junk = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await writeAll(c, junk);
    await c.closeWrite();
    assert.equal(await c.read(new Uint8Array(64)).catch(() => null), null, "no link: closed");
    c.close();
    await pollUntil(() => s.proxy.stats().active === 0 || undefined, 10_000, "relay to end");
    await s.finish();
    const m = await readManifest(s.dir);
    assert.equal(m.channels.length, 0);
    assert.equal(m.unrecorded?.length, 1);
    const u = m.unrecorded![0];
    assert.match(u.reason, /^not SPICE: /);
    assert.equal(u.bytes.sent, junk.length);
    assert.equal(u.firstBytes.sent, "474554202f20485454502f312e310d0a");
    const stopped = Date.parse(m.stopped!);
    assert.ok(stopped >= before - 1000 && stopped <= Date.now(), `stopped ${m.stopped}`);

    const io = memoryIo();
    assert.equal(await main(["check", s.dir], io), 1, io.stdout());
    assert.match(io.stdout(), /incomplete recording: 27 bytes of a connection not recorded/);
    const allowed = memoryIo();
    assert.equal(await main(["check", "--allow-drops", s.dir], allowed), 0, allowed.stdout());
  } finally {
    await s.cleanup();
  }
});
