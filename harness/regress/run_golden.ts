/**
 * One golden of a regression run: replay it against a fresh QEMU through `deno task replay`'s
 * `run`, diff the result with it through `deno task diff`'s `run`, both in-process with the
 * golden's own `regress.json` options; keep what a failure leaves when asked.
 *
 * @module
 */
import { run as replayCommand } from "../commands/replay.ts";
import { run as diffCommand } from "../commands/diff.ts";
import { memoryIo } from "../io.ts";
import { diffArgs, replayArgs, resolvePassword } from "../../lib/regress/config.ts";
import type { GoldenResult } from "../../lib/regress/results.ts";
import type { Golden } from "./goldens.ts";

/** How {@link runGolden} runs. */
export interface GoldenRunOptions {
  /** Directory this golden's replay goes in (`<workDir>/<slug>/replay`). */
  workDir: string;
  /** `--qemu`: the binary to run instead of the recorded one. */
  qemu?: string;
  /** Keep the replay, diff and logs of a golden that did not pass (`--artifacts`). */
  keepFailures: boolean;
  /** `--update`: re-baseline a golden that differs (not one whose replay diverged). */
  update: boolean;
  /** Aborted on SIGINT: the replay stops, its QEMU with it. */
  signal: AbortSignal;
  /** Environment lookup for `"password": "env:NAME"`. @default Deno.env.get */
  env?: (name: string) => string | undefined;
}

/** Most of a diff or log kept in a report. */
const MAX_DETAILS_CHARS = 64 * 1024;

/** A directory name for a golden path: `fixtures/golden/x` → `fixtures__golden__x`. */
export function artifactName(path: string): string {
  return path.replace(/^(\.\/)+/, "").replaceAll("..", "_").replaceAll("/", "__") || "_";
}

function clip(text: string): string {
  return text.length <= MAX_DETAILS_CHARS
    ? text
    : `${text.slice(0, MAX_DETAILS_CHARS)}\n… (${
      text.length - MAX_DETAILS_CHARS
    } more characters)\n`;
}

/** The last line that says something: not blank, not indented (a continuation), not a warning. */
function lastLine(text: string): string | undefined {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return lines.filter((l) => !/^\s/.test(l) && !/: warning: /.test(l)).at(-1) ?? lines.at(-1);
}

