import assert from "node:assert/strict";
import { FlightRing } from "../../lib/capture/flight_ring.ts";
import { UNIT_OVERHEAD_BYTES } from "../../lib/capture/flight_units.ts";
import { readManifest } from "../../lib/capture/manifest.ts";
import { ConnectionRecorder } from "../../lib/capture/recorder.ts";
import { checkPath } from "../../lib/check/check_path.ts";
import type { Finding } from "../../lib/check/findings.ts";
import { buildMessage } from "../../lib/spice/link.ts";
import { CHANNEL_TYPES, messageType } from "../../lib/spice/tables.ts";
import { unitsOf } from "../../testing/capture_harness.ts";
import { drawFill, surfaceCreate } from "../../testing/display_bodies.ts";
import { syntheticLink, syntheticMessage } from "../../testing/synthetic_spice.ts";
import { writeSnapshot } from "./snapshot_writer.ts";
import { zeroProxyStats } from "./proxy.ts";
import { main } from "../cli.ts";
import { formatSummary, summarize } from "../commands/capture_summary.ts";
import { memoryIo } from "../io.ts";

const DISPLAY = CHANNEL_TYPES.display;
const SURFACE_CREATE = messageType(DISPLAY, { fromClient: false, name: "SURFACE_CREATE" })!;
const DRAW_FILL = messageType(DISPLAY, { fromClient: false, name: "DRAW_FILL" })!;

/** A display connection through a recorder into `ring`: link phase, then `after`. */
function display(ring: FlightRing, after: (server: (b: Uint8Array) => void) => void) {
  const rec = new ConnectionRecorder({ session: ring, comments: true });
  const l = syntheticLink(DISPLAY);
  rec.client(l.link);
  rec.server(l.reply);
  rec.client(l.authMechanism);
  rec.client(l.ticket);
  rec.server(l.result);
  after((b) => rec.server(b));
  return rec;
}

async function findings(dir: string): Promise<Finding[]> {
  const out: Finding[] = [];
  for await (const item of checkPath(dir)) if (item.type === "finding") out.push(item.finding);
  return out;
}

