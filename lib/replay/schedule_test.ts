/** Replay timing as pure logic over an injected clock. */
import assert from "node:assert/strict";
import { percentile, SPIN_NS, targetNs, type Timer, waitUntil } from "./schedule.ts";

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

Deno.test("targetNs() anchors every event at the first packet, scaled by the speed", () => {
  const s = 1_000_000_000n;
  assert.equal(targetNs(500n, { startNs: s, t0Ns: 500n, speed: { kind: "factor", factor: 1 } }), s);
  assert.equal(
    targetNs(2_000_500n, { startNs: s, t0Ns: 500n, speed: { kind: "factor", factor: 1 } }),
    s + 2_000_000n,
  );
  assert.equal(
    targetNs(3_000_000n, { startNs: s, t0Ns: 0n, speed: { kind: "factor", factor: 3 } }),
    s + 1_000_000n,
  );
  assert.equal(targetNs(3_000_000n, { startNs: s, t0Ns: 0n, speed: { kind: "max" } }), undefined);
  // 10 000 events 1.1 ms apart at ×3: the target is computed from t0 each time, so no drift.
  let last = 0n;
  for (let i = 0; i <= 10_000; i++) {
    last = targetNs(BigInt(i) * 1_100_000n, {
      startNs: 0n,
      t0Ns: 0n,
      speed: { kind: "factor", factor: 3 },
    })!;
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
  await waitUntil(timer, 1_000_000_000_000n, { signal: ac.signal });
  assert.equal(sleeps.length, 0);
});

Deno.test("a realtime schedule over a fake clock has no accumulated error", async () => {
  const { timer } = fakeTimer(0n);
  const start = timer.nowNs();
  const errors: number[] = [];
  for (let i = 1; i <= 2000; i++) {
    const t = targetNs(BigInt(i) * 1_000_000n, {
      startNs: start,
      t0Ns: 0n,
      speed: { kind: "factor", factor: 1 },
    })!;
    errors.push(Number(await waitUntil(timer, t)));
  }
  errors.sort((a, b) => a - b);
  assert.ok(percentile(errors, 99) < 5_000, `p99 ${percentile(errors, 99)} ns`);
  assert.ok(errors.at(-1)! < 5_000, "the last event is as punctual as the first");
});
