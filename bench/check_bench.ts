/**
 * `check` and `inspect --messages --json` against `tshark -r F -T json` on the same synthetic
 * SPICE capture (display channel written by CaptureSession), all three as subprocesses writing
 * to /dev/null, timed in the same run. Peak RSS comes from GNU time when it is installed.
 * Memory flatness: our peak RSS on the full file versus on a file a tenth the size.
 */
import { steppingClock } from "../lib/capture/clock.ts";
import { writeSyntheticSession } from "../testing/synthetic_session.ts";
import { hasTool } from "../harness/processes/tools.ts";
import type { Bench, BenchRow } from "./types.ts";

const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
/** Packets per display message: one DRAW_COPY, plus one ACK per 20. */
const PACKETS_PER_MESSAGE = 1.05;
/** Old-space cap for the bounded-memory run. */
const CAPPED_HEAP_MB = 24;

interface Run {
  ms: number;
  /** Peak RSS in MB, when GNU time is there. */
  rssMb?: number;
}

async function timed(cmd: string, args: string[]): Promise<Run> {
  const gnuTime = await Deno.stat("/usr/bin/time").then(() => true, () => false);
  const argv = gnuTime ? ["/usr/bin/time", "-f", "%M", cmd, ...args] : [cmd, ...args];
  const t0 = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t0;
  const stderr = new TextDecoder().decode(out.stderr).trim();
  if (!out.success && out.code !== 1) throw new Error(`${cmd} ${args.join(" ")} failed: ${stderr}`);
  const last = stderr.split("\n").at(-1) ?? "";
  const rssKb = gnuTime ? Number(last) : NaN;
  return { ms, rssMb: Number.isFinite(rssKb) ? rssKb / 1024 : undefined };
}

async function makeCapture(dir: string, packets: number): Promise<string> {
  await writeSyntheticSession(dir, {
    displayMessages: Math.round(packets / PACKETS_PER_MESSAGE),
    session: { clock: steppingClock(), format: "pcap" },
  });
  return `${dir}/display.pcap`;
}

/** Best of `n` runs (less noise from a busy machine). */
async function best(n: number, f: () => Promise<Run>): Promise<Run> {
  let b: Run | undefined;
  for (let i = 0; i < n; i++) {
    const r = await f();
    if (!b || r.ms < b.ms) b = r;
  }
  return b!;
}

/** The check/inspect benchmark rows. */
export const bench: Bench = async ({ quick }) => {
  // --quick proves the module runs end to end (a smoke test runs it): a small file suffices.
  const packets = quick ? 2_000 : 200_000;
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-check-bench-" });
  try {
    const file = await makeCapture(`${tmp}/big`, packets);
    const small = await makeCapture(`${tmp}/small`, packets / 10);
    const deno = Deno.execPath();
    const ours = (args: string[]) => timed(deno, ["run", "-A", "--no-check", CLI, ...args]);
    const runs = quick ? 1 : 2;
    const check = await best(runs, () => ours(["check", file]));
    const checkSmall = await best(1, () => ours(["check", small]));
    const inspect = await best(runs, () => ours(["inspect", "--messages", "--json", file]));
    const rows: BenchRow[] = [];
    const label = `${packets / 1000}k packets`;
    let tshark: Run | undefined;
    if (hasTool("tshark")) tshark = await timed("tshark", ["-r", file, "-T", "json"]);
    const vsTshark = (name: string, r: Run): BenchRow => ({
      name,
      value: Math.round(r.ms),
      unit: "ms",
      reference: tshark ? Math.round(tshark.ms) : undefined,
      referenceName: tshark ? "tshark -r F -T json" : undefined,
      ratio: tshark ? tshark.ms / r.ms : undefined,
      goal: quick ? "≥ 25× (judged on the full run: startup dominates here)" : "≥ 25× faster",
      met: tshark && !quick ? tshark.ms / r.ms >= 25 : undefined,
    });
    rows.push(vsTshark(`check ${label}`, check));
    rows.push(vsTshark(`inspect --messages --json ${label}`, inspect));
    if (check.rssMb !== undefined && checkSmall.rssMb !== undefined) {
      rows.push({
        name: `check peak RSS ${label} (vs ${packets / 10000}k packets)`,
        value: Math.round(check.rssMb),
        unit: "MB",
        reference: Math.round(checkSmall.rssMb),
        referenceName: `check, ${packets / 10000}k packets`,
        ratio: check.rssMb / checkSmall.rssMb,
        goal: "sublinear (V8 heap sizing; see the capped run)",
        met: check.rssMb / checkSmall.rssMb < 5,
      });
    }
    // Peak RSS follows V8's heap sizing, not the input: with the old space capped the same
    // check must still finish (nothing is retained per packet).
    const cappedRun = await timed(deno, [
      "run",
      "-A",
      "--no-check",
      `--v8-flags=--max-old-space-size=${CAPPED_HEAP_MB}`,
      CLI,
      "check",
      file,
    ]).catch(() => undefined);
    rows.push({
      name: `check ${label} with V8 old space capped at ${CAPPED_HEAP_MB} MB`,
      value: cappedRun ? Math.round(cappedRun.rssMb ?? 0) : NaN,
      unit: "MB",
      goal: "finishes (bounded memory)",
      met: cappedRun !== undefined,
    });
    if (inspect.rssMb !== undefined && tshark?.rssMb !== undefined) {
      rows.push({
        name: `inspect --messages --json peak RSS ${label}`,
        value: Math.round(inspect.rssMb),
        unit: "MB",
        reference: Math.round(tshark.rssMb),
        referenceName: "tshark -T json",
        ratio: tshark.rssMb / inspect.rssMb,
      });
    }
    return rows;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
};

if (import.meta.main) {
  const rows = await bench({ quick: Deno.args.includes("--quick") });
  for (const r of rows) console.log(JSON.stringify(r));
}
