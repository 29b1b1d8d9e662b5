/** Argument parsing shared by the commands: strict `node:util` parseArgs and number flags. */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type { Speed } from "../lib/replay/schedule.ts";
import { UsageError } from "./errors.ts";

/**
 * Parses a command's arguments strictly; an unknown or malformed flag is a {@link UsageError}
 * that points at the command's `--help`.
 *
 * @param command command name, for the hint
 * @param args the arguments after the command name
 * @param options the flags the command takes
 */
export function parseCommandArgs<const O extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\nRun 'deno task ${command} --help' for usage.`);
  }
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
 * @param flag flag name without dashes, for the message
 * @param text the value, or undefined when the flag is absent
 * @param kind what is accepted
 * @returns the number, or undefined when the flag is absent
 * @throws {UsageError} naming the flag, what it expects and what it got
 */
export function numberFlag(
  flag: string,
  text: string | undefined,
  kind: NumberKind,
): number | undefined {
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
