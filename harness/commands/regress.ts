/**
 * `deno task regress [PATH…]`: replay every golden session against a fresh QEMU and diff it with
 * the golden, N at a time, as a CI regression suite (table, JUnit XML, artifacts, shards).
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseCommandArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { prepareOutputDirFlag } from "../output_dir.ts";
import { QEMU_BINARY_PATTERN } from "../../lib/replay/qemu_policy.ts";
import { junitXml } from "../../lib/regress/junit.ts";
import {
  exitStatus,
  formatResultTable,
  formatSeconds,
  type GoldenResult,
} from "../../lib/regress/results.ts";
import { parseShard, shardOf, type ShardSpec, ShardSyntaxError } from "../../lib/regress/shard.ts";
import { findGoldens, type Golden } from "../regress/goldens.ts";
import { qemuSnapshot, reapQemus, runPool } from "../regress/pool.ts";
import { runGolden } from "../regress/run_golden.ts";

/**
 * Where goldens are looked for when no PATH is given: the checkout's `fixtures/golden`, found
 * from this module's location (not the current directory), as a path relative to the current
 * directory so that golden names, shards and artifacts read as before from the repository root.
 */
export function defaultGoldens(): string {
  const dir = fileURLToPath(new URL("../../fixtures/golden", import.meta.url));
  return relative(Deno.cwd(), dir) || ".";
}

/** How long the QEMUs of a finished or interrupted run may take to go. */
const REAP_TIMEOUT_MS = 10_000;

/** The `--help` text. */
export const REGRESS_HELP = [
  "Usage: deno task regress [options] [PATH…]",
  "Replay each golden session against a fresh QEMU started from its recorded command line",
  "(vetted as by replay) and diff the replay with the golden; print one row per golden.",
  "PATH is a session directory or a tree of them (default: fixtures/golden of the spicecap",
  "checkout, wherever spicecap runs from).",
  "Each golden is replayed and compared with the options in its regress.json (beside",
  "session.json; all optional, unknown fields refused):",
  '  {"version": 1, "password": "env:NAME" | "literal", "timeoutMs": 10000,',
  '   "speed": "max", "gate": "screen" | "none", "keep": [normaliser…],',
  '   "normalise": [normaliser…], "ignoreTypes": [message type…],',
  '   "rules": "rules.json" (inside the golden), "lookahead": 64, "timingMs": 50}',
  "  --qemu PATH          run every golden with this binary (named qemu-system-*)",
  "  --jobs N             goldens at once, each with its own QEMU and ports (default: the",
  "                       number of CPUs); each golden's QEMU peaks at about 75 MB resident",
  "                       (deno task bench --only regress)",
  "  --shard I/N          run the I-th of N slices (by sorted path, balanced by recorded",
  "                       duration); the N slices together run every golden once",
  "  --junit FILE         write a JUnit XML report (one testcase per finished golden; the",
  "                       diff summary as the failure message; artifact paths as properties)",
  "  --artifacts DIR      new or empty directory that keeps the replay directory, replay.log,",
  "                       diff.txt and screen PNGs of each golden that did not pass",
  "  --update             re-baseline each golden that differs, after showing its diff",
  "                       (its regress.json is kept; a replay that diverged is not used)",
  "  --json               NDJSON: one 'golden' object per golden, then a 'summary'",
  "  -h, --help           show this help",
  "Results come in path order whatever finishes first; progress goes to stderr.",
  "Exit status: 0 every golden the same, 1 any differs (or was updated), 2 usage, an invalid",
  "regress.json or session.json, or a golden that could not run, 130 interrupted",
  "(SIGINT/SIGTERM: running replays and their QEMUs stop; the JUnit report lists what finished)",
  "Examples:",
  "  deno task regress",
  "  deno task regress --jobs 2 --shard 1/2 --junit junit-1.xml --artifacts regress-artifacts",
  "",
].join("\n");

