/** The error `validateManifest` throws: the file, the field, what it expected, what it got. */

/** What {@link ManifestError} says was wrong. */
export interface ManifestProblem {
  /** Path of the field, e.g. `channels[0].file`; "" for the file as a whole. */
  field: string;
  /** What the field must hold. */
  expected: string;
  /** What it held, described briefly; absent when there is nothing useful to show. */
  actual?: string;
}

/** A manifest this version cannot use. The message is one line: file, field, expected, got. */
export class ManifestError extends Error {
  /** Always "ManifestError". */
  override name = "ManifestError";
  /** Path of the manifest file that was rejected. */
  readonly file: string;
  /** Path of the offending field, e.g. `channels[0].file`; "" for the file as a whole. */
  readonly field: string;
  /** What the field must hold. */
  readonly expected: string;
  /** What it held, described briefly. */
  readonly actual?: string;

  /**
   * Builds the error; the message is `<file>: '<field>': expected <expected>, got <actual>`.
   *
   * @param file path of the manifest
   * @param problem the field, what was expected and what was found
   */
  constructor(file: string, problem: ManifestProblem) {
    const where = problem.field === "" ? "" : `'${problem.field}': `;
    const got = problem.actual === undefined ? "" : `, got ${problem.actual}`;
    super(`${file}: ${where}expected ${problem.expected}${got}`);
    this.file = file;
    this.field = problem.field;
    this.expected = problem.expected;
    this.actual = problem.actual;
  }
}

const MAX_STRING_SHOWN = 48;

/** A short, one-line description of any JSON value. */
export function describeJson(value: unknown): string {
  if (value === undefined) return "nothing (field missing)";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") {
    const shown = value.length > MAX_STRING_SHOWN ? `${value.slice(0, MAX_STRING_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null || typeof value === "boolean") return String(value);
  return "an object";
}
