/**
 * Replay timing: `--speed` parsing, the schedule (anchored to the first recorded packet so error
 * never accumulates), and waiting until a target time with an injected timer. The real timer
 * sleeps with setTimeout until shortly before the target and spins the rest, which keeps the
 * scheduling error well under a millisecond.
 */
/** How fast to replay: as fast as causality allows, or the recorded times divided by `factor`. */
export type Speed = { kind: "max" } | { kind: "factor"; factor: number };

/**
 * Target time of a recorded event: start + (t − t0) / factor; undefined at max speed.
 *
 * @param tNs recorded time of the event
 * @param schedule `startNs`: replay start (when the first connection was opened); `t0Ns`:
 * recorded time of the first packet; `speed`: the speed
 */
export function targetNs(
  tNs: bigint,
  schedule: { startNs: bigint; t0Ns: bigint; speed: Speed },
): bigint | undefined {
  const { startNs, t0Ns, speed } = schedule;
  if (speed.kind === "max") return undefined;
  const rel = tNs > t0Ns ? tNs - t0Ns : 0n;
  if (speed.factor === 1) return startNs + rel;
  return startNs + BigInt(Math.round(Number(rel) / speed.factor));
}

/** A clock and a sleep; tests inject a fake one. */
export interface Timer {
  /** Monotonic now, ns. */
  nowNs(): bigint;
  /** Resolves after about `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
}

/** Below this much remaining time, {@link waitUntil} stops sleeping and polls `nowNs`. */
export const SPIN_NS = 2_000_000n;

/**
 * The process's monotonic timer: performance.now() and setTimeout.
 *
 * @returns a timer whose nowNs is monotonic (not epoch-based)
 */
export function realTimer(): Timer {
  return {
    nowNs: () => BigInt(Math.round(performance.now() * 1e6)),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

/**
 * Waits until `timer.nowNs() ≥ target`: sleeps while more than {@link SPIN_NS} remain, then
 * polls. Returns at once when the target has passed.
 *
 * @param timer clock and sleep
 * @param target target time, ns on the timer's clock
 * @param options `signal` stops the wait early
 * @returns how late the wait returned (now − target, ns; ≥ 0 unless aborted)
 */
export async function waitUntil(
  timer: Timer,
  target: bigint,
  { signal }: { signal?: AbortSignal } = {},
): Promise<bigint> {
  while (!signal?.aborted) {
    const left = target - timer.nowNs();
    if (left <= 0n) break;
    if (left > SPIN_NS) {
      await timer.sleep(Number(left - SPIN_NS) / 1e6);
    } else {
      // Spin: a short busy wait beats setTimeout's millisecond granularity.
      while (timer.nowNs() < target && !signal?.aborted) {
        // poll
      }
    }
  }
  return timer.nowNs() - target;
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
