/**
 * The process groups spicecap started (QEMU, clients), so that an immediate exit — the second
 * Ctrl-C — can still take them down instead of leaving them running.
 */
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
