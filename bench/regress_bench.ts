/**
 * Regress benchmark: goldens per minute of `deno task regress` over the repo's goldens with
 * `--jobs 1` and `--jobs 2` on this machine, and the memory a job takes (the peak resident size
 * of each golden's QEMU, sampled from /proc while the run goes).
 */
import type { Bench, BenchRow } from "./types.ts";
import { run } from "../harness/commands/regress.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { peakRssBytes, qemuDescendants } from "../harness/regress/procs.ts";
import { GOLDEN_DIR } from "../tools/make_golden_fixtures.ts";

const MB = 1024 * 1024;

/** One regress run: wall time, goldens run, and the peak resident size of each QEMU seen. */
async function measure(jobs: number, rounds: number) {
  const peaks = new Map<number, number>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      for (const pid of qemuDescendants()) {
        const rss = peakRssBytes(pid);
        if (rss !== undefined) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, rss));
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  const goldens = Array.from({ length: rounds }, () => GOLDEN_DIR.replace(/\/$/, ""));
  const started = performance.now();
  let count = 0;
  let same = 0;
  for (const path of goldens) {
    const io = memoryIo();
    await run([path, "--jobs", String(jobs), "--json"], io);
    for (const line of io.stdout().trim().split("\n")) {
      const r = JSON.parse(line);
      if (r.type !== "golden") continue;
      count++;
      if (r.outcome === "same") same++;
    }
  }
  const ms = performance.now() - started;
  sampling = false;
  await sampler;
  return { perMinute: count / (ms / 60_000), count, same, peaks: [...peaks.values()] };
}

/** The regress benchmark rows. */
export const bench: Bench = async ({ quick }) => {
  if (missingTools("qemu-system-x86_64") !== undefined) return [];
  const rounds = quick ? 1 : 3;
  const one = await measure(1, rounds);
  const two = await measure(2, rounds);
  const qemuPeak = Math.max(...one.peaks, ...two.peaks) / MB;
  const qemuMean = [...one.peaks, ...two.peaks].reduce((a, b) => a + b, 0) /
    Math.max(1, one.peaks.length + two.peaks.length) / MB;
  const rows: BenchRow[] = [
    {
      name: `regress --jobs 1 (${one.count} goldens, ${one.same} same)`,
      value: one.perMinute,
      unit: "goldens/min",
    },
    {
      name: `regress --jobs 2 (${two.count} goldens, ${two.same} same)`,
      value: two.perMinute,
      unit: "goldens/min",
      reference: one.perMinute,
      referenceName: "--jobs 1",
      goal: "> 1.0× --jobs 1 on 2 cores",
      met: two.perMinute > one.perMinute,
    },
    { name: "regress peak QEMU RSS per job (max)", value: qemuPeak, unit: "MB" },
    { name: "regress peak QEMU RSS per job (mean)", value: qemuMean, unit: "MB" },
    {
      name: "regress process peak RSS (whole bench)",
      value: (peakRssBytes(Deno.pid) ?? NaN) / MB,
      unit: "MB",
    },
  ];
  return rows;
};
