import assert from "node:assert/strict";
import { decodePacket } from "../net/decode.ts";
import { TCP_FLAGS } from "../net/types.ts";
import { readCaptureFile } from "../pcap/reader.ts";
import type { CaptureRecord } from "../pcap/types.ts";
import { steppingClock } from "./clock.ts";
import { readManifest } from "./manifest.ts";
import { CaptureSession } from "./session.ts";

const MAIN = 1;
const DISPLAY = 2;
const bytes = (...values: number[]) => new Uint8Array(values);

async function records(path: string): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const r of readCaptureFile(path)) out.push(r);
  return out;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  try {
    await fn(`${root}/session`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("CaptureSession writes one flow per channel with contract addressing and manifest", () =>
  withDir(async (dir) => {
    const session = await CaptureSession.create(dir, {
      clock: steppingClock({ startNs: 1_700_000_000_000_000_000n, stepNs: 1_000n }),
      target: "127.0.0.1:5930",
    });
    const main = session.openConnection(MAIN, 0)!;
    main.sent(bytes(0x52, 0x45, 0x44, 0x51, 1, 2), "main → link");
    main.received(bytes(9, 8, 7), "main ← link reply");
    main.sent(bytes(1, 2, 3, 4));
    session.packetReceived(DISPLAY, 0, bytes(5, 5));
    session.setFacts({ sessionId: 1234 });
    const manifest = await session.close();

    assert.equal(manifest.format, "spicecap-session");
    assert.equal(manifest.version, 1);
    assert.equal(manifest.complete, true);
    assert.equal(manifest.target, "127.0.0.1:5930");
    assert.equal(manifest.sessionId, 1234);
    assert.equal(manifest.tsResolution, "ns");
    assert.deepEqual(manifest.channels.map((c) => [c.typeName, c.file, c.clientPort]), [
      ["main", "main.pcap", 10001],
      ["display", "display.pcap", 10002],
    ]);
    assert.deepEqual(manifest.channels[0].packets, { sent: 2, received: 1 });
    assert.deepEqual(manifest.channels[0].bytes, { sent: 10, received: 3 });
    assert.deepEqual(await readManifest(dir), manifest);

    const recs = await records(`${dir}/main.pcap`);
    const decoded = recs.map((r) => decodePacket(r.data, r.linkType, { verifyChecksums: true }));
    for (const d of decoded) assert.deepEqual(d.problems, []);
    // SYN, SYN-ACK, ACK, 3 data, FIN, FIN, ACK
    assert.equal(recs.length, 9);
    assert.equal(decoded[0].tcp!.flags, TCP_FLAGS.SYN);
    const data = decoded.filter((d) => d.payload.length > 0);
    assert.deepEqual(data.map((d) => [d.srcIp, d.srcPort, d.dstIp, d.dstPort]), [
      ["10.0.0.1", 10001, "10.0.0.2", 5930],
      ["10.0.0.2", 5930, "10.0.0.1", 10001],
      ["10.0.0.1", 10001, "10.0.0.2", 5930],
    ]);
    // Client seq: ISN 1000, SYN counts one, then advances by payload length.
    assert.deepEqual(data.filter((d) => d.srcPort === 10001).map((d) => d.tcp!.seq), [1001, 1007]);
    for (let i = 1; i < recs.length; i++) assert.ok(recs[i].tsNs >= recs[i - 1].tsNs);

    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);
    assert.equal((await Deno.stat(`${dir}/main.pcap`)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(`${dir}/session.json`)).mode! & 0o777, 0o600);
  }));

Deno.test("CaptureSession skips and counts an unknown channel type without creating a file", () =>
  withDir(async (dir) => {
    const logs: string[] = [];
    const session = await CaptureSession.create(dir, {
      clock: steppingClock(),
      logger: (level, m) => logs.push(`${level}: ${m}`),
    });
    assert.equal(session.openConnection(42, 0), null);
    session.packetSent(42, 0, bytes(1));
    const manifest = await session.close();
    assert.deepEqual(manifest.skipped, [{ type: 42, connections: 2 }]);
    assert.deepEqual(manifest.channels, []);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["session.json"]);
    assert.ok(logs.some((l) => l.startsWith("debug:") && l.includes("42")));
  }));

Deno.test("CaptureSession.close() is idempotent and later packets are not written", () =>
  withDir(async (dir) => {
    const session = await CaptureSession.create(dir, { clock: steppingClock() });
    const conn = session.openConnection(MAIN, 0)!;
    conn.sent(bytes(1, 2, 3));
    const first = await session.close();
    const second = await session.close();
    assert.equal(first, second);
    conn.sent(bytes(4));
    assert.equal(session.stats().channels[0].packets.sent, 1);
    assert.equal((await records(`${dir}/main.pcap`)).length, 3 + 1 + 3);
  }));