/** A command run in-process: its status and output; a thrown error is status 2 with its message. */
async function runCommand(
  command: (args: string[], io: ReturnType<typeof memoryIo>) => Promise<number>,
  options: { args: string[]; signal?: AbortSignal },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo(options.signal);
  let code: number;
  try {
    code = await command(options.args, io);
  } catch (e) {
    await io.err(`${(e as Error).message ?? String(e)}\n`);
    code = 2;
  }
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/**
 * Replays and diffs one golden. Never throws: whatever went wrong is the result's `error`.
 *
 * @param golden the golden and its options
 * @param options where to work and what to keep
 */
export async function runGolden(golden: Golden, options: GoldenRunOptions): Promise<GoldenResult> {
  const started = performance.now();
  const base = `${options.workDir}/${artifactName(golden.path)}`;
  const result = await replayAndDiff(golden, { ...options, base });
  result.timeMs = performance.now() - started;
  if (options.keepFailures && result.outcome !== "same" && result.outcome !== "not-run") {
    result.artifacts = await keptArtifacts(base);
  } else {
    await Deno.remove(base, { recursive: true }).catch(() => {});
  }
  return result;
}

async function replayAndDiff(
  golden: Golden,
  options: GoldenRunOptions & { base: string },
): Promise<GoldenResult> {
  const { config } = golden;
  const name = golden.path;
  const fail = (message: string, details?: string): GoldenResult => ({
    name,
    outcome: "error",
    timeMs: 0,
    message,
    details: clip(details ?? message),
  });
  const pw = resolvePassword(config, options.env ?? ((n) => Deno.env.get(n)));
  if (pw.missing !== undefined) {
    return fail(`regress.json password: environment variable ${pw.missing} is not set`);
  }
  await Deno.mkdir(options.base, { recursive: true, mode: 0o700 });
  const outDir = `${options.base}/replay`;
  const args = replayArgs(golden.path, { config, outDir, password: pw.password });
  if (options.qemu !== undefined) args.push("--qemu", options.qemu);
  const replay = await replayFor(args, { ...options, outDir });
  if (replay.code === 130) return { name, outcome: "interrupted", timeMs: 0 };
  if (replay.code !== 0 && replay.code !== 1) {
    return fail(lastLine(replay.stderr) ?? `replay exited ${replay.code}`, replay.stderr);
  }
  const diverged = replay.code === 1 ? divergenceLine(replay.stderr) : undefined;
  const dargs = diffArgs(golden.path, { config, actualDir: outDir });
  const update = options.update && replay.code === 0;
  if (update) dargs.push("--update");
  const diff = await runCommand(diffCommand, { args: dargs });
  await writeLog(`${options.base}/diff.txt`, diff.stdout + diff.stderr);
  if (diff.code !== 0 && diff.code !== 1) {
    return fail(`diff: ${lastLine(diff.stderr) ?? `exited ${diff.code}`}`, diff.stderr);
  }
  const m = /^differs: (\d+) difference/m.exec(diff.stdout);
  const differences = m ? Number(m[1]) : 0;
  const summary = lastLine(diff.stdout) ?? "";
  if (diff.code === 0 && diverged === undefined) {
    return { name, outcome: "same", differences, timeMs: 0, message: summary };
  }
  const notes = [
    diverged === undefined ? undefined : `replay: ${diverged.replace(/^spicecap replay: /, "")}`,
    diff.code === 1 ? summary : undefined,
    replay.ungated ? "replayed again with --gate none for --update" : undefined,
    options.update && !update ? "not updated: the replay diverged" : undefined,
  ].filter((x) => x !== undefined);
  return {
    name,
    outcome: update && diff.code === 1 ? "updated" : "differs",
    differences,
    timeMs: 0,
    message: notes.join("; "),
    details: clip([diverged ? replay.stderr : "", diff.stdout, diff.stderr].join("")),
  };
}

/**
 * Runs the replay. With `update`, a replay that exits 1 (it may have waited for recorded screens
 * that are the very thing to re-baseline) runs again with `--gate none`, and that one counts.
 */
async function replayFor(
  args: string[],
  options: GoldenRunOptions & { base: string; outDir: string },
): Promise<{ code: number; stdout: string; stderr: string; ungated: boolean }> {
  const log = `${options.base}/replay.log`;
  const first = await runCommand(replayCommand, { args, signal: options.signal });
  await writeLog(log, first.stderr + first.stdout);
  if (!(options.update && first.code === 1)) return { ...first, ungated: false };
  await Deno.remove(options.outDir, { recursive: true });
  const again = await runCommand(replayCommand, {
    args: [...args, "--gate", "none"],
    signal: options.signal,
  });
  await writeLog(log, `--- again with --gate none (--update)\n${again.stderr}${again.stdout}`);
  return { ...again, ungated: true };
}

/** Why the replay exited 1: its divergence line, else its last line that is not a warning. */
function divergenceLine(stderr: string): string {
  const lines = stderr.split("\n").filter((l) => l.trim() !== "" && !/: warning: /.test(l));
  return lines.find((l) => l.includes("diverged: ")) ?? lines.at(-1) ?? "the replay diverged";
}

async function writeLog(path: string, text: string): Promise<void> {
  if (text === "") return;
  await Deno.writeTextFile(path, text, { append: true, mode: 0o600 }).catch(() => {});
}

/** What a failing golden left in `base`: its replay directory, logs and screen PNGs. */
async function keptArtifacts(base: string): Promise<Record<string, string>> {
  const kept: Record<string, string> = {};
  const add = async (key: string, path: string) => {
    if (await Deno.stat(path).then(() => true, () => false)) kept[key] = path;
  };
  await add("replay", `${base}/replay`);
  await add("replay-log", `${base}/replay.log`);
  await add("diff", `${base}/diff.txt`);
  try {
    const pngs: string[] = [];
    for await (const e of Deno.readDir(`${base}/replay`)) {
      if (e.isFile && e.name.endsWith(".png")) pngs.push(e.name);
    }
    for (const png of pngs.sort()) kept[`screen:${png}`] = `${base}/replay/${png}`;
  } catch {
    // no replay directory: nothing more to list
  }
  return kept;
}
