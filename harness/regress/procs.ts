/**
 * The processes a regression run left: its descendants read from /proc (Linux), so a run can
 * poll until every QEMU it started is gone, and a test can find one to kill.
 *
 * @module
 */
import { trackedChildren } from "../processes/children.ts";

function readProc(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** The direct children of `pid` (every thread's), from /proc/PID/task/TID/children. */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: Iterable<Deno.DirEntry>;
  try {
    tasks = Deno.readDirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    const text = readProc(`/proc/${pid}/task/${t.name}/children`) ?? "";
    for (const word of text.split(/\s+/)) if (word !== "") out.push(Number(word));
  }
  return out;
}

/** Every descendant of `pid`, children before grandchildren. */
export function descendantPids(pid: number): number[] {
  const seen: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of childPids(queue.shift()!)) {
      if (seen.includes(child)) continue;
      seen.push(child);
      queue.push(child);
    }
  }
  return seen;
}

/** The process's name (`/proc/PID/comm`, at most 15 characters), or undefined when gone. */
export function processName(pid: number): string | undefined {
  return readProc(`/proc/${pid}/comm`)?.trim();
}

/** Whether `pid` still runs: it exists and is not a zombie waiting to be reaped. */
export function isRunning(pid: number): boolean {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return false;
  // The state follows the parenthesised name, which may itself hold spaces or parentheses.
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return state !== "Z" && state !== "X";
}

/**
 * The running QEMUs this isolate started itself (not those of other code in the same process,
 * such as another test file under `deno test --parallel`).
 *
 * @returns their pids
 */
export function ownQemus(): number[] {
  return trackedChildren().filter((p) =>
    processName(p)?.startsWith("qemu-system") === true && isRunning(p)
  );
}

/** The running QEMUs (`qemu-system-*`) below `pid` (default: this process). */
export function qemuDescendants(pid: number = Deno.pid): number[] {
  return descendantPids(pid).filter((p) =>
    processName(p)?.startsWith("qemu-system") === true && isRunning(p)
  );
}

/**
 * Polls until none of `pids` runs any more, or the deadline passes.
 *
 * @param pids processes to wait for
 * @param options how long to wait and how often to look
 * @returns the ones still running at the deadline (empty when all are gone)
 */
export async function waitUntilGone(
  pids: readonly number[],
  options: { timeoutMs: number; intervalMs?: number },
): Promise<number[]> {
  const deadline = performance.now() + options.timeoutMs;
  for (;;) {
    const left = pids.filter(isRunning);
    if (left.length === 0 || performance.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 50));
  }
}

/**
 * Peak resident memory of a process so far (`VmHWM`), bytes; undefined when it is gone.
 *
 * @param pid the process
 */
export function peakRssBytes(pid: number): number | undefined {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readProc(`/proc/${pid}/status`) ?? "");
  return m ? Number(m[1]) * 1024 : undefined;
}