Deno.test("flight ring: a snapshot starts mid-stream, keeps link and surface, checks clean", async () => {
  const ring = new FlightRing({ ringBytes: 64 * 1024 });
  display(ring, (server) => {
    server(syntheticMessage(SURFACE_CREATE, 20)); // surface 0x5a5a5a5a
    for (let i = 0; i < 200; i++) server(syntheticMessage(DRAW_FILL, 1000, i & 0xff));
  });
  assert.ok(ring.usedBytes <= 64 * 1024, `ring holds ${ring.usedBytes} bytes`);
  assert.equal(ring.dropped, true);
  const dir = await Deno.makeTempDir();
  try {
    const view = ring.view();
    await writeSnapshot(`${dir}/s`, view, { reason: "signal", format: "pcapng" });
    const m = await readManifest(`${dir}/s`);
    const snap = m.snapshot!;
    assert.equal(snap.reason, "signal");
    assert.equal(snap.wholeSession, false);
    assert.equal(snap.midStream.length, 1);
    const lost = snap.midStream[0].notKeptBytes.received;
    assert.equal(lost, snap.channels[0].notKeptBytes.received);
    const kept = Math.floor(64 * 1024 / (1006 + UNIT_OVERHEAD_BYTES));
    assert.equal(snap.channels[0].notKeptMessages, 200 - kept);
    assert.equal(lost, (200 - kept) * 1006);
    const { units, problems } = await unitsOf(`${dir}/s/display.pcapng`);
    assert.deepEqual(units.slice(0, 5).map((u) => u.kind), [
      "link",
      "linkReply",
      "authMechanism",
      "ticket",
      "linkResult",
    ]);
    const messages = units.filter((u) => u.kind === "message");
    assert.equal(messages[0].kind === "message" && messages[0].type, SURFACE_CREATE);
    assert.equal(messages.length, 1 + kept);
    assert.ok(problems.every((p) => p.startsWith("gap")), problems.join("; "));
    const f = await findings(`${dir}/s`);
    assert.deepEqual(f.filter((x) => x.severity !== "info"), []);
    const info = f.filter((x) => x.code === "mid-stream");
    assert.equal(info.length, 1, "one jump: after the surface create, over the drops");
    assert.match(info[0].message, /starts mid-stream \(\d+ bytes not kept\)/);
    const io = memoryIo();
    assert.equal(await main(["replay", "--target", "127.0.0.1:1", `${dir}/s`], io), 2);
    assert.match(io.stderr(), /flight-recorder snapshot \(signal\) that starts mid-stream/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flight ring: a message larger than the ring is kept whole, alone", () => {
  const ring = new FlightRing({ ringBytes: 10_000 });
  display(ring, (server) => {
    server(syntheticMessage(DRAW_FILL, 100));
    server(syntheticMessage(DRAW_FILL, 50_000));
  });
  const units = ring.view().channels[0].connections[0].units;
  assert.equal(units.length, 6, "link phase and the large message");
  assert.equal(units[5].bytes.length, 50_006);
  assert.equal(ring.usedBytes, 50_006 + UNIT_OVERHEAD_BYTES);
});

Deno.test("flight ring: a quiet channel keeps its history while a busy one is trimmed", () => {
  const ring = new FlightRing({ ringBytes: 200_000 });
  const rec = new ConnectionRecorder({ session: ring });
  const l = syntheticLink(CHANNEL_TYPES.inputs);
  for (
    const [c, b] of [[1, l.link], [0, l.reply], [1, l.authMechanism], [1, l.ticket], [
      0,
      l.result,
    ]] as const
  ) {
    if (c) rec.client(b);
    else rec.server(b);
  }
  for (let i = 0; i < 20; i++) rec.client(syntheticMessage(101, 10));
  display(ring, (server) => {
    for (let i = 0; i < 1000; i++) server(syntheticMessage(DRAW_FILL, 2000));
  });
  const [inputs, disp] = ring.view().channels;
  assert.equal(inputs.notKeptMessages, 0);
  assert.ok(disp.notKeptMessages > 900);
});

Deno.test("flight ring: disconnect, link-error and message triggers", () => {
  const fired: string[] = [];
  const ring = new FlightRing({
    ringBytes: 1 << 20,
    triggers: { disconnect: true, linkError: true, messages: ["DRAW_FILL"] },
    onTrigger: (reason) => fired.push(reason),
  });
  const rec = display(ring, (server) => server(syntheticMessage(DRAW_FILL, 10)));
  rec.close({ resetBy: "toServer" });
  const bad = new ConnectionRecorder({ session: ring });
  const l = syntheticLink(DISPLAY, { result: 7 });
  bad.client(l.link);
  bad.server(l.reply);
  bad.client(l.authMechanism);
  bad.client(l.ticket);
  bad.server(l.result);
  ring.stopping();
  bad.close();
  assert.deepEqual(fired, ["message=DRAW_FILL", "disconnect", "link-error"]);
});

Deno.test("flight ring: render starts a mid-stream display unknown, known where drawn after", async () => {
  const ring = new FlightRing({ ringBytes: 8 * 1024 });
  const whole = { top: 0, left: 0, bottom: 48, right: 64 };
  const topLeft = { top: 0, left: 0, bottom: 16, right: 32 };
  display(ring, (server) => {
    server(buildMessage(SURFACE_CREATE, surfaceCreate({ width: 64, height: 48 })));
    server(buildMessage(DRAW_FILL, drawFill({ box: whole, color: 0xff0000 })));
    for (let i = 0; i < 200; i++) {
      server(buildMessage(DRAW_FILL, drawFill({ box: topLeft, color: 0x00ff00 + i })));
    }
  });
  const dir = await Deno.makeTempDir();
  try {
    await writeSnapshot(`${dir}/s`, ring.view(), { reason: "signal" });
    assert.equal((await readManifest(`${dir}/s`)).snapshot!.midStream.length, 1);
    const io = memoryIo();
    const code = await main(
      ["render", "--json", "--format", "ppm", "-o", `${dir}/f`, `${dir}/s`],
      io,
    );
    assert.equal(code, 1, "unknown pixels: exit 1");
    const lines = io.stdout().trim().split("\n").map((l) => JSON.parse(l));
    const frame = lines.find((l) => l.type === "frame");
    // the full-screen red fill fell out of the ring: only the top-left box is known
    assert.deepEqual(frame.unknown, [
      { top: 0, left: 32, bottom: 16, right: 64 },
      { top: 16, left: 0, bottom: 48, right: 64 },
    ]);
    const problem = lines.find((l) => l.type === "problem");
    assert.equal(problem.kind, "mid-stream");
    assert.match(problem.message, /\d+ bytes of the display stream before it were not kept/);
    const ppm = await Deno.readFile(frame.file);
    const rgb = ppm.subarray(ppm.length - 64 * 48 * 3);
    assert.deepEqual([...rgb.subarray(0, 3)], [0, 0xff, 199], "the last fill, known");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("flight ring: the capture summary says what the ring holds and lists the snapshots", () => {
  const ring = new FlightRing({ ringBytes: 64 * 1024 });
  display(ring, (server) => {
    server(syntheticMessage(SURFACE_CREATE, 20));
    for (let i = 0; i < 200; i++) server(syntheticMessage(DRAW_FILL, 1000));
  });
  const stats = { ...ring.stats(), snapshots: ["out/snapshots/20261123T161200.123Z-signal"] };
  const kept = Math.floor(64 * 1024 / (1006 + UNIT_OVERHEAD_BYTES));
  assert.deepEqual(stats.channels, [{
    channel: "display",
    kept: { messages: 1 + kept, bytes: 26 + kept * 1006 },
    notKept: { messages: 200 - kept, bytes: (200 - kept) * 1006 },
  }]);
  const proxy = { ...zeroProxyStats(), connections: 1, bytesToServer: 10, bytesToClient: 20 };
  const summary = summarize({
    dir: "out",
    url: "spice://127.0.0.1:5930",
    stoppedBy: "signal",
    stats: {
      channels: [],
      dropped: 0,
      errors: 0,
      skipped: 0,
      unrecorded: 0,
      queued: 0,
      ring: stats,
    },
    proxy,
  });
  const text = formatSummary(summary);
  assert.match(
    text,
    new RegExp(
      `display +kept ${1 + kept} messages \\(${26 + kept * 1006} bytes\\), let go ${
        200 - kept
      } messages`,
    ),
  );
  assert.match(
    text,
    /ring of 65536 bytes \(\d+ in use\); 1 snapshot:\n {4}out\/snapshots\/20261123T161200\.123Z-signal\n/,
  );
  assert.doesNotMatch(text, /0 packets/);
});
