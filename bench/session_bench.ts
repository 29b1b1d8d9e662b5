/**
 * CaptureSession bench: recording throughput of the proxy's data path (SPICE message →
 * TcpFlow frames → capture writer buffer), with a sink that accepts everything at once, so
 * the numbers are the CPU cost of recording, not of the disk.
 *
 * Messages alternate client → server and server → client on one main-channel connection,
 * through the default (system) clock, as the proxy records them.
 *
 * Run alone: `deno run -A bench/session_bench.ts [--quick]`.
 */
import type { Bench, BenchRow } from "./types.ts";
import { type Clock, steppingClock } from "../lib/capture/clock.ts";
import { CaptureSession } from "../lib/capture/session.ts";
import type { CaptureFormat } from "../lib/pcap/types.ts";

const MB = 1e6;
const RUNS = 3;
/** Messages between yields to the event loop, so flushed chunks are accepted (no drops). */
const YIELD_EVERY_BYTES = 256 * 1024;

function nullSink(): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({ write() {} });
}

/** What {@link record} records. */
interface Workload {
  /** Bytes per message. */
  size: number;
  /** Messages. */
  count: number;
  /** Runs; the best counts. @default RUNS */
  runs?: number;
  /** The session's clock, fresh per run. @default the system clock */
  clock?: () => Clock;
}

/** Records `count` messages of `size` bytes; returns elapsed ms (best of the runs). */
async function record(format: CaptureFormat, workload: Workload): Promise<number> {
  const { size, count, clock } = workload;
  const root = await Deno.makeTempDir({ prefix: "spicecap-session-bench-" });
  const message = new Uint8Array(size).map((_, i) => i * 13);
  const yieldEvery = Math.max(1, Math.floor(YIELD_EVERY_BYTES / size));
  let best = Infinity;
  try {
    for (let run = 0; run < (workload.runs ?? RUNS); run++) {
      const session = await CaptureSession.create(`${root}/s${run}`, {
        format,
        flushIntervalMs: 0,
        sinkFactory: nullSink,
        clock: clock?.(),
      });
      const conn = session.openConnection(1, 0)!;
      const t0 = performance.now();
      for (let i = 0; i < count; i++) {
        if (i & 1) conn.received(message);
        else conn.sent(message);
        if (i % yieldEvery === 0) { for (let k = 0; k < 8; k++) await null; }
      }
      const manifest = await session.close();
      const ms = performance.now() - t0;
      if (manifest.dropped !== 0) {
        throw new Error(`session bench dropped ${manifest.dropped} of ${count} messages`);
      }
      best = Math.min(best, ms);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
  return best;
}

/** The session bench: recording throughput per message size and format. */
export const bench: Bench = async ({ quick }) => {
  const rows: BenchRow[] = [];
  // --quick proves the module runs end to end (a smoke test runs it): small counts, one run.
  const runs = quick ? 1 : RUNS;
  const workloads = [
    { size: 100, count: quick ? 10_000 : 1_000_000 },
    { size: 1400, count: quick ? 5_000 : 400_000 },
    { size: 65_536, count: quick ? 200 : 20_000 },
  ];
  for (const format of ["pcap", "pcapng"] as const) {
    for (const { size, count } of workloads) {
      const ms = await record(format, { size, count, runs });
      rows.push({
        name: `CaptureSession records ${size} B messages into ${format} (null sink)`,
        value: (size * count) / MB / (ms / 1000),
        unit: "MB/s",
      }, {
        name: `CaptureSession cost per ${size} B message (${format})`,
        value: (ms * 1e6) / count,
        unit: "ns/message",
      });
    }
  }
  // The system clock (performance.now) alone costs ~100-130 ns per call here; this row shows
  // what the session itself costs.
  const size = 100, count = quick ? 10_000 : 1_000_000;
  const ms = await record("pcap", { size, count, runs, clock: () => steppingClock() });
  rows.push({
    name: `CaptureSession cost per ${size} B message (pcap, stepping clock: no clock reads)`,
    value: (ms * 1e6) / count,
    unit: "ns/message",
  });
  return rows;
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit}`);
}
