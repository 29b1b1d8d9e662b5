/**
 * The fuzz test's inputs and invariants: small seeds cut from the captures in fixtures/, input
 * `i` of a run rebuilt from the run's seed alone, and one input run through the pure reader and
 * one CLI command (in-process), with what counts as a failure: an internal error, an exit status
 * outside 0/1/2, or output left behind by a failed command.
 */
import { readCaptureBatches } from "../lib/pcap/reader.ts";
import { CaptureFormatError } from "../lib/pcap/types.ts";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { firstChunks, inputSeed, mutate, Rng, withoutLargeChunks } from "./mutate.ts";

/** What an input is run through besides the reader. */
export type FuzzTarget = "check" | "inspect" | "messages" | "import" | "merge" | "diff";

/** The targets, in the order a run cycles through them. */
export const FUZZ_TARGETS: readonly FuzzTarget[] = [
  "check",
  "inspect",
  "messages",
  "import",
  "merge",
  "diff",
];

/** One file of a seed or input. */
export interface FuzzFile {
  /** Name in its directory (the channel file name in a session). */
  name: string;
  /** Contents. */
  bytes: Uint8Array;
}

/** A seed: one capture file, or the files of a session directory (session.json among them). */
export interface FuzzSeed {
  /** Where it came from, for reports. */
  name: string;
  /** Its files. */
  files: FuzzFile[];
  /** True for a session directory. */
  session: boolean;
}

/** Input `index` of a run: a seed with one of its files mutated, and the command to try. */
export interface FuzzInput {
  /** The seed it was made from. */
  seed: FuzzSeed;
  /** The seed's files, one of them mutated. */
  files: FuzzFile[];
  /** The command it is run through besides the reader; undefined for the reader only. */
  target?: FuzzTarget;
  /** The mutations, for a failure report. */
  steps: string[];
}

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

async function readSession(dir: string, cut: Map<string, number>): Promise<FuzzFile[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  names.sort();
  return await Promise.all(names.map(async (name) => {
    const bytes = await Deno.readFile(`${dir}/${name}`);
    const keep = cut.get(name);
    return { name, bytes: keep === undefined ? bytes : firstChunks(bytes, keep) };
  }));
}

/**
 * The seeds, cut small from the captures in fixtures/ so that thousands of inputs run in
 * seconds: golden channel files and sessions (main.pcap without its large agent messages) and
 * the raw captures' first packets or small packets.
 *
 * @returns the seeds, always in the same order
 */
export async function fuzzSeeds(): Promise<FuzzSeed[]> {
  const golden = `${FIXTURES}golden`;
  const cutMain = new Map([["main.pcap", 14]]);
  const seeds: FuzzSeed[] = [];
  for (const dir of ["screenshot", "all_channels"]) {
    const files = await readSession(`${golden}/${dir}`, cutMain);
    seeds.push({ name: `golden/${dir}`, files, session: true });
    for (const f of files) {
      if (f.name.endsWith(".pcap")) {
        seeds.push({ name: `golden/${dir}/${f.name}`, files: [f], session: false });
      }
    }
  }
  const raw = async (name: string, make: (b: Uint8Array) => Uint8Array) => {
    const bytes = make(await Deno.readFile(`${FIXTURES}raw/${name}`));
    const ext = name.slice(name.lastIndexOf("."));
    seeds.push({ name: `raw/${name}`, files: [{ name: `input${ext}`, bytes }], session: false });
  };
  await raw("screenshot_lo.pcapng", (b) => firstChunks(b, 22));
  await raw("screenshot_sll2.pcap", (b) => firstChunks(b, 20));
  await raw("spicy_all_channels.pcapng", (b) => withoutLargeChunks(b, 2048));
  return seeds;
}

/**
 * One input in this many goes through a CLI command too (a few ms each, against a few µs for
 * the reader alone), so a run covers many inputs and every command within its time.
 */
export const CLI_EVERY = 8;

/**
 * Rebuilds input `index` of the run `runSeed`: the same numbers always give the same input.
 *
 * @param seeds from {@link fuzzSeeds}
 * @param which `runSeed`: the run's seed; `index`: 0-based input number
 * @returns the input
 */
export function fuzzInput(
  seeds: readonly FuzzSeed[],
  which: { runSeed: number; index: number },
): FuzzInput {
  const { runSeed, index } = which;
  const rng = new Rng(inputSeed(runSeed, index));
  const cli = index % CLI_EVERY === 0;
  const seed = rng.pick(cli ? seeds : seeds.filter((s) => !s.session));
  const targets = seed.session ? FUZZ_TARGETS.filter((t) => t !== "import") : FUZZ_TARGETS;
  const target = cli ? targets[(index / CLI_EVERY) % targets.length] : undefined;
  // session.json now and then; mostly a capture file
  const captures = seed.files.filter((f) => f.name !== "session.json");
  const victim = seed.session && rng.chance(0.15)
    ? seed.files.find((f) => f.name === "session.json")!
    : rng.pick(captures);
  const { bytes, steps } = mutate(victim.bytes, rng);
  const files = seed.files.map((f) => f === victim ? { name: f.name, bytes } : f);
  return { seed, files, target, steps: [`${victim.name}: ${steps.join("; ")}`] };
}

/**
 * Writes files as `path` (a session directory) or, for one file, `path` + its extension.
 *
 * @param files the files
 * @param where the path without extension, and whether the files form a session directory
 * @returns the path written
 */
