/**
 * `deno task bench [--quick] [--only NAME]…`: runs every bench module and prints one table of
 * our figures against references measured in the same run.
 */
import { parseArgs } from "node:util";
import { closestName } from "../harness/args.ts";
import type { Bench, BenchRow } from "./types.ts";

const MODULES = [
  "pcap",
  "session",
  "check",
  "proxy",
  "record",
  "ring",
  "replay",
  "serve",
  "diff",
  "display",
  "report",
  "regress",
] as const;

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return "";
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (Math.abs(n) >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}

const TIME_UNITS = new Set(["s", "ms", "µs", "us", "ns", "ns/message"]);

/**
 * The row's ratio as "times better than the reference": value ÷ reference for rates,
 * reference ÷ value for times; the row's own ratio when it gives one.
 */
export function ratioOf(row: BenchRow): number | undefined {
  if (row.ratio !== undefined) return row.ratio;
  if (row.reference === undefined || row.reference === 0 || row.value === 0) return undefined;
  return TIME_UNITS.has(row.unit) ? row.reference / row.value : row.value / row.reference;
}

/** Renders rows as an aligned text table. */
export function renderTable(rows: BenchRow[]): string {
  const header = ["benchmark", "ours", "unit", "reference", "ratio", "goal", "met"];
  const body = rows.map((r) => [
    r.name,
    fmt(r.value),
    r.unit,
    r.reference === undefined ? "" : `${fmt(r.reference)} (${r.referenceName ?? "ref"})`,
    ratioOf(r) === undefined ? "" : `${ratioOf(r)!.toFixed(2)}×`,
    r.goal ?? "",
    r.met === undefined ? "" : r.met ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** The `--help` text. */
export const BENCH_HELP = `Usage: deno task bench [--quick] [--only NAME]…
Run the benchmarks and print one table: our figures against references (a C libpcap program,
tshark, a plain relay, …) measured in the same run.

Options:
  --quick          fewer and smaller runs (the smoke test uses it)
  --only NAME      only this benchmark (repeatable): ${MODULES.join(", ")}
  -h, --help       show this help

Exit status: 0 ran, 2 bad usage
`;

/**
 * Parses the bench arguments.
 *
 * @returns the options, or a message and exit status (help: 0, bad usage: 2)
 */
export function parseBenchArgs(
  args: string[],
): { quick: boolean; only?: string[] } | { text: string; code: number } {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    const flag = /'([^']+)'/.exec((e as Error).message)?.[1];
    const what = flag ? `unknown option or argument ${flag}` : (e as Error).message;
    return { text: `bench: ${what}\nRun deno task bench --help for the options.\n`, code: 2 };
  }
  if (values.help) return { text: BENCH_HELP, code: 0 };
  for (const name of values.only ?? []) {
    if ((MODULES as readonly string[]).includes(name)) continue;
    const near = closestName(name, MODULES);
    return {
      text: `bench: --only: unknown benchmark ${name}${near ? `; did you mean ${near}?` : ""}\n` +
        `The benchmarks: ${MODULES.join(", ")}\n`,
      code: 2,
    };
  }
  return { quick: values.quick === true, only: values.only };
}

if (import.meta.main) {
  const parsed = parseBenchArgs(Deno.args);
  if ("text" in parsed) {
    (parsed.code === 0 ? console.log : console.error)(parsed.text.trimEnd());
    Deno.exit(parsed.code);
  }
  const values = parsed;
  const rows: BenchRow[] = [];
  for (const name of MODULES) {
    if (values.only && !values.only.includes(name)) continue;
    let mod: { bench?: Bench };
    try {
      mod = await import(`./${name}_bench.ts`);
    } catch (e) {
      console.error(`bench ${name}: not available (${(e as Error).message.split("\n")[0]})`);
      continue;
    }
    if (!mod.bench) continue;
    console.error(`bench ${name}: running…`);
    try {
      rows.push(...await mod.bench({ quick: values.quick }));
    } catch (e) {
      console.error(`bench ${name}: failed: ${(e as Error).stack}`);
    }
  }
  console.log(renderTable(rows));
}
