/**
 * What a regression run found for each golden, the table `deno task regress` prints, and the
 * exit status it ends with.
 *
 * @module
 */

/**
 * How one golden ended: `same` (replayed and diffed equal), `differs` (diff found differences or
 * the replay diverged), `updated` (differed, and `--update` re-baselined it), `error` (could not
 * run: QEMU, a refused command line, a missing password…), `interrupted` (stopped by SIGINT
 * before it finished), `not-run` (SIGINT came before it started).
 */
export type Outcome = "same" | "differs" | "updated" | "error" | "interrupted" | "not-run";

/** One golden's result. */
export interface GoldenResult {
  /** The golden's path as listed (the table's and the JUnit testcase's name). */
  name: string;
  outcome: Outcome;
  /** Differences the diff counted, when it ran. */
  differences?: number;
  /** Wall time of replay and diff, ms (0 when not run). */
  timeMs: number;
  /** One line: the diff summary, the divergence or the error. */
  message?: string;
  /** The full diff text, or the error output. */
  details?: string;
  /** Kept artifacts (`--artifacts`): what → path. */
  artifacts?: Record<string, string>;
}

/** Whether the golden ran to a verdict (the ones a JUnit report lists). */
export function finished(r: GoldenResult): boolean {
  return r.outcome !== "interrupted" && r.outcome !== "not-run";
}

const LABEL: Readonly<Record<Outcome, string>> = Object.freeze({
  same: "same",
  differs: "DIFFERS",
  updated: "updated",
  error: "COULD NOT RUN",
  interrupted: "interrupted",
  "not-run": "not run",
});

/** Seconds with one decimal, e.g. "2.7 s". */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * The result table, one row per golden in the order given, then a totals line.
 *
 * @param results in the order to print (the run's sorted order, not completion order)
 */
export function formatResultTable(results: readonly GoldenResult[]): string {
  const header = ["golden", "result", "differences", "time"];
  const rows = results.map((r) => [
    r.name,
    LABEL[r.outcome],
    r.differences === undefined ? "-" : String(r.differences),
    r.outcome === "not-run" ? "-" : formatSeconds(r.timeMs),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const fmt = (row: string[]) =>
    row.map((cell, c) => c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ")
      .trimEnd();
  const counts = new Map<Outcome, number>();
  for (const r of results) counts.set(r.outcome, (counts.get(r.outcome) ?? 0) + 1);
  const totals = (Object.keys(LABEL) as Outcome[])
    .filter((o) => counts.has(o))
    .map((o) => `${counts.get(o)} ${LABEL[o].toLowerCase()}`);
  const total = `${results.length} golden${results.length === 1 ? "" : "s"}` +
    (totals.length > 0 ? `: ${totals.join(", ")}` : "");
  return [fmt(header), ...rows.map(fmt), total].join("\n") + "\n";
}

/**
 * The exit status of a run: 130 interrupted, else 2 when any golden could not run, 1 when any
 * differed (updated included), 0 when every golden was the same (or there were none).
 */
export function exitStatus(results: readonly GoldenResult[], interrupted: boolean): number {
  if (interrupted) return 130;
  if (results.some((r) => r.outcome === "error" || !finished(r))) return 2;
  if (results.some((r) => r.outcome === "differs" || r.outcome === "updated")) return 1;
  return 0;
}