export async function writeFuzzFiles(
  files: readonly FuzzFile[],
  where: { path: string; session: boolean },
): Promise<string> {
  const { path, session } = where;
  if (!session) {
    const f = files[0];
    const out = path + f.name.slice(f.name.lastIndexOf("."));
    await Deno.writeFile(out, f.bytes);
    return out;
  }
  await Deno.mkdir(path, { recursive: true });
  for (const f of files) await Deno.writeFile(`${path}/${f.name}`, f.bytes);
  return path;
}

/** Reads every capture file through the pure reader; only CaptureFormatError may come out. */
async function readerProblem(files: readonly FuzzFile[]): Promise<string | undefined> {
  for (const f of files) {
    if (f.name === "session.json") continue;
    // whole, and split in two so records straddle chunks
    const half = f.bytes.length >> 1;
    for (const chunks of [[f.bytes], [f.bytes.subarray(0, half), f.bytes.subarray(half)]]) {
      try {
        for await (const _ of readCaptureBatches(chunks, { file: f.name })) { /* drain */ }
      } catch (e) {
        if (e instanceof CaptureFormatError && /byte \d+/.test(e.message)) continue;
        return `reader: ${e instanceof Error ? e.stack ?? e.message : String(e)}`;
      }
    }
  }
  return undefined;
}

/** Entries of the scratch directory besides the inputs and seeds it holds. */
async function leftovers(work: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(work)) {
    if (!/^(input(\.pcap|\.pcapng)|[sp]\d+(\.pcap|\.pcapng)?)$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/** The argv of a target, and the output it may create. */
function command(target: FuzzTarget, paths: { input: string; other: string; work: string }) {
  const { input, other, work } = paths;
  const out = target === "import" ? `${work}/imported` : `${work}/merged.pcapng`;
  const argv: Record<FuzzTarget, string[]> = {
    check: ["check", input],
    inspect: ["inspect", "-v", input],
    messages: ["inspect", "--messages", "--json", input],
    import: ["import", input, "-o", out],
    merge: ["merge", input, "-o", out],
    diff: ["diff", "--max-report", "3", input, other],
  };
  return { argv: argv[target], out: target === "import" || target === "merge" ? out : undefined };
}

/** Runs a command in-process and says what, if anything, broke an invariant. */
async function cliProblem(
  target: FuzzTarget,
  run: { argv: string[]; work: string; out?: string },
): Promise<string | undefined> {
  const { argv, work, out } = run;
  const io = memoryIo();
  const code = await main(argv, io);
  const stderr = io.stderr();
  const said = `${argv.join(" ")} → exit ${code}: ${stderr.slice(0, 2000)}`;
  if (code !== 0 && code !== 1 && code !== 2) return `exit status outside 0/1/2: ${said}`;
  if (/internal error|\n\s+at /.test(stderr)) return `internal error: ${said}`;
  if (code === 2 && stderr.trim() === "" && io.stdout().trim() === "") {
    return `exit 2 without a message: ${said}`;
  }
  const left = await leftovers(work);
  if (code === 2 && left.length > 0) {
    return `a failed ${target} left ${left.join(", ")} behind: ${said}`;
  }
  if (code !== 2 && out !== undefined && !left.includes(out.slice(work.length + 1))) {
    return `${target} exited ${code} but wrote no ${out}: ${said}`;
  }
  return undefined;
}

/**
 * A scratch directory that runs inputs: each seed is written once (as `s<k>`, with a pristine
 * copy `p<k>` for the other side of a diff); a session input overwrites its one mutated file in
 * `s<k>` and puts it back afterwards, a single-file input is written as `input.<ext>`.
 */
export class FuzzWorkspace {
  readonly #work: string;
  readonly #seeds = new Map<FuzzSeed, { dir: string; pristine: string }>();

  /**
   * Uses `work`, an empty directory the caller removes.
   *
   * @param work scratch directory
   */
  constructor(work: string) {
    this.#work = work;
  }

  async #seed(seed: FuzzSeed): Promise<{ dir: string; pristine: string }> {
    let paths = this.#seeds.get(seed);
    if (paths === undefined) {
      const k = this.#seeds.size;
      paths = {
        dir: await writeFuzzFiles(seed.files, {
          session: seed.session,
          path: `${this.#work}/s${k}`,
        }),
        pristine: await writeFuzzFiles(seed.files, {
          session: seed.session,
          path: `${this.#work}/p${k}`,
        }),
      };
      this.#seeds.set(seed, paths);
    }
    return paths;
  }

  /**
   * Runs one input through the reader and its CLI command and checks the invariants.
   *
   * @param input the input
   * @returns undefined when every invariant held, else what went wrong
   */
  async run(input: FuzzInput): Promise<string | undefined> {
    const problem = await readerProblem(input.files);
    if (problem !== undefined || input.target === undefined) return problem;
    const { dir, pristine } = await this.#seed(input.seed);
    const changed = input.files.filter((f, i) => f.bytes !== input.seed.files[i].bytes);
    let path = dir;
    if (input.seed.session) {
      for (const f of changed) await Deno.writeFile(`${dir}/${f.name}`, f.bytes);
    } else {path = await writeFuzzFiles(input.files, {
        session: false,
        path: `${this.#work}/input`,
      });}
    const { argv, out } = command(input.target, { input: path, other: pristine, work: this.#work });
    try {
      return await cliProblem(input.target, { argv, work: this.#work, out });
    } finally {
      if (out !== undefined) await Deno.remove(out, { recursive: true }).catch(() => {});
      if (input.seed.session) {
        for (const f of changed) {
          const original = input.seed.files.find((s) => s.name === f.name)!;
          await Deno.writeFile(`${dir}/${f.name}`, original.bytes);
        }
      } else await Deno.remove(path).catch(() => {});
    }
  }
}
