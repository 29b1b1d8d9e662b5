/**
 * Replay benchmark: realtime scheduling accuracy, the replay scheduler (targetNs + waitUntil)
 * sending ≥ 1000 messages over ≥ 2 s to a local sink socket; p50/p99 lateness and end drift.
 * The diff rows are in diff_bench.ts.
 */
import type { Bench, BenchRow } from "./types.ts";
import { percentile, realTimer, targetNs, waitUntil } from "../lib/replay/schedule.ts";
import { buildMessage } from "../lib/spice/link.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { replaySession } from "../harness/replay/driver.ts";
import { vettedServerCommandLine } from "../harness/commands/replay.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";

/** Sends `count` messages spread over `spanMs` on the real clock; returns lateness in ns. */
async function scheduleRun(count: number, spanMs: number): Promise<number[]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const sink = (async () => {
    const c = await listener.accept();
    for await (const _ of c.readable) { /* discard */ }
  })();
  const conn = await Deno.connect({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
  });
  conn.setNoDelay(true);
  const timer = realTimer();
  const message = buildMessage(101, new Uint8Array(64));
  const stepNs = BigInt(Math.round((spanMs * 1e6) / count));
  const t0 = 5_000_000_000n; // recorded times are arbitrary; only differences matter
  const start = timer.nowNs() + 10_000_000n;
  const late: number[] = [];
  for (let i = 0; i < count; i++) {
    const target = targetNs(t0 + BigInt(i) * stepNs, {
      startNs: start,
      t0Ns: t0,
      speed: { kind: "factor", factor: 1 },
    })!;
    late.push(Number(await waitUntil(timer, target)));
    await conn.write(message);
  }
  conn.close();
  await sink;
  listener.close();
  return late;
}

/** The replay benchmark rows. */
export const bench: Bench = async ({ quick }) => {
  const rows: BenchRow[] = [];
  const count = quick ? 50 : 2000;
  const spanMs = quick ? 100 : 4000;
  const late = await scheduleRun(count, spanMs);
  const sorted = [...late].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50) / 1e3;
  const p99 = percentile(sorted, 99) / 1e3;
  const tenth = Math.max(1, Math.floor(late.length / 10));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const drift = (mean(late.slice(-tenth)) - mean(late.slice(0, tenth))) / 1e3;
  const label = `replay realtime ${count} msgs over ${spanMs / 1000} s`;
  rows.push({ name: `${label}: lateness p50`, value: p50, unit: "µs" });
  rows.push({
    name: `${label}: lateness p99`,
    value: p99,
    unit: "µs",
    goal: "p99 < 1000 µs",
    met: p99 < 1000,
  });
  rows.push({
    name: `${label}: end drift (last−first 10%)`,
    value: drift,
    unit: "µs",
    goal: "|drift| < 500 µs",
    met: Math.abs(drift) < 500,
  });

  if (!quick) rows.push(...await gatedReplayRows());
  return rows;
};

/**
 * Replays a recording of spicy typing into the Linux guest at --speed max with screens gated:
 * wall time against the recording's own span, and what gating cost per input. Skipped (no
 * rows) without QEMU, spicy, Xvfb or xdotool.
 */
async function gatedReplayRows(): Promise<BenchRow[]> {
  if (missingTools("qemu-system-x86_64", "spicy", "xvfb-run", "xdotool", "apt-get")) return [];
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-replay-bench-" });
  try {
    const rec = `${tmp}/rec`;
    const text = "hello-bench";
    const cap = await captureTyping(rec, {
      lines: [{ type: `echo ${text} >/dev/ttyS0`, serial: text }],
    });
    if (cap.exitCode !== 0) throw new Error(`capture failed: ${cap.stderr}`);
    const outDir = `${tmp}/replay`;
    const serverCommandLine = await vettedServerCommandLine(rec, { trust: false, outDir });
    const startMs = performance.now();
    const r = await replaySession({ source: rec, outDir, serverCommandLine, timeoutMs: 30_000 });
    const wallMs = performance.now() - startMs;
    const spanMs = Number(r.plan.endNs - r.plan.t0Ns) / 1e6;
    const ratio = wallMs / spanMs;
    const g = r.gate!;
    const label = "replay real guest, --speed max, screens gated";
    return [
      {
        name: `${label}: wall time / recorded span (${(spanMs / 1000).toFixed(1)} s)`,
        value: ratio,
        unit: "×",
        goal: "≤ 0.5×",
        met: ratio <= 0.5 && !r.divergence,
      },
      {
        name: `${label}: render+compare per gated input`,
        value: g.computeMs / g.gated,
        unit: "ms",
      },
      { name: `${label}: comparisons per gated input`, value: g.comparisons / g.gated, unit: "" },
      { name: `${label}: wait per gated input`, value: g.waitedMs / g.gated, unit: "ms" },
    ];
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(JSON.stringify(r));
}
