/**
 * The fuzz loop, in a worker so that the test can stop an input that hangs (even in a loop that
 * never awaits) by terminating it. It announces each input before running it, reports each
 * failure, and ends with a summary; see {@link FuzzRequest} and {@link FuzzReport}.
 */
/// <reference lib="deno.worker" />
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { type FuzzInput, fuzzInput, fuzzSeeds, FuzzWorkspace } from "./fuzz_inputs.ts";

/** What the test asks the worker to do. */
export type FuzzRequest =
  | {
    mode: "fuzz";
    /** The run's seed. */
    runSeed: number;
    /** Inputs to try at most. */
    maxInputs: number;
    /** Stop starting new inputs after this long. */
    maxMs: number;
    /** Scratch directory. */
    work: string;
  }
  | {
    mode: "replay";
    /** Inputs kept from earlier failures, in order. */
    inputs: FuzzInput[];
    /** Scratch directory. */
    work: string;
  };

/** What the worker tells the test. */
export type FuzzReport =
  | { type: "ready" }
  | { type: "start"; index: number }
  | { type: "failure"; index: number; reason: string }
  | { type: "done"; count: number; rssMax: number; elapsedMs: number };

const MEMORY_SAMPLE_EVERY = 100;

async function loop(
  request: FuzzRequest,
  next: (index: number) => Promise<FuzzInput | undefined>,
): Promise<void> {
  const workspace = new FuzzWorkspace(request.work);
  const started = performance.now();
  let rssMax = Deno.memoryUsage().rss;
  let index = 0;
  for (;; index++) {
    if (request.mode === "fuzz" && performance.now() - started > request.maxMs) break;
    const input = await next(index);
    if (input === undefined) break;
    self.postMessage({ type: "start", index } satisfies FuzzReport);
    let reason: string | undefined;
    try {
      reason = await workspace.run(input);
    } catch (e) {
      reason = `the harness itself failed: ${e instanceof Error ? e.stack : String(e)}`;
    }
    if (reason !== undefined) self.postMessage({ type: "failure", index, reason });
    if (index % MEMORY_SAMPLE_EVERY === 0) rssMax = Math.max(rssMax, Deno.memoryUsage().rss);
  }
  rssMax = Math.max(rssMax, Deno.memoryUsage().rss);
  const elapsedMs = performance.now() - started;
  self.postMessage({ type: "done", count: index, rssMax, elapsedMs } satisfies FuzzReport);
}

/** Loads (and so type-checks, under `deno test`) every command before the clock starts. */
async function warmUp(): Promise<void> {
  for (const name of ["check", "inspect", "import", "merge", "diff"]) {
    await main([name, "--help"], memoryIo());
  }
  self.postMessage({ type: "ready" } satisfies FuzzReport);
}

self.onmessage = async (event: MessageEvent<FuzzRequest>) => {
  const request = event.data;
  await warmUp();
  if (request.mode === "replay") {
    await loop(request, (i) => Promise.resolve(request.inputs[i]));
    return;
  }
  const seeds = await fuzzSeeds();
  await loop(request, (i) =>
    Promise.resolve(
      i < request.maxInputs ? fuzzInput(seeds, { runSeed: request.runSeed, index: i }) : undefined,
    ));
};
