/**
 * Bounded mutation fuzzing of everything that reads captures: inputs mutated from the fixtures
 * go through the reader and through check, inspect, import, merge and diff in-process. Nothing
 * may fail with an internal error, exit outside 0/1/2, hang, leave a failed command's output
 * behind or grow memory without bound. Each run takes a new seed (in the test name); replay one
 * with `SPICECAP_FUZZ_SEED=N`. Every input that ever failed is kept under fixtures/fuzz/ and
 * replayed first, every run.
 *
 * Knobs: SPICECAP_FUZZ_SEED, SPICECAP_FUZZ_INPUTS (default 20000), SPICECAP_FUZZ_SECONDS (50).
 */
import assert from "node:assert/strict";
import type { FuzzFile, FuzzInput, FuzzTarget } from "../testing/fuzz_inputs.ts";
import { fuzzInput, fuzzSeeds } from "../testing/fuzz_inputs.ts";
import type { FuzzReport, FuzzRequest } from "../testing/fuzz_worker.ts";

const KEPT = new URL("../fixtures/fuzz/", import.meta.url).pathname;
const RUN_SEED = Number(
  Deno.env.get("SPICECAP_FUZZ_SEED") ?? crypto.getRandomValues(new Uint32Array(1))[0],
);
const MAX_INPUTS = Number(Deno.env.get("SPICECAP_FUZZ_INPUTS") ?? 20_000);
const MAX_SECONDS = Number(Deno.env.get("SPICECAP_FUZZ_SECONDS") ?? 50);
/** Fewer inputs than this before the time bound means the loop itself is broken or far too slow. */
const MIN_INPUTS = Math.min(MAX_INPUTS, 4_000);
/** One input taking longer than this is a hang. */
const INPUT_TIMEOUT_MS = 10_000;
/** Loading the worker and the commands (type-checked on first use under `deno test`). */
const STARTUP_TIMEOUT_MS = 240_000;
/** The whole process (test and worker) must stay under this. */
const MAX_RSS_BYTES = 1.5 * 1024 ** 3;

interface Outcome {
  failures: { index: number; reason: string }[];
  count: number;
  rssMax: number;
  elapsedMs: number;
}

/** Runs a request in a fresh worker; an input that takes too long is a failure, not a hang. */
function runWorker(request: FuzzRequest): Promise<Outcome> {
  const worker = new Worker(new URL("../testing/fuzz_worker.ts", import.meta.url), {
    type: "module",
  });
  const failures: Outcome["failures"] = [];
  let current = -1;
  let since = performance.now();
  let timeout = STARTUP_TIMEOUT_MS;
  return new Promise<Outcome>((resolve, reject) => {
    const watchdog = setInterval(() => {
      if (performance.now() - since < timeout) return;
      finish();
      if (current < 0) {
        reject(new Error(`the fuzz worker did not start within ${timeout} ms`));
        return;
      }
      failures.push({ index: current, reason: `no answer within ${timeout} ms (hang)` });
      resolve({ failures, count: current + 1, rssMax: 0, elapsedMs: 0 });
    }, 250);
    const finish = () => {
      clearInterval(watchdog);
      worker.terminate();
    };
    worker.onmessage = (e: MessageEvent<FuzzReport>) => {
      const m = e.data;
      if (m.type === "ready") {
        timeout = INPUT_TIMEOUT_MS;
        since = performance.now();
      } else if (m.type === "start") {
        current = m.index;
        since = performance.now();
      } else if (m.type === "failure") failures.push({ index: m.index, reason: m.reason });
      else {
        finish();
        resolve({ failures, count: m.count, rssMax: m.rssMax, elapsedMs: m.elapsedMs });
      }
    };
    worker.onerror = (e) => {
      e.preventDefault();
      finish();
      reject(new Error(`fuzz worker died at input ${current}: ${e.message}`));
    };
    worker.postMessage(request);
  });
}

async function readFiles(dir: string): Promise<FuzzFile[]> {
  const files: FuzzFile[] = [];
  for await (const e of Deno.readDir(dir)) {
    files.push({ name: e.name, bytes: await Deno.readFile(`${dir}/${e.name}`) });
  }
  return files.sort((a, b) => a.name < b.name ? -1 : 1);
}

