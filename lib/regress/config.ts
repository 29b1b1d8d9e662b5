/**
 * `regress.json`: how one golden session is to be replayed and compared, kept beside its
 * `session.json` so the golden carries its own options. Any JSON value in, a typed
 * {@link RegressConfig} out, or a {@link RegressConfigError} naming the file and the field.
 *
 * @module
 */
import { NORMALISER_NAMES } from "../diff/normalisers.ts";

/** The file name of a golden's regress options, beside its `session.json`. */
export const REGRESS_FILE = "regress.json";

/** The only `version` this code reads. */
export const REGRESS_VERSION = 1;

/** Where the SPICE password of a replay comes from. */
export type PasswordSource =
  | { kind: "literal"; value: string }
  | { kind: "env"; name: string };

/** A golden's replay and diff options; absent fields take the commands' defaults. */
export interface RegressConfig {
  /** `"env:NAME"` reads the environment variable NAME; any other string is the password. */
  password?: PasswordSource;
  /** replay `--timeout`, ms. */
  timeoutMs?: number;
  /** replay `--speed`: "max", "realtime" or a positive factor. */
  speed?: string;
  /** replay `--gate`. */
  gate?: "screen" | "none";
  /** diff `--keep` (normalisers turned off). */
  keep: string[];
  /** diff `--normalise` (off-by-default normalisers turned on). */
  normalise: string[];
  /** diff `--ignore-type` (message type names dropped). */
  ignoreTypes: string[];
  /** Rules file for diff and replay `--rules`, a relative path inside the golden directory. */
  rules?: string;
  /** diff `--lookahead`. */
  lookahead?: number;
  /** diff `--timing`, ms. */
  timingMs?: number;
}

/** A `regress.json` this version cannot use; the message names the file and the field. */
export class RegressConfigError extends Error {
  /** Always "RegressConfigError". */
  override name = "RegressConfigError";

  /**
   * @param file path of the rejected file
   * @param problem the field ("" for the whole file), what it must hold and what it held
   */
  constructor(
    readonly file: string,
    readonly problem: { field: string; expected: string; actual?: string },
  ) {
    const where = problem.field === "" ? "" : ` '${problem.field}':`;
    const got = problem.actual === undefined ? "" : `, got ${problem.actual}`;
    super(`${file}:${where} expected ${problem.expected}${got}`);
  }
}

type Json = unknown;

function describe(v: Json): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** What a field must hold: the check and its words for the message. */
interface Rule<T> {
  test: (v: T) => boolean;
  expected: string;
}

/** Field readers bound to one file, so each failure names it. */
class Fields {
  constructor(readonly file: string, readonly obj: Record<string, Json>) {}

  /** Throws the error of `field`: what it must hold, and the value it held if any. */
  fail(field: string, problem: { expected: string; value?: Json }): never {
    const v = problem.value;
    throw new RegressConfigError(this.file, {
      field,
      expected: problem.expected,
      actual: v === undefined ? undefined : describe(v),
    });
  }

  string(field: string, rule?: Rule<string>): string | undefined {
    const v = this.obj[field];
    if (v === undefined) return undefined;
    if (typeof v !== "string" || (rule && !rule.test(v))) {
      this.fail(field, { expected: rule?.expected ?? "a string", value: v });
    }
    return v as string;
  }

  number(field: string, rule: Rule<number>): number | undefined {
    const v = this.obj[field];
    if (v === undefined) return undefined;
    if (typeof v !== "number" || !rule.test(v)) {
      this.fail(field, { expected: rule.expected, value: v });
    }
    return v as number;
  }

  names(field: string, known?: readonly string[]): string[] {
    const v = this.obj[field];
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(field, { expected: "an array of names", value: v });
    return (v as Json[]).map((item, i) => {
      if (typeof item !== "string" || item === "") {
        this.fail(`${field}[${i}]`, { expected: "a name", value: item });
      }
      if (known && !known.includes(item as string)) {
        this.fail(`${field}[${i}]`, {
          expected: `a normaliser name (${known.join(", ")})`,
          value: item,
        });
      }
      return item as string;
    });
  }
}

const FIELDS = [
  "version",
  "password",
  "timeoutMs",
  "speed",
  "gate",
  "keep",
  "normalise",
  "ignoreTypes",
  "rules",
  "lookahead",
  "timingMs",
] as const;

const isPositiveInteger = (n: number) => Number.isSafeInteger(n) && n > 0;

/** A relative path that stays inside the golden directory. */
function isInsidePath(p: string): boolean {
  return p !== "" && !p.startsWith("/") && !p.includes("\0") &&
    p.split("/").every((seg) => seg !== "..");
}

function isSpeed(s: string): boolean {
  if (s === "max" || s === "realtime") return true;
  const n = Number(s.replace(/x$/i, ""));
  return s.trim() !== "" && Number.isFinite(n) && n > 0;
}