function parse(args: string[]) {
  return parseCommandArgs(args, {
    command: "regress",
    flags: {
      qemu: { type: "string" },
      jobs: { type: "string" },
      shard: { type: "string" },
      junit: { type: "string" },
      artifacts: { type: "string" },
      update: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** What the command line asked for, checked before anything runs. */
interface Plan {
  paths: string[];
  qemu?: string;
  jobs: number;
  shard?: ShardSpec;
  junit?: string;
  artifacts?: string;
  update: boolean;
  json: boolean;
}

async function checkQemu(path: string): Promise<string> {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (!QEMU_BINARY_PATTERN.test(base)) {
    throw new UsageError(`--qemu ${path} is not a qemu-system-* binary; regress runs nothing else`);
  }
  const info = await Deno.stat(path).catch(() => undefined);
  if (!info?.isFile) throw new UsageError(`--qemu ${path}: no such file`);
  return path;
}

async function plan(args: string[]): Promise<Plan | undefined> {
  const { values, positionals } = parse(args);
  if (values.help) return undefined;
  const jobs = values.jobs === undefined ? navigator.hardwareConcurrency : Number(values.jobs);
  if (!(Number.isInteger(jobs) && jobs >= 1)) {
    throw new UsageError(`--jobs expects a positive integer, got '${values.jobs}'`);
  }
  let shard: ShardSpec | undefined;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (e) {
    if (e instanceof ShardSyntaxError) throw new UsageError(e.message);
    throw e;
  }
  if (values.junit !== undefined) {
    const dir = values.junit.includes("/") ? values.junit.replace(/\/[^/]*$/, "") || "/" : ".";
    if (!(await Deno.stat(dir).catch(() => undefined))?.isDirectory) {
      throw new UsageError(`--junit ${values.junit}: no directory ${dir}`);
    }
  }
  return {
    paths: positionals.length > 0 ? positionals : [defaultGoldens()],
    qemu: values.qemu === undefined ? undefined : await checkQemu(values.qemu),
    jobs,
    shard,
    junit: values.junit,
    artifacts: values.artifacts,
    update: values.update === true,
    json: values.json === true,
  };
}

/**
 * Runs `deno task regress`.
 *
 * @returns 0 all same, 1 any differs, 2 usage or could not run, 130 interrupted
 */
export async function run(args: string[], io: Io): Promise<number> {
  const p = await plan(args);
  if (!p) {
    await io.out(REGRESS_HELP);
    return 0;
  }
  const all = await findGoldens(p.paths);
  const goldens = p.shard ? shardOf(all, p.shard) : all;
  const err = (line: string) => void io.err(`spicecap regress: ${line}\n`).catch(() => {});
  const shardNote = p.shard ? ` (shard ${p.shard.index}/${p.shard.count} of ${all.length})` : "";
  err(`${goldens.length} golden${goldens.length === 1 ? "" : "s"}${shardNote}, ${p.jobs} at once`);
  if (p.artifacts !== undefined) {
    await prepareOutputDirFlag(p.artifacts, "--artifacts");
  }
  const startedAt = new Date();
  const workDir = p.artifacts ?? await Deno.makeTempDir({ prefix: "spicecap-regress-" });
  try {
    const results = await runAll(goldens, { plan: p, io, workDir, err });
    const interrupted = io.signal.aborted;
    await report(results, { plan: p, io, startedAt, interrupted });
    return exitStatus(results, interrupted);
  } finally {
    if (p.artifacts === undefined) await Deno.remove(workDir, { recursive: true }).catch(() => {});
  }
}

async function runAll(
  goldens: readonly Golden[],
  ctx: { plan: Plan; io: Io; workDir: string; err: (line: string) => void },
): Promise<GoldenResult[]> {
  const { plan: p, io, workDir, err } = ctx;
  const before = qemuSnapshot();
  let done = 0;
  try {
    return await runPool(goldens, {
      jobs: p.jobs,
      signal: io.signal,
      run: (golden) =>
        runGolden(golden, {
          workDir,
          qemu: p.qemu,
          keepFailures: p.artifacts !== undefined,
          update: p.update,
          signal: io.signal,
        }),
      notRun: (golden) => ({ name: golden.path, outcome: "not-run", timeMs: 0 }),
      onDone: (r) => {
        done++;
        const why = r.outcome === "same" ? "" : `: ${r.message ?? ""}`;
        err(
          `[${done}/${goldens.length}] ${r.name} ${r.outcome} (${formatSeconds(r.timeMs)})${why}`,
        );
      },
    });
  } finally {
    await reapQemus(before, { timeoutMs: REAP_TIMEOUT_MS, log: err });
  }
}

async function report(
  results: GoldenResult[],
  ctx: { plan: Plan; io: Io; startedAt: Date; interrupted: boolean },
): Promise<void> {
  const { plan: p, io, interrupted } = ctx;
  if (p.json) {
    for (const r of results) await io.out(JSON.stringify({ type: "golden", ...r }) + "\n");
    await io.out(
      JSON.stringify({
        type: "summary",
        goldens: results.length,
        shard: p.shard ? `${p.shard.index}/${p.shard.count}` : null,
        interrupted,
        exit: exitStatus(results, interrupted),
      }) + "\n",
    );
  } else {
    for (const r of results) {
      if (r.outcome === "same" || r.outcome === "not-run" || r.outcome === "interrupted") continue;
      const what = r.outcome === "error"
        ? "could not run: "
        : r.outcome === "updated"
        ? "updated: "
        : "";
      await io.out(`── ${r.name}: ${what}${r.message ?? ""}\n${r.details ?? ""}\n`);
    }
    await io.out(formatResultTable(results));
  }
  if (p.junit === undefined) return;
  const properties: Record<string, string> = {};
  if (p.shard) properties.shard = `${p.shard.index}/${p.shard.count}`;
  if (interrupted) {
    properties.interrupted = "true";
    const unfinished = results.filter((r) =>
      r.outcome === "interrupted" || r.outcome === "not-run"
    );
    properties.unfinished = unfinished.map((r) => r.name).join(", ");
  }
  const xml = junitXml(results, { timestamp: ctx.startedAt.toISOString(), properties });
  const tmp = `${p.junit}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, xml);
  await Deno.rename(tmp, p.junit);
}
