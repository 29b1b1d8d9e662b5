/**
 * `serve` against a scripted client on loopback: the link phase, the fresh session id, the
 * channel list, refusals, header reframing, a strict divergence; and recordings it cannot serve.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { CaptureSession } from "../lib/capture/session.ts";
import { channelsOffered, sessionIdOf } from "../lib/serve/rewrite.ts";
import type { SpiceMessage, SpiceUnit } from "../lib/spice/types.ts";
import { ScriptedClient, serveInProcess } from "../testing/serve_harness.ts";
import { pollUntil } from "../testing/capture_harness.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const RECORDED_SESSION_ID = 2319212073; // fixtures/golden/screenshot's MAIN_INIT

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-serve-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const isMessage = (name: string) => (u: SpiceUnit) => u.kind === "message" && u.name === name;

Deno.test("serve: a scripted client links, gets a fresh session id and the recorded display", () =>
  withTemp(async (tmp) => {
    const serve = serveInProcess(`${GOLDEN}screenshot`, ["-o", `${tmp}/out`]);
    const port = await serve.port;
    const mainConn = await ScriptedClient.link(port, { channelType: 1 });
    assert.equal(mainConn.linkResult, 0);
    const init = await mainConn.waitUnit(isMessage("INIT")) as SpiceMessage;
    const sessionId = sessionIdOf(init)!;
    assert.notEqual(sessionId, RECORDED_SESSION_ID, "a fresh session id");
    await mainConn.waitUnit(isMessage("PING"));
    assert.ok(!mainConn.units.some(isMessage("CHANNELS_LIST")), "CHANNELS_LIST waits");
    await mainConn.send(104); // ATTACH_CHANNELS
    const list = await mainConn.waitUnit(isMessage("CHANNELS_LIST")) as SpiceMessage;
    assert.deepEqual(channelsOffered(list), [[2, 0]], "recorded only");

    const stranger = await ScriptedClient.link(port, { channelType: 2, connectionId: 1 });
    assert.equal(stranger.linkResult, 8, "BAD_CONNECTION_ID");
    await stranger.close();
    const display = await ScriptedClient.link(port, { channelType: 2, connectionId: sessionId });
    assert.equal(display.linkResult, 0);
    await display.send(101, new Uint8Array(14)); // DISPLAY_INIT
    await display.waitUnit(isMessage("MARK"));
    await display.send(1, new Uint8Array([1, 0, 0, 0])); // ACK_SYNC: an answer
    await display.close();
    await mainConn.close();
    assert.equal(await serve.done, 0, serve.io.stderr());
    assert.match(serve.io.stdout(), /^served: 13 server messages on 2 connections/);
    const manifest = JSON.parse(await Deno.readTextFile(`${tmp}/out/session.json`));
    assert.equal(manifest.complete, true);
    assert.equal(manifest.sessionId, sessionId);
    assert.equal(manifest.stoppedBy, "client-exit");
  }));

Deno.test("serve --strict: a client message of another type is a divergence, exit 1", () =>
  withTemp(async (tmp) => {
    const serve = serveInProcess(`${GOLDEN}screenshot`, ["-o", `${tmp}/out`, "--strict"]);
    const c = await ScriptedClient.link(await serve.port, { channelType: 1 });
    await c.waitUnit(isMessage("INIT"));
    await c.send(105, new Uint8Array(4)); // MOUSE_MODE_REQUEST instead of ATTACH_CHANNELS
    assert.equal(await serve.done, 1);
    assert.match(
      serve.io.stderr(),
      /divergence: main: client message #0 is MOUSE_MODE_REQUEST, the recording has ATTACH_CHANNELS there/,
    );
    assert.match(serve.io.stdout(), /^diverged: /);
    await c.close();
    const manifest = JSON.parse(await Deno.readTextFile(`${tmp}/out/session.json`));
    assert.equal(manifest.complete, true);
  }));

Deno.test("serve: a client without the mini header gets full headers numbered from 1", () =>
  withTemp(async (tmp) => {
    const serve = serveInProcess(`${GOLDEN}screenshot`, ["-o", `${tmp}/out`, "--idle", "0"]);
    const c = await ScriptedClient.link(await serve.port, { channelType: 1, mini: false });
    const init = await c.waitUnit(isMessage("INIT")) as SpiceMessage;
    assert.equal(init.headerSize, 18);
    assert.equal(init.serial, 1n);
    const ping = await c.waitUnit(isMessage("PING")) as SpiceMessage;
    assert.ok(ping.serial! > 1n);
    await c.close();
    assert.equal(await serve.done, 1, "left before ATTACH_CHANNELS: early");
    assert.match(
      serve.io.stdout(),
      /client disconnected early: main server 6\/7 sent \(next #6 CHANNELS_LIST\), client 0\/1/,
    );
  }));

Deno.test("serve: a wrong password gets PERMISSION_DENIED, exit 1", () =>
  withTemp(async (tmp) => {
    const serve = serveInProcess(`${GOLDEN}password`, ["-o", `${tmp}/out`, "--password", "secret"]);
    const c = await ScriptedClient.link(await serve.port, { channelType: 1, password: "nope" });
    assert.equal(c.linkResult, 7);
    await c.close();
    assert.equal(await serve.done, 1);
    assert.match(serve.io.stdout(), /refused: .*main: link refused: PERMISSION_DENIED/);
  }));

Deno.test("serve: recordings with nothing to serve are one-line errors, exit 2", () =>
  withTemp(async (tmp) => {
    const garbage = await CaptureSession.create(`${tmp}/nolink`);
    garbage.openConnection(1, 0)!.sent(new TextEncoder().encode("GET / HTTP/1.0\r\n\r\n"));
    await garbage.close();
    const main1 = await Deno.readFile(`${GOLDEN}screenshot/main.pcap`);
    await Deno.writeFile(`${tmp}/truncated.pcap`, main1.subarray(0, 2000));
    const cases: [string, RegExp][] = [
      [
        `${GOLDEN}screenshot/display.pcap`,
        /no main channel with a whole link phase.*found display/,
      ],
      [`${tmp}/nolink`, /no main channel with a whole link phase/],
      [`${tmp}/truncated.pcap`, /truncated\.pcap, packet \d+.*before the end of input/],
      [`${tmp}/missing`, /no such file or directory/],
    ];
    for (const [source, pattern] of cases) {
      const io = memoryIo();
      const code = await main(["serve", source, "-o", `${tmp}/o`], io);
      assert.equal(code, 2, `${source}: ${io.stderr()}`);
      assert.match(io.stderr(), pattern);
      assert.equal(io.stderr().trim().split("\n").length, 1, io.stderr());
    }
  }));

/** Links main and display like spicy-screenshot, then stays until serve closes main. */
async function stayingClient(port: number): Promise<number> {
  const mainConn = await ScriptedClient.link(port, { channelType: 1 });
  const init = await mainConn.waitUnit(isMessage("INIT")) as SpiceMessage;
  const sessionId = sessionIdOf(init)!;
  await mainConn.send(104); // ATTACH_CHANNELS
  await mainConn.waitUnit(isMessage("CHANNELS_LIST"));
  const display = await ScriptedClient.link(port, { channelType: 2, connectionId: sessionId });
  await display.send(101, new Uint8Array(14));
  await display.waitUnit(isMessage("MARK"));
  await pollUntil(
    () => mainConn.closed && display.closed ? true : undefined,
    10_000,
    "serve closing",
  );
  await display.close();
  await mainConn.close();
  return sessionId;
}

Deno.test("serve --loop: serves one client session after another, each into its own directory", () =>
  withTemp(async (tmp) => {
    const serve = serveInProcess(`${GOLDEN}screenshot`, [
      "-o",
      `${tmp}/out`,
      "--loop",
      "--idle",
      "0",
    ]);
    const port = await serve.port;
    const first = await stayingClient(port);
    const second = await stayingClient(port);
    assert.notEqual(first, second, "each session gets its own id");
    await pollUntil(
      () => serve.io.stdout().split("\n").filter(Boolean).length === 2 ? true : undefined,
      10_000,
      "two session lines",
    );
    serve.interrupt();
    assert.equal(await serve.done, 0, serve.io.stderr());
    for (const [dir, id] of [[`${tmp}/out`, first], [`${tmp}/out-2`, second]] as const) {
      const manifest = JSON.parse(await Deno.readTextFile(`${dir}/session.json`));
      assert.equal(manifest.complete, true);
      assert.equal(manifest.sessionId, id);
      assert.equal(manifest.stoppedBy, "server-exit", "serve ended a session the client kept");
    }
  }));
