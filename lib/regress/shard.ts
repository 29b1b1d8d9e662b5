/**
 * `--shard I/N`: deterministic slices of a golden set. Every machine that lists the same goldens
 * with the same recorded durations computes the same slices, whatever order it found them in,
 * so N machines each running one slice run every golden exactly once.
 *
 * @module
 */

/** One slice of N: `index` from 1 to `count`. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** `--shard` text that is not `I/N` with 1 ≤ I ≤ N. */
export class ShardSyntaxError extends Error {
  /** Always "ShardSyntaxError". */
  override name = "ShardSyntaxError";
}

/**
 * Parses `I/N` (1-based, e.g. `1/2`).
 *
 * @throws {ShardSyntaxError} for anything else
 */
export function parseShard(text: string): ShardSpec {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(count >= 1 && index >= 1 && index <= count)) {
    throw new ShardSyntaxError(`--shard expects I/N with 1 ≤ I ≤ N (e.g. 1/2), got '${text}'`);
  }
  return { index, count };
}

/** What the planner needs of a golden: its path (the sort key) and its expected run time. */
export interface Plannable {
  /** The golden's path as listed; the only order key, compared by code unit. */
  path: string;
  /** Recorded duration, ms; how much of a slice it fills. Not finite or negative counts as 0. */
  durationMs: number;
}

function byPath(a: Plannable, b: Plannable): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

function weight(p: Plannable): number {
  return Number.isFinite(p.durationMs) && p.durationMs > 0 ? p.durationMs : 0;
}

/**
 * Splits goldens into `count` slices balanced by duration: longest first (ties by path), each
 * into the slice with the least total so far (ties: the lowest slice). Every golden is in exactly
 * one slice; each slice is sorted by path. Duplicate paths are kept as given.
 *
 * @param items the goldens, in any order
 * @param count number of slices (≥ 1)
 * @returns `count` arrays, slice 1 first
 */
export function planShards<T extends Plannable>(items: readonly T[], count: number): T[][] {
  if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`bad shard count ${count}`);
  const sorted = [...items].sort(byPath);
  const order = sorted.map((item, i) => ({ item, i })).sort((a, b) =>
    weight(b.item) - weight(a.item) || a.i - b.i
  );
  const slices: T[][] = Array.from({ length: count }, () => []);
  const loads = new Array<number>(count).fill(0);
  for (const { item } of order) {
    let best = 0;
    for (let s = 1; s < count; s++) {
      if (
        loads[s] < loads[best] ||
        (loads[s] === loads[best] && slices[s].length < slices[best].length)
      ) best = s;
    }
    slices[best].push(item);
    loads[best] += weight(item);
  }
  return slices.map((slice) => slice.sort(byPath));
}

/**
 * The goldens of one slice.
 *
 * @param items every golden
 * @param spec which slice of how many
 */
export function shardOf<T extends Plannable>(items: readonly T[], spec: ShardSpec): T[] {
  return planShards(items, spec.count)[spec.index - 1];
}
