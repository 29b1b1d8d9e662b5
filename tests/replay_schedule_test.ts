/** Replay scheduling, planning and causality as pure logic (injected clock), and CLI usage. */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { defaultReplayDir } from "../harness/replay.ts";
import { causalityMet, isCounted, PlanBuilder, type PlanEvent } from "../harness/replay_plan.ts";
import {
  parseSpeed,
  percentile,
  SPIN_NS,
  targetNs,
  type Timer,
  waitUntil,
} from "../harness/replay_schedule.ts";
import { withSpicePort } from "../harness/qemu.ts";
import { parseTarget } from "../harness/commands/replay.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";

/** A fake clock: sleep advances time exactly; every nowNs() call advances 1 µs (the spin). */
function fakeTimer(startNs = 0n) {
  let now = startNs;
  const sleeps: number[] = [];
  const timer: Timer = {
    nowNs: () => (now += 1_000n),
    sleep: (ms) => {
      sleeps.push(ms);
      now += BigInt(Math.round(ms * 1e6));
      return Promise.resolve();
    },
  };
  return { timer, sleeps, peek: () => now };
}

Deno.test("parseSpeed() accepts max, realtime and positive factors only", () => {
  assert.deepEqual(parseSpeed("max"), { kind: "max" });
  assert.deepEqual(parseSpeed("realtime"), { kind: "factor", factor: 1 });
  assert.deepEqual(parseSpeed("2.5"), { kind: "factor", factor: 2.5 });
  assert.deepEqual(parseSpeed("4x"), { kind: "factor", factor: 4 });
  for (const bad of ["0", "-1", "fast", ""]) {
    assert.throws(() => parseSpeed(bad), /--speed expects max, realtime or a positive number/);
  }
});

Deno.test("targetNs() anchors every event at the first packet, scaled by the speed", () => {
  const s = 1_000_000_000n;
  assert.equal(targetNs(s, 500n, 500n, { kind: "factor", factor: 1 }), s);
  assert.equal(targetNs(s, 500n, 2_000_500n, { kind: "factor", factor: 1 }), s + 2_000_000n);
  assert.equal(targetNs(s, 0n, 3_000_000n, { kind: "factor", factor: 3 }), s + 1_000_000n);
  assert.equal(targetNs(s, 0n, 3_000_000n, { kind: "max" }), undefined);
  // 10 000 events 1.1 ms apart at ×3: the target is computed from t0 each time, so no drift.
  let last = 0n;
  for (let i = 0; i <= 10_000; i++) {
    last = targetNs(0n, 0n, BigInt(i) * 1_100_000n, { kind: "factor", factor: 3 })!;
  }
  assert.equal(last, 3_666_666_667n);
});

Deno.test("waitUntil() sleeps until shortly before the target, then spins to it", async () => {
  const { timer, sleeps } = fakeTimer(0n);
  const late = await waitUntil(timer, 50_000_000n);
  assert.equal(sleeps.length, 1);
  assert.ok(Math.abs(sleeps[0] - (50 - Number(SPIN_NS) / 1e6)) < 0.01, `slept ${sleeps[0]} ms`);
  assert.ok(late >= 0n && late <= 3_000n, `late by ${late} ns`);
});

Deno.test("waitUntil() returns at once for a past target and stops on abort", async () => {
  const { timer, sleeps } = fakeTimer(10_000_000n);
  assert.ok((await waitUntil(timer, 1_000n)) > 0n);
  assert.equal(sleeps.length, 0);
  const ac = new AbortController();
  ac.abort();
  await waitUntil(timer, 1_000_000_000_000n, ac.signal);
  assert.equal(sleeps.length, 0);
});

Deno.test("a realtime schedule over a fake clock has no accumulated error", async () => {
  const { timer } = fakeTimer(0n);
  const start = timer.nowNs();
  const errors: number[] = [];
  for (let i = 1; i <= 2000; i++) {
    const t = targetNs(start, 0n, BigInt(i) * 1_000_000n, { kind: "factor", factor: 1 })!;
    errors.push(Number(await waitUntil(timer, t)));
  }
  errors.sort((a, b) => a - b);
  assert.ok(percentile(errors, 99) < 5_000, `p99 ${percentile(errors, 99)} ns`);
  assert.ok(errors.at(-1)! < 5_000, "the last event is as punctual as the first");
});

function unit(
  fromClient: boolean,
  type: number,
  index: number,
  body = new Uint8Array(0),
): SpiceUnit {
  const bytes = new Uint8Array(6 + body.length);
  new DataView(bytes.buffer).setUint16(0, type, true);
  new DataView(bytes.buffer).setUint32(2, body.length, true);
  bytes.set(body, 6);
  return { kind: "message", fromClient, bytes, offset: 0, index, type, headerSize: 6 };
}

function link(channelType: number): SpiceUnit {
  const bytes = new Uint8Array(42);
  bytes.set([0x52, 0x45, 0x44, 0x51], 0);
  bytes[20] = channelType;
  return { kind: "link", fromClient: true, bytes, offset: 0 };
}

