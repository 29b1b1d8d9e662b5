/**
 * report bench: writing the HTML report of a 200 000-message session against `inspect
 * --messages --json` on the same session, both run in this process with output discarded.
 * Goal: the report takes at most 5× what inspect takes.
 *
 * Run alone: `deno run -A bench/report_bench.ts [--quick]`.
 */
import type { Bench, BenchRow } from "./types.ts";
import { main } from "../harness/cli.ts";
import type { Io } from "../harness/io.ts";
import { writeSyntheticSession } from "../testing/synthetic_session.ts";

const GOAL_RATIO = 5;

function nullIo(): Io {
  return { out: async () => {}, err: async () => {}, signal: new AbortController().signal };
}

/** Best wall time of `runs` runs of one command, ms. */
async function time(args: string[], runs: number): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const code = await main(args, nullIo());
    if (code !== 0) throw new Error(`${args.join(" ")}: exit ${code}`);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Runs the bench. */
export const bench: Bench = async ({ quick }) => {
  const messages = quick ? 20_000 : 200_000;
  const runs = quick ? 1 : 2;
  const root = await Deno.makeTempDir({ prefix: "spicecap-report-bench-" });
  try {
    const session = `${root}/session`;
    await writeSyntheticSession(session, { displayMessages: messages, reconnectDisplay: true });
    const inspect = await time(["inspect", "--messages", "--json", session], runs);
    const report = await time(["report", "-o", `${root}/report.html`, session], runs);
    const row: BenchRow = {
      name: `report ${messages / 1000}k messages`,
      value: report,
      unit: "ms",
      reference: inspect,
      referenceName: "inspect --messages --json",
      ratio: inspect / report,
      goal: `≤ ${GOAL_RATIO}× inspect`,
      met: report <= GOAL_RATIO * inspect,
    };
    return [row];
  } finally {
    await Deno.remove(root, { recursive: true });
  }
};

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  for (const r of await bench({ quick })) console.log(JSON.stringify(r));
}