function passwordSource(f: Fields): PasswordSource | undefined {
  const text = f.string("password");
  if (text === undefined) return undefined;
  if (!text.startsWith("env:")) return { kind: "literal", value: text };
  const name = text.slice("env:".length);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    f.fail("password", {
      expected: '"env:NAME" with NAME an environment variable name',
      value: text,
    });
  }
  return { kind: "env", name };
}

/**
 * Validates the text of a `regress.json`.
 *
 * @param text the file's contents
 * @param file its path, for messages
 * @returns the options, with empty lists for absent list fields
 * @throws {RegressConfigError} naming the file and the first bad field
 */
export function parseRegressConfig(text: string, file: string): RegressConfig {
  let value: Json;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RegressConfigError(file, {
      field: "",
      expected: "JSON",
      actual: (e as Error).message,
    });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new RegressConfigError(file, {
      field: "",
      expected: "a JSON object",
      actual: describe(value),
    });
  }
  const obj = value as Record<string, Json>;
  const f = new Fields(file, obj);
  for (const key of Object.keys(obj)) {
    if (!(FIELDS as readonly string[]).includes(key)) {
      f.fail(key, { expected: `no such field (known: ${FIELDS.join(", ")})` });
    }
  }
  f.number("version", { test: (n) => n === REGRESS_VERSION, expected: `${REGRESS_VERSION}` });
  const gate = f.string("gate", {
    test: (s) => s === "screen" || s === "none",
    expected: '"screen" or "none"',
  });
  return {
    password: passwordSource(f),
    timeoutMs: f.number("timeoutMs", {
      test: isPositiveInteger,
      expected: "a positive integer (ms)",
    }),
    speed: f.string("speed", { test: isSpeed, expected: '"max", "realtime" or a positive number' }),
    gate: gate as RegressConfig["gate"],
    keep: f.names("keep", NORMALISER_NAMES),
    normalise: f.names("normalise", NORMALISER_NAMES),
    ignoreTypes: f.names("ignoreTypes"),
    rules: f.string("rules", {
      test: isInsidePath,
      expected: "a relative path inside the golden directory",
    }),
    lookahead: f.number("lookahead", {
      test: (n) => Number.isSafeInteger(n) && n >= 0,
      expected: "an integer ≥ 0",
    }),
    timingMs: f.number("timingMs", {
      test: (n) => Number.isFinite(n) && n >= 0,
      expected: "a number ≥ 0 (ms)",
    }),
  };
}

/** The options of a golden without a `regress.json`: every command default. */
export function defaultRegressConfig(): RegressConfig {
  return { keep: [], normalise: [], ignoreTypes: [] };
}

/**
 * The password a replay of the golden uses.
 *
 * @param config the golden's options
 * @param env reads an environment variable
 * @returns the password (undefined: none), or `missing` naming the unset variable
 */
export function resolvePassword(
  config: RegressConfig,
  env: (name: string) => string | undefined,
): { password?: string; missing?: string } {
  const src = config.password;
  if (src === undefined) return {};
  if (src.kind === "literal") return { password: src.value };
  const value = env(src.name);
  return value === undefined ? { missing: src.name } : { password: value };
}

/**
 * The `deno task replay` arguments for a golden (before `--qemu`, which the caller adds).
 *
 * @param goldenDir the golden session directory
 * @param options the config, the replay's output directory and the resolved password
 */
export function replayArgs(
  goldenDir: string,
  options: { config: RegressConfig; outDir: string; password?: string },
): string[] {
  const { config, outDir, password } = options;
  const args = [goldenDir, "--out", outDir];
  if (password !== undefined) args.push("--password", password);
  if (config.timeoutMs !== undefined) args.push("--timeout", String(config.timeoutMs));
  if (config.speed !== undefined) args.push("--speed", config.speed);
  if (config.gate !== undefined) args.push("--gate", config.gate);
  if (config.rules !== undefined) args.push("--rules", `${goldenDir}/${config.rules}`);
  return args;
}

/**
 * The `deno task diff ACTUAL GOLDEN` arguments for a golden.
 *
 * @param goldenDir the golden session directory
 * @param options the config and the replayed session directory
 */
export function diffArgs(
  goldenDir: string,
  options: { config: RegressConfig; actualDir: string },
): string[] {
  const { config, actualDir } = options;
  const args = [actualDir, goldenDir];
  for (const n of config.keep) args.push("--keep", n);
  for (const n of config.normalise) args.push("--normalise", n);
  for (const t of config.ignoreTypes) args.push("--ignore-type", t);
  if (config.rules !== undefined) args.push("--rules", `${goldenDir}/${config.rules}`);
  if (config.lookahead !== undefined) args.push("--lookahead", String(config.lookahead));
  if (config.timingMs !== undefined) args.push("--timing", String(config.timingMs));
  return args;
}