Deno.test("PlanBuilder drops PONG/ACK_SYNC/ACK and records what each message waited for", () => {
  const b = new PlanBuilder();
  let t = 1_000n;
  const ev = (file: string, channelType: number, u: SpiceUnit): PlanEvent => ({
    file,
    connection: 0,
    channelType,
    channelId: 0,
    unit: u,
    tsNs: t += 1_000n,
  });
  b.add(ev("display.pcap", 2, link(2)));
  b.add(ev("main.pcap", 1, link(1)));
  b.add(ev("main.pcap", 1, unit(false, 103, 0, new Uint8Array(32)))); // INIT
  b.add(ev("main.pcap", 1, unit(false, 4, 1))); // PING: not counted
  b.add(ev("main.pcap", 1, unit(true, 104, 0))); // ATTACH_CHANNELS
  b.add(ev("main.pcap", 1, unit(true, 3, 1))); // PONG: dropped
  b.add(ev("main.pcap", 1, unit(false, 104, 2))); // CHANNELS_LIST
  b.add(ev("display.pcap", 2, unit(true, 101, 0))); // DISPLAY_INIT
  b.add(ev("display.pcap", 2, unit(false, 3, 0))); // SET_ACK
  b.add(ev("display.pcap", 2, unit(true, 1, 1))); // ACK_SYNC: dropped
  b.add(ev("display.pcap", 2, unit(false, 314, 1))); // SURFACE_CREATE
  b.add(ev("display.pcap", 2, unit(false, 304, 2))); // DRAW_COPY: noise
  b.add(ev("display.pcap", 2, unit(true, 103, 2))); // PREFERRED_COMPRESSION
  const plan = b.build();
  assert.deepEqual(plan.connections.map((c) => c.channelType), [2, 1], "recorded link order");
  assert.deepEqual(plan.dropped, { PONG: 1, ACK_SYNC: 1 });
  const [display, mainConn] = plan.connections;
  assert.deepEqual(mainConn.messages.map((m) => [m.name, m.afterServerCount, m.afterSyncTypes]), [
    ["ATTACH_CHANNELS", 1, [103]],
  ]);
  assert.deepEqual(display.messages.map((m) => [m.name, m.afterServerCount, m.afterSyncTypes]), [
    ["INIT", 0, []],
    ["PREFERRED_COMPRESSION", 1, [314]],
  ]);
  assert.equal(display.serverNonPing, 3);
  assert.equal(mainConn.serverNonPing, 2);
  assert.equal(plan.t0Ns, 2_000n);
});

Deno.test("causalityMet() names the missing sync point, then the missing count", () => {
  const m = {
    index: 2,
    type: 103,
    name: "PREFERRED_COMPRESSION",
    bytes: new Uint8Array(6),
    headerSize: 6,
    tsNs: 0n,
    afterServerCount: 2,
    afterSyncTypes: [314],
  };
  assert.equal(causalityMet(m, { counted: 5, syncSeen: new Set() }, 2), "server SURFACE_CREATE");
  assert.equal(
    causalityMet(m, { counted: 1, syncSeen: new Set([314]) }, 2),
    "2 counted server messages (have 1)",
  );
  assert.equal(causalityMet(m, { counted: 2, syncSeen: new Set([314]) }, 2), undefined);
  assert.equal(isCounted(2, 304), false, "DRAW_COPY is timing noise");
  assert.equal(isCounted(2, 314), true);
  assert.equal(isCounted(1, 4), false, "PING is never counted");
});

Deno.test("withSpicePort() replaces the recorded SPICE port and keeps the rest", () => {
  const line = [
    "qemu-system-x86_64",
    "-m",
    "128",
    "-spice",
    "port=5930,addr=127.0.0.1,disable-ticketing=on",
  ];
  assert.deepEqual(withSpicePort(line, 4000), [
    "qemu-system-x86_64",
    "-m",
    "128",
    "-spice",
    "port=4000,addr=127.0.0.1,disable-ticketing=on",
  ]);
  assert.throws(() => withSpicePort(["qemu-system-x86_64"], 1), /no '-spice port=N' option/);
});

Deno.test("parseTarget() and defaultReplayDir() shape their inputs", () => {
  assert.deepEqual(parseTarget("127.0.0.1:5930"), { hostname: "127.0.0.1", port: 5930 });
  assert.deepEqual(parseTarget("[::1]:5930"), { hostname: "::1", port: 5930 });
  assert.throws(() => parseTarget("localhost"), /--target expects HOST:PORT/);
  assert.equal(
    defaultReplayDir("captures/x/", new Date("2026-01-02T03:04:05Z")),
    "captures/x-replay-20260102T030405Z",
  );
  assert.equal(defaultReplayDir("a/main.pcap", new Date(0)), "a/main-replay-19700101T000000Z");
});

Deno.test("replay bad usage exits 2 with a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [[], /expected one session directory or channel file, got 0/],
    [["a", "b"], /got 2/],
    [["--speed", "warp", "x"], /--speed expects max, realtime or a positive number, got 'warp'/],
    [["--target", "nohost", "x"], /--target expects HOST:PORT/],
    [["--timeout", "0", "x"], /--timeout expects a positive integer/],
    [["--bogus", "x"], /Unknown option '--bogus'/],
    [["/nonexistent/session"], /\/nonexistent\/session: no such file or directory/],
  ];
  for (const [args, re] of cases) {
    const io = memoryIo();
    assert.equal(await main(["replay", ...args], io), 2, args.join(" "));
    assert.match(io.stderr(), re);
  }
  const io = memoryIo();
  assert.equal(await main(["replay", "--help"], io), 0);
  assert.match(io.stdout(), /Usage: deno task replay/);
});
