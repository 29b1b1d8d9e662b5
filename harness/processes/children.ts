/**
 * The children spicecap starts (QEMU, clients) and how they never outlive it: each is started
 * under util-linux `setpriv --pdeathsig KILL`, so the kernel kills it when spicecap dies, even by
 * SIGKILL; and the process groups are tracked, so that an immediate exit — the second Ctrl-C —
 * takes down the whole group (a client's Xvfb included) instead of leaving it running.
 */
import { requireTool } from "./tools.ts";

/** The util-linux program that sets the parent-death signal and then runs the command. */
export const PDEATHSIG_TOOL = "setpriv";

/**
 * `argv` run under `setpriv --pdeathsig KILL`: the kernel sends it SIGKILL when the thread that
 * spawned it ends, so it must be spawned from the main thread (which lives as long as
 * spicecap). `setpriv` execs the command, so the pid is the command's own.
 *
 * @param argv the command, binary first
 * @returns the wrapped argv
 * @throws {EnvironmentError} when setpriv is not installed
 */
export function dieWithUs(argv: readonly string[]): string[] {
  requireTool(PDEATHSIG_TOOL);
  return [PDEATHSIG_TOOL, "--pdeathsig", "KILL", "--", ...argv];
}

const groups = new Set<number>();

/**
 * Remembers a child started with `detached: true` (its pid is its process group) until it exits.
 *
 * @param child the spawned process
 */
export function trackChild(child: Deno.ChildProcess): void {
  groups.add(child.pid);
  child.status.finally(() => groups.delete(child.pid)).catch(() => {});
}

/**
 * The children this isolate started and that have not exited yet. Under `deno test --parallel`
 * several test files share one process, so "below this process" would include the others'.
 *
 * @returns their pids
 */
export function trackedChildren(): number[] {
  return [...groups];
}

/** Sends SIGKILL to every tracked process group that is still running; never throws. */
export function killChildrenNow(): void {
  for (const pgid of groups) {
    try {
      Deno.kill(-pgid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  groups.clear();
}
