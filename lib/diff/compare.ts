/**
 * Comparing one normalised actual unit with one golden unit: type, length, serial, bytes outside
 * the masked ranges, and one-to-one mapped identifiers (session ids).
 */
import { u32le } from "../bytes.ts";
import { fieldAt, fieldLayout } from "./fields.ts";
import type { NormalisedUnit, OwnedRange } from "./types.ts";

/** How two units differ. */
export interface UnitDifference {
  /** "type": different message types; "length"/"bytes": body differs; "binding": an id maps inconsistently; "serial": header serial. */
  kind: "type" | "length" | "bytes" | "binding" | "serial";
  /** First differing offset in the compared bytes (body for messages). */
  offset?: number;
  /** Name of the field at `offset`, when the layout is known. */
  field?: string;
  /** Number of differing bytes outside the masks (over the common length). */
  differingBytes?: number;
  /** One line, e.g. "body length 20, expected 18". */
  detail: string;
}

/**
 * The one-to-one mapping of bound identifiers (actual value → golden value and back), kept for a
 * whole diff run so the display link's connection_id must equal the main channel's session id.
 */
export class BindingMap {
  readonly #forward = new Map<number, number>();
  readonly #backward = new Map<number, number>();

  /**
   * Checks (and, when `commit`, records) that `actual` maps to `golden`.
   *
   * @returns undefined when consistent, else the conflicting earlier mapping as text
   */
  check(actual: number, golden: number, options: { commit: boolean }): string | undefined {
    const { commit } = options;
    const f = this.#forward.get(actual);
    const b = this.#backward.get(golden);
    if (f !== undefined && f !== golden) return `actual ${hex32(actual)} was mapped to ${hex32(f)}`;
    if (b !== undefined && b !== actual) {
      return `golden ${hex32(golden)} was mapped from ${hex32(b)}`;
    }
    if (commit) {
      this.#forward.set(actual, golden);
      this.#backward.set(golden, actual);
    }
    return undefined;
  }
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/** Ranges skipped by the byte comparison: masks and binds, sorted. */
function skipped(u: NormalisedUnit): OwnedRange[] {
  if (u.binds.length === 0) return u.masks;
  return [...u.masks, ...u.binds].sort((a, b) => a.start - b.start);
}

/**
 * First differing offset of the compared bytes, outside the golden unit's masks and binds, and
 * the number of differing bytes, over the length both units have.
 */
function firstDifference(
  actual: NormalisedUnit,
  golden: NormalisedUnit,
): { offset: number; count: number } | undefined {
  const a = actual.input.unit.bytes;
  const b = golden.input.unit.bytes;
  const ao = actual.dataOffset;
  const bo = golden.dataOffset;
  const length = Math.min(actual.length, golden.length);
  const skip = skipped(golden);
  let offset = -1;
  let count = 0;
  let from = 0;
  for (let r = 0; r <= skip.length; r++) {
    const to = r < skip.length ? Math.min(skip[r].start, length) : length;
    for (let i = from; i < to; i++) {
      if (a[ao + i] !== b[bo + i]) {
        if (offset < 0) offset = i;
        count++;
      }
    }
    if (r < skip.length) from = Math.max(from, skip[r].end);
  }
  return offset < 0 ? undefined : { offset, count };
}

/** Whether both units are masked from the same offset to their ends (length included). */
function lengthMasked(actual: NormalisedUnit, golden: NormalisedUnit): boolean {
  const from = golden.maskedFrom;
  return from !== undefined && actual.maskedFrom === from;
}

/** How {@link compareUnits} treats bound identifiers. */
export interface CompareOptions {
  /** Identifier mapping of this run. */
  bindings: BindingMap;
  /** Record new identifier mappings; false while probing alignments. @default true */
  commit?: boolean;
}

/**
 * Compares an actual unit with a golden unit.
 *
 * @param actual unit from the run under test
 * @param golden unit from the golden capture and how to treat bound identifiers
 * @returns undefined when equal after normalisation, else how they differ
 */
export function compareUnits(
  actual: NormalisedUnit,
  golden: NormalisedUnit,
  options: CompareOptions,
): UnitDifference | undefined {
  const { bindings, commit = true } = options;
  if (actual.key !== golden.key) {
    return { kind: "type", detail: `${actual.name} where ${golden.name} was expected` };
  }
  const a = actual.input.unit.bytes;
  const g = golden.input.unit.bytes;
  const ao = actual.dataOffset;
  const go = golden.dataOffset;
  const layout = () => {
    const u = golden.input.unit;
    const type = u.kind === "message" ? u.type : undefined;
    return fieldLayout({
      channelType: golden.input.connection.channelType ?? 0,
      fromClient: u.fromClient,
      kind: u.kind,
      type,
    });
  };
  const common = Math.min(actual.length, golden.length);
  const diff = firstDifference(actual, golden);
  if (actual.length !== golden.length && !lengthMasked(actual, golden)) {
    const offset = diff?.offset ?? common;
    return {
      kind: "length",
      offset,
      field: fieldAt(layout(), offset),
      differingBytes: (diff?.count ?? 0) + Math.abs(actual.length - golden.length),
      detail: `length ${actual.length}, expected ${golden.length}`,
    };
  }
  if (diff) {
    return {
      kind: "bytes",
      offset: diff.offset,
      field: fieldAt(layout(), diff.offset),
      differingBytes: diff.count,
      detail: `${diff.count} byte${diff.count === 1 ? "" : "s"} differ`,
    };
  }
  for (const r of golden.binds) {
    if (r.end - r.start !== 4) continue;
    const conflict = bindings.check(u32le(a, ao + r.start), u32le(g, go + r.start), { commit });
    if (conflict) {
      return {
        kind: "binding",
        offset: r.start,
        field: r.field,
        detail: `${r.field} maps inconsistently (${r.by}): ${conflict}`,
      };
    }
  }
  if (golden.serial !== undefined && actual.serial !== golden.serial) {
    return { kind: "serial", detail: `serial ${actual.serial}, expected ${golden.serial}` };
  }
  return undefined;
}
