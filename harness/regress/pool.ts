/**
 * Running goldens N at a time: results in the order given whatever order they finish in; an
 * abort starts nothing more and lets the running ones stop; afterwards, every QEMU the run
 * started is polled until gone.
 *
 * @module
 */
import { isRunning, ownQemus, waitUntilGone } from "./procs.ts";

/** How {@link runPool} runs. */
export interface PoolOptions<T, R> {
  /** At most this many items at once (≥ 1). */
  jobs: number;
  /** Aborted: start nothing more; running items see it through their own wiring. */
  signal: AbortSignal;
  /** Runs one item; must not throw. */
  run: (item: T, index: number) => Promise<R>;
  /** The result of an item never started. */
  notRun: (item: T) => R;
  /** Called as each item finishes, in completion order. */
  onDone?: (result: R, index: number) => void;
}

/**
 * Runs `items` with at most `jobs` at once.
 *
 * @param items what to run, in report order
 * @param options concurrency, abort and the work itself
 * @returns one result per item, in the order of `items`
 */
export async function runPool<T, R>(items: readonly T[], options: PoolOptions<T, R>): Promise<R[]> {
  const results: (R | undefined)[] = new Array(items.length).fill(undefined);
  let next = 0;
  const worker = async () => {
    while (next < items.length && !options.signal.aborted) {
      const i = next++;
      results[i] = await options.run(items[i], i);
      options.onDone?.(results[i]!, i);
    }
  };
  const workers = Math.max(1, Math.min(options.jobs, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return results.map((r, i) => r ?? options.notRun(items[i]));
}

/** The QEMUs this isolate runs now, to tell the ones a run starts from older ones. */
export function qemuSnapshot(): Set<number> {
  return new Set(ownQemus());
}

/**
 * Polls until every QEMU this isolate started that is not in `before` has gone; any still running
 * at the deadline is killed (by its pid) and polled again.
 *
 * @param before {@link qemuSnapshot} taken before the run
 * @param options deadline, and where to say that one had to be killed
 * @returns the pids that had to be killed
 */
export async function reapQemus(
  before: ReadonlySet<number>,
  options: { timeoutMs: number; log?: (line: string) => void },
): Promise<number[]> {
  const ours = () => ownQemus().filter((p) => !before.has(p));
  const left = await waitUntilGone(ours(), { timeoutMs: options.timeoutMs });
  const stray = [...left, ...ours().filter((p) => !left.includes(p))].filter(isRunning);
  for (const pid of stray) {
    options.log?.(`QEMU pid ${pid} still running after the run: killing it`);
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // gone in between
    }
  }
  if (stray.length > 0) await waitUntilGone(stray, { timeoutMs: options.timeoutMs });
  return stray;
}
