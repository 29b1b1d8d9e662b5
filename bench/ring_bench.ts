/**
 * The flight recorder (`capture --ring`) against recording to disk and against the plain relay
 * (`--no-record`), same run, same code path: `deno task capture --target <fake server>` in a
 * child process with the bulk display stream of proxy_bench.ts through it. Runs alternate
 * between the three modes; each row gives the medians.
 *
 * Rows: ring vs plain relay (what keeping the last SIZE in memory costs the relay), ring vs
 * recording pcap to disk (the ring does no disk I/O until a snapshot), and recording to disk vs
 * plain relay for context.
 */
import type { Bench, BenchRow } from "./types.ts";
import { BLOCK_BYTES, FakeServer, type Mode, startProxy, throughput } from "./proxy_bench.ts";

/** The ring's size: the default backlog's, so neither mode holds more in memory. */
const RING = "64MiB";

/** One measured run. */
interface Run {
  mbPerS: number;
  /** Connections whose recording stopped early (the worker fell a backlog behind). */
  lossy: number;
}

type RingMode = Mode | "ring";

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The bulk stream once through a capture in `mode`. */
async function measure(mode: RingMode, o: { blocks: number; dir: string }): Promise<Run> {
  const server = new FakeServer(o.blocks, 0);
  const proxy = await startProxy(mode === "ring" ? "rec" : mode, {
    serverPort: server.port,
    outDir: `${o.dir}/${mode}`,
    extraArgs: mode === "ring" ? ["--ring", RING] : [],
  });
  let mbPerS = 0;
  let lossy = 0;
  try {
    mbPerS = await throughput(proxy.port, server.totalBytes);
  } finally {
    lossy = (await proxy.stop()).lossy;
    await server.close();
  }
  return { mbPerS, lossy };
}

/** A row comparing two modes' median throughputs. */
function row(
  name: string,
  runs: { ours: Run[]; ref: Run[] },
  o: { referenceName: string; goal: string; atLeast?: number },
): BenchRow {
  const value = median(runs.ours.map((r) => r.mbPerS));
  const reference = median(runs.ref.map((r) => r.mbPerS));
  const lossy = Math.max(...runs.ours.map((r) => r.lossy));
  return {
    name: `${name}; ${lossy} connection(s) lossy`,
    value,
    unit: "MB/s",
    reference,
    referenceName: o.referenceName,
    ratio: value / reference,
    goal: o.goal,
    ...(o.atLeast === undefined ? {} : { met: lossy === 0 && value / reference >= o.atLeast }),
  };
}

/** Ring vs disk vs plain relay: proxy throughput, medians of alternating runs. */
export const bench: Bench = async ({ quick }) => {
  const blocks = quick ? 1 : 50; // × 4 MiB: ~4 MB or ~200 MB
  const repeats = quick ? 1 : 3;
  const dir = await Deno.makeTempDir({ prefix: "spicecap-ring-bench-" });
  const runs: Record<RingMode, Run[]> = { plain: [], rec: [], full: [], ring: [] };
  try {
    for (let i = 0; i < repeats; i++) {
      for (const mode of ["plain", "rec", "ring"] as const) {
        runs[mode].push(await measure(mode, { blocks, dir: `${dir}/${i}` }));
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const mb = Math.round(blocks * BLOCK_BYTES / 1e6);
  const of = `${mb} MB bulk display stream, median of ${repeats}`;
  return [
    row(`proxy throughput, capture --ring ${RING} (${of})`, { ours: runs.ring, ref: runs.plain }, {
      referenceName: "same proxy --no-record",
      goal: "≥ 0.90× plain relay",
      atLeast: 0.9,
    }),
    row(`proxy throughput, capture --ring ${RING} vs recording pcap to disk (${of})`, {
      ours: runs.ring,
      ref: runs.rec,
    }, { referenceName: "recording to disk", goal: "≥ 1.0× recording to disk", atLeast: 1 }),
    row(`proxy throughput, recording pcap to disk (${of})`, { ours: runs.rec, ref: runs.plain }, {
      referenceName: "same proxy --no-record",
      goal: "(context)",
    }),
  ];
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(JSON.stringify(r));
}