Deno.test("CaptureSession gives a reconnection its own client port in the same file", () =>
  withDir(async (dir) => {
    const session = await CaptureSession.create(dir, { clock: steppingClock() });
    session.openConnection(DISPLAY, 0)!.sent(bytes(1));
    session.openConnection(DISPLAY, 0)!.sent(bytes(2));
    session.openConnection(DISPLAY, 1)!.sent(bytes(3));
    const manifest = await session.close();
    const display = manifest.channels.find((c) => c.file === "display.pcap")!;
    assert.deepEqual(display.connections.map((c) => c.clientPort), [10002, 20000]);
    assert.ok(display.connections.every((c) => c.closedNs !== undefined));
    const display1 = manifest.channels.find((c) => c.id === 1)!;
    assert.equal(display1.file, "display-1.pcap");
    assert.equal(display1.clientPort, 10018);
    const ports = new Set(
      (await records(`${dir}/display.pcap`)).map((r) => decodePacket(r.data, r.linkType).srcPort),
    );
    assert.deepEqual([...ports].sort(), [10002, 20000, 5930]);
  }));

Deno.test("CaptureSession reports a failing sink once and keeps returning at once", () =>
  withDir(async (dir) => {
    const warnings: string[] = [];
    const session = await CaptureSession.create(dir, {
      clock: steppingClock(),
      flushThresholdBytes: 1,
      sinkFactory: () =>
        new WritableStream({
          write() {
            throw new Error("No space left on device");
          },
        }),
      logger: (level, m) => level === "warn" && warnings.push(m),
    });
    const conn = session.openConnection(MAIN, 0)!;
    for (let i = 0; i < 100; i++) {
      conn.sent(new Uint8Array(100));
      await Promise.resolve();
    }
    const manifest = await session.close();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /main\.pcap: No space left on device/);
    assert.deepEqual(manifest.errors, ["main.pcap: No space left on device"]);
    assert.ok(manifest.channels[0].errors >= 1);
    assert.ok(manifest.channels[0].dropped > 0, "packets after the failure are counted as dropped");
  }));

Deno.test("CaptureSession drops and counts packets beyond the queue while the sink is stuck", () =>
  withDir(async (dir) => {
    let release!: () => void;
    const stuck = new Promise<void>((r) => release = r);
    const session = await CaptureSession.create(dir, {
      clock: steppingClock(),
      queueLength: 10,
      maxBufferedBytes: 1000,
      flushThresholdBytes: 1 << 30,
      sinkFactory: () => new WritableStream({ write: () => stuck }),
    });
    const conn = session.openConnection(MAIN, 0)!;
    // Fill the file buffer past maxBufferedBytes, then a stuck flush keeps it busy.
    conn.sent(new Uint8Array(2000));
    for (let i = 0; i < 50; i++) conn.sent(new Uint8Array(10));
    const stats = session.stats();
    assert.equal(stats.queued, 10);
    assert.equal(stats.channels[0].dropped, 40);
    release();
    const manifest = await session.close();
    assert.equal(manifest.dropped, 40);
    assert.equal(manifest.channels[0].packets.sent, 11);
  }));

Deno.test("CaptureSession writes pcapng with comments, direction flags and relative time", () =>
  withDir(async (dir) => {
    const session = await CaptureSession.create(dir, {
      format: "pcapng",
      relativeTime: true,
      clock: steppingClock({ startNs: 5_000_000_000n, stepNs: 1_000n }),
    });
    const conn = session.openConnection(MAIN, 0)!;
    conn.sent(bytes(1), "main → link");
    conn.received(bytes(2), "main ← link reply");
    await session.close();
    const recs = await records(`${dir}/main.pcapng`);
    const data = recs.filter((r) => decodePacket(r.data, r.linkType).payload.length > 0);
    assert.deepEqual(data.map((r) => [r.comment, r.direction]), [
      ["main → link", "outbound"],
      ["main ← link reply", "inbound"],
    ]);
    assert.ok(recs[0].tsNs < 1_000_000n, `relative time starts near 0, got ${recs[0].tsNs}`);
  }));

Deno.test("CaptureSession.close() during a drain waits for it and loses no queued packet", () =>
  withDir(async (dir) => {
    const session = await CaptureSession.create(dir, {
      clock: steppingClock(),
      queueLength: 100_000,
      maxBufferedBytes: 1 << 20,
    });
    const conn = session.openConnection(MAIN, 0)!;
    for (let i = 0; i < 200; i++) conn.received(new Uint8Array(300_000));
    const manifest = await session.close();
    assert.equal(manifest.dropped, 0);
    assert.equal(manifest.channels[0].bytes.received, 200 * 300_000);
    const payload = (await records(`${dir}/main.pcap`))
      .map((r) => decodePacket(r.data, r.linkType).payload.length)
      .reduce((a, b) => a + b, 0);
    assert.equal(payload, 200 * 300_000);
  }));

Deno.test("CaptureSession keeps a live connection recording when another of its channel opens", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const session = await CaptureSession.create(`${dir}/s`, { flushIntervalMs: 0 });
    const first = session.openConnection(1, 0)!;
    const second = session.openConnection(1, 0)!;
    assert.notEqual(first.clientPort, second.clientPort);
    first.sent(new Uint8Array(10));
    second.sent(new Uint8Array(20));
    first.partial(false, new Uint8Array(4));
    first.close({ resetBy: "toServer" });
    const m = await session.close();
    assert.equal(m.channels[0].connections.length, 2);
    assert.deepEqual(m.channels[0].bytes, { sent: 30, received: 4 });
    assert.deepEqual(m.channels[0].partialBytes, { sent: 0, received: 4 });
    assert.equal(m.dropped, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