/** The inputs kept under fixtures/fuzz/, by directory name. */
async function keptInputs(): Promise<{ name: string; input: FuzzInput }[]> {
  const kept: { name: string; input: FuzzInput }[] = [];
  try {
    for await (const e of Deno.readDir(KEPT)) {
      if (!e.isDirectory) continue;
      const dir = `${KEPT}${e.name}`;
      const meta = JSON.parse(await Deno.readTextFile(`${dir}/case.json`)) as {
        target: FuzzTarget | null;
        session: boolean;
        steps: string[];
      };
      const other = await readFiles(`${dir}/other`);
      kept.push({
        name: e.name,
        input: {
          seed: { name: e.name, files: other, session: meta.session },
          files: await readFiles(`${dir}/input`),
          target: meta.target ?? undefined,
          steps: meta.steps,
        },
      });
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return kept.sort((a, b) => a.name < b.name ? -1 : 1);
}

/** Keeps a failing input as fixtures/fuzz/<target>-<seed>-<index>/; returns that path. */
async function keep(
  input: FuzzInput,
  failure: { index: number; reason: string },
): Promise<string> {
  const { index, reason } = failure;
  const name = `${input.target ?? "reader"}-${RUN_SEED}-${index}`;
  const dir = `${KEPT}${name}`;
  await Deno.mkdir(`${dir}/input`, { recursive: true });
  await Deno.mkdir(`${dir}/other`, { recursive: true });
  for (const f of input.files) await Deno.writeFile(`${dir}/input/${f.name}`, f.bytes);
  for (const f of input.seed.files) await Deno.writeFile(`${dir}/other/${f.name}`, f.bytes);
  const meta = {
    target: input.target ?? null,
    session: input.seed.session,
    seed: input.seed.name,
    steps: input.steps,
    failure: reason.split("\n")[0].slice(0, 300),
  };
  await Deno.writeTextFile(`${dir}/case.json`, JSON.stringify(meta, null, 2) + "\n");
  return `fixtures/fuzz/${name}`;
}

Deno.test("fuzz: every input kept in fixtures/fuzz/ still passes", async () => {
  const kept = await keptInputs();
  const work = await Deno.makeTempDir({ prefix: "spicecap-fuzz-" });
  try {
    const outcome = await runWorker({ mode: "replay", inputs: kept.map((k) => k.input), work });
    const failed = outcome.failures.map((f) => `${kept[f.index]?.name}: ${f.reason}`);
    assert.deepEqual(failed, [], failed.join("\n\n"));
    assert.equal(outcome.count, kept.length);
  } finally {
    await Deno.remove(work, { recursive: true });
  }
});

Deno.test(
  `fuzz: ${MAX_INPUTS} mutated inputs in ≤ ${MAX_SECONDS} s (SPICECAP_FUZZ_SEED=${RUN_SEED})`,
  async () => {
    const work = await Deno.makeTempDir({ prefix: "spicecap-fuzz-" });
    try {
      const outcome = await runWorker({
        mode: "fuzz",
        runSeed: RUN_SEED,
        maxInputs: MAX_INPUTS,
        maxMs: MAX_SECONDS * 1000,
        work,
      });
      const seeds = await fuzzSeeds();
      const reports: string[] = [];
      for (const f of outcome.failures) {
        const input = fuzzInput(seeds, { runSeed: RUN_SEED, index: f.index });
        const path = await keep(input, f);
        reports.push(`${path} (${input.seed.name}; ${input.steps.join("; ")}):\n${f.reason}`);
      }
      console.log(
        `fuzz seed ${RUN_SEED}: ${outcome.count} inputs in ${
          (outcome.elapsedMs / 1000).toFixed(1)
        } s, ` +
          `peak RSS ${(outcome.rssMax / 1024 ** 2).toFixed(0)} MiB`,
      );
      assert.deepEqual(
        reports,
        [],
        `${reports.length} failing input(s), kept under fixtures/fuzz/; replay the run with ` +
          `SPICECAP_FUZZ_SEED=${RUN_SEED}\n\n${reports.join("\n\n")}`,
      );
      assert.ok(outcome.count >= MIN_INPUTS, `only ${outcome.count} inputs ran`);
      assert.ok(outcome.rssMax < MAX_RSS_BYTES, `peak RSS ${outcome.rssMax} bytes`);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
);
