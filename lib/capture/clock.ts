/** Source of packet timestamps, injected so tests are deterministic. */
export interface Clock {
  /** Current time in nanoseconds since the Unix epoch; never goes backwards. */
  nowNs(): bigint;
}

/**
 * Wall time read once, advanced by the monotonic clock, so timestamps never go backwards
 * even when the system clock is stepped. This is the one place in `lib/` that reads clocks.
 *
 * @returns a clock anchored at the current wall time
 */
export function systemClock(): Clock {
  const wallNs = BigInt(Date.now()) * 1_000_000n;
  const mono0 = performance.now();
  return {
    nowNs: () => wallNs + BigInt(Math.round((performance.now() - mono0) * 1e6)),
  };
}

/**
 * A deterministic clock for tests and goldens: every call advances by `stepNs`.
 *
 * @param options start time and step, in nanoseconds
 * @returns a clock that returns start, start + step, …
 */
export function steppingClock(options: { startNs?: bigint; stepNs?: bigint } = {}): Clock {
  let t = options.startNs ?? 1_700_000_000_000_000_000n;
  const step = options.stepNs ?? 1_000n;
  return {
    nowNs: () => {
      const now = t;
      t += step;
      return now;
    },
  };
}
