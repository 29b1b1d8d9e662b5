/**
 * The readers `validateManifest` is built from: each takes a JSON value and the place it sits in
 * the manifest, and returns it typed or throws a {@link ManifestError} naming that place.
 */
import { describeJson, ManifestError } from "./manifest_error.ts";
import { MANIFEST_FILE } from "./manifest_types.ts";

/** Where a value sits: the manifest file and the field path. */
export interface At {
  /** The manifest file. */
  file: string;
  /** The field path, e.g. `channels[0].file`; "" for the whole file. */
  field: string;
}

/** Reads a value at a place of the manifest, or throws a {@link ManifestError} naming it. */
export type Read<T> = (value: unknown, at: At) => T;

const PORT = "a port 1..65535";

/** Throws the {@link ManifestError} of a field that does not hold what was expected. */
export function fail(at: At, expected: string, value: unknown): never {
  throw new ManifestError(at.file, { field: at.field, expected, actual: describeJson(value) });
}

/** The place of a field or list item inside `at`. */
export function child(at: At, key: string | number): At {
  const field = typeof key === "number"
    ? `${at.field}[${key}]`
    : at.field === ""
    ? key
    : `${at.field}.${key}`;
  return { file: at.file, field };
}

/** The value as a JSON object (not null, not a list). */
export function object(value: unknown, at: At): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(at, "an object", value);
  }
  return value as Record<string, unknown>;
}

/** An own property only: `__proto__`, `constructor` and the like never come from the prototype. */
export function get(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** Reads field `key` of `o`; positional as every field read of the validator. */
export function read<T>(o: Record<string, unknown>, key: string, at: At, reader: Read<T>): T {
  return reader(get(o, key), child(at, key));
}

/** Reads field `key` of `o` when it is present; positional as {@link read}. */
export function optional<T>(
  o: Record<string, unknown>,
  key: string,
  at: At,
  r: Read<T>,
): T | undefined {
  return get(o, key) === undefined ? undefined : read(o, key, at, r);
}

/** An integer in min..max (`what` names the range in errors). */
export function int(min: number, max: number, what?: string): Read<number> {
  return (v, at) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      fail(at, what ?? `an integer ${min}..${max}`, v);
    }
    return v;
  };
}

/** A count: an integer ≥ 0. */
export const count = int(0, Number.MAX_SAFE_INTEGER, "a count (integer ≥ 0)");
/** A TCP port 1..65535. */
export const port = int(1, 65535, PORT);

/** Any string. */
export const string: Read<string> = (v, at) => typeof v === "string" ? v : fail(at, "a string", v);
/** true or false. */
export const bool: Read<boolean> = (v, at) =>
  typeof v === "boolean" ? v : fail(at, "true or false", v);

/** No control characters (NUL, newline, …): such a string could cut or forge output lines. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** A string without control characters. */
export const line: Read<string> = (v, at) =>
  typeof v === "string" && !CONTROL.test(v)
    ? v
    : fail(at, "a string without control characters", v);

/** One of the given strings. */
export function oneOf<T extends string>(values: readonly T[]): Read<T> {
  return (v, at) =>
    values.includes(v as T) ? v as T : fail(at, values.map((x) => `"${x}"`).join(" or "), v);
}

/** null, or what `reader` reads. */
export function nullable<T>(reader: Read<T>): Read<T | null> {
  return (v, at) => v === null ? null : reader(v, at);
}

/** A list (of at least `min` items), each item read by `item`. */
export function list<T>(item: Read<T>, min = 0): Read<T[]> {
  return (v, at) => {
    if (!Array.isArray(v) || v.length < min) {
      fail(at, min > 0 ? `a list of at least ${min}` : "a list", v);
    }
    return v.map((x, i) => item(x, child(at, i)));
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
/** An ISO 8601 time. */
export const isoTime: Read<string> = (v, at) =>
  typeof v === "string" && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v))
    ? v
    : fail(at, "an ISO time (2026-01-31T12:00:00.000Z)", v);

/** Nanoseconds as a decimal string. */
export const nsTime: Read<string> = (v, at) =>
  typeof v === "string" && /^\d{1,20}$/.test(v) ? v : fail(at, "ns as a decimal string", v);

/**
 * Whether `name` is a plain file name inside the session directory: not empty, no `/`, no
 * `..`, no control character (NUL included), and not the manifest itself.
 */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.includes("/") && !name.includes("..") &&
    name !== "." && !CONTROL.test(name) && name !== MANIFEST_FILE;
}

/** A plain file name inside the session directory ({@link isPlainFileName}). */
export const fileName: Read<string> = (v, at) =>
  typeof v === "string" && isPlainFileName(v)
    ? v
    : fail(at, "a plain file name (no '/', '..' or control characters)", v);
