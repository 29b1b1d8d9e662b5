/** Argument parsing shared by the commands: strict `node:util` parseArgs and number flags. */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type { Speed } from "../lib/replay/schedule.ts";
import { UsageError } from "./errors.ts";

/**
 * Parses a command's arguments strictly; an unknown or malformed flag is a {@link UsageError}
 * that points at the command's `--help`.
 *
 * @param args the arguments after the command name
 * @param spec `command`: the command name, for the hint; `flags`: the flags the command takes
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  args: string[],
  spec: { command: string; flags: O },
) {
  const { command, flags: options } = spec;
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${parseArgsMessage(e as Error, options)}\n${helpHint(command)}`);
  }
}

/** The line that sends the user to a command's options: `Run spicecap NAME --help for the options.` */
export function helpHint(command: string): string {
  return `Run spicecap ${command} --help for the options.`;
}

/** node:util's parseArgs message, without its quotes and its advice about `--`. */
function parseArgsMessage(e: Error, options: ParseArgsOptionsConfig): string {
  const code = (e as Error & { code?: string }).code;
  const unknown = /^Unknown option '([^']+)'/.exec(e.message);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown) {
    const flag = unknown[1];
    const flags = Object.keys(options).map((name) => `--${name}`);
    const near = flag.startsWith("--") ? closestName(flag.split("=")[0], flags) : undefined;
    return `unknown option ${flag}${near ? `; did you mean ${near}?` : ""}`;
  }
  return e.message.replace(/'([^' ]+)'/g, "$1").replace(/\. To specify a positional.*$/s, "");
}

/**
 * Edit distance between two strings (insert, delete, substitute, swap two neighbours).
 *
 * @example editDistance("DRAW_COPPY", "DRAW_COPY") // 1
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The known name nearest to `value` (case-insensitive), when it is near enough to be a typo:
 * at most a third of its length away, and at least 1.
 *
 * @returns the name as the table spells it, or undefined
 */
export function closestName(value: string, names: Iterable<string>): string | undefined {
  const wanted = value.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 3)) + 1;
  for (const name of names) {
    const distance = editDistance(wanted, name.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return best;
}

/**
 * Checks a name given on the command line against the names a table knows.
 *
 * @param flag the flag it came with, without dashes ("type", "channel", "ignore-type")
 * @param value what the user typed
 * @param options `names`: the known names; `what`: what a name is ("message name", "channel")
 * @returns `value` as the table spells it (case-insensitive match)
 * @throws {UsageError} `--type: unknown message name DRAW_COPPY; did you mean DRAW_COPY?`
 */
export function checkName(
  flag: string,
  value: string,
  options: { names: Iterable<string>; what: string },
): string {
  const names = [...options.names];
  const exact = names.find((n) => n.toLowerCase() === value.toLowerCase());
  if (exact !== undefined) return exact;
  const near = closestName(value, names);
  throw new UsageError(
    `--${flag}: unknown ${options.what} ${value}` + (near ? `; did you mean ${near}?` : ""),
  );
}

/** What a number flag accepts. */
export type NumberKind =
  | "port"
  | "positive integer"
  | "non-negative integer"
  | "non-negative number";

const ACCEPTS: Readonly<Record<NumberKind, (n: number) => boolean>> = Object.freeze({
  "port": (n) => Number.isInteger(n) && n >= 1 && n <= 65535,
  "positive integer": (n) => Number.isInteger(n) && n > 0,
  "non-negative integer": (n) => Number.isInteger(n) && n >= 0,
  "non-negative number": (n) => Number.isFinite(n) && n >= 0,
});

/**
 * Parses the value of `--flag` as a number of the given kind.
 *
 * @param text the value, or undefined when the flag is absent
 * @param spec `flag`: flag name without dashes, for the message; `kind`: what is accepted
 * @returns the number, or undefined when the flag is absent
 * @throws {UsageError} naming the flag, what it expects and what it got
 * @example numberFlag(values.count, { flag: "count", kind: "non-negative integer" })
 */
export function numberFlag(
  text: string | undefined,
  spec: { flag: string; kind: NumberKind },
): number | undefined {
  const { flag, kind } = spec;
  if (text === undefined) return undefined;
  const n = text.trim() === "" ? NaN : Number(text);
  if (!ACCEPTS[kind](n)) throw new UsageError(`--${flag} expects a ${kind}, got '${text}'`);
  return n;
}

/**
 * Parses `--speed`: "max", "realtime" (= 1) or a positive number N (N times faster).
 *
 * @throws {UsageError} for anything else
 */
export function parseSpeed(text: string): Speed {
  if (text === "max") return { kind: "max" };
  if (text === "realtime") return { kind: "factor", factor: 1 };
  const n = Number(text.replace(/x$/i, ""));
  if (!Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--speed expects max, realtime or a positive number, got '${text}'`);
  }
  return { kind: "factor", factor: n };
}
