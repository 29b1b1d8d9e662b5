/**
 * Deciding, once per unit class of a diff run, what normalisation applies to its units: drop
 * them, or which ranges to mask, which identifiers to bind and which image ids to find.
 */
import { channelName } from "../spice/tables.ts";
import {
  type FieldRange,
  type Normaliser,
  NORMALISER_NAMES,
  NORMALISERS,
  selectorMatches,
  type UnitSelector,
} from "./normalisers.ts";
import type { DiffRule, NormaliseOptions, UnitClass } from "./types.ts";

const DISPLAY = 2;

/** An unknown normaliser name in `keep` / `enable`. */
export class UnknownNormaliserError extends Error {
  /** Always "UnknownNormaliserError". */
  override name = "UnknownNormaliserError";
  /**
   * Builds the error; the message lists the known names.
   *
   * @param name the unknown name as given
   */
  constructor(name: string) {
    super(`unknown normaliser '${name}'; known: ${NORMALISER_NAMES.join(", ")}`);
  }
}

/**
 * Whether a user-given message name denotes this unit: the table name ("INIT"), the name with
 * the channel prefix ("MAIN_INIT"), or a link-phase name ("LINK_REPLY", also spelled
 * "linkReply"); case-insensitive, underscores optional.
 */
export function nameMatches(given: string, unit: { channelType: number; name: string }): boolean {
  const g = given.toUpperCase().replaceAll("_", "");
  const n = unit.name.toUpperCase().replaceAll("_", "");
  return g === n || g === `${channelName(unit.channelType).toUpperCase()}${n}`;
}

/** The normalisers and rules of one diff run. */
export interface ActiveSet {
  /** Normalisers switched on. */
  normalisers: readonly Normaliser[];
  /** Rules from `--rules`. */
  rules: readonly DiffRule[];
  /** Message names dropped by `--ignore-type`. */
  ignoreTypes: readonly string[];
  /** Whether full-header serials are left out of the comparison. */
  ignoreSerial: boolean;
  /** Whether periodic blink draws are left out (`blink`). */
  foldBlinks: boolean;
}

/**
 * The normalisers and rules the options switch on.
 *
 * @throws {UnknownNormaliserError} for an unknown name in `keep` or `enable`
 */
export function activeSet(options: NormaliseOptions): ActiveSet {
  for (const n of [...(options.keep ?? []), ...(options.enable ?? [])]) {
    if (!NORMALISER_NAMES.includes(n)) throw new UnknownNormaliserError(n);
  }
  const normalisers = NORMALISERS.filter((n) =>
    n.defaultOn ? !options.keep?.includes(n.name) : options.enable?.includes(n.name) ?? false
  );
  return {
    normalisers,
    rules: options.rules ?? [],
    ignoreTypes: options.ignoreTypes ?? [],
    ignoreSerial: normalisers.some((n) => n.ignoresSerial),
    foldBlinks: normalisers.some((n) => n.foldsBlinks),
  };
}

/** A range to mask or bind and who asked for it. */
export interface PlannedRange {
  /** The range, relative to the compared bytes. */
  range: FieldRange;
  /** Normaliser name, or "rule". */
  by: string;
}

/** What applies to every unit of one class. */
export interface UnitPlan {
  /** Drop the units. */
  drop: boolean;
  /** Message name or link-phase kind. */
  name: string;
  /** Alignment key: "m" + message type, or the link-phase kind. */
  key: string;
  /** Ranges ignored by the comparison. */
  masks: PlannedRange[];
  /** Ranges of u32 identifiers bound one-to-one between the runs. */
  binds: PlannedRange[];
  /** Display draws whose source image id is masked: offset of the src_bitmap field. */
  imageSrc: { src: number; by: string }[];
  /**
   * Start of the earliest mask that runs to the end of the unit (`draw-images`, a rule without
   * an end): from there on the length is masked too.
   */
  openFrom?: number;
}

function ruleMatches(r: DiffRule, unit: UnitClass & { name: string }): boolean {
  if (r.channel !== undefined && r.channel !== unit.channelType) return false;
  if (r.fromClient !== undefined && r.fromClient !== unit.fromClient) return false;
  if (r.message !== undefined && !nameMatches(r.message, unit)) return false;
  return true;
}

/**
 * The plan for one unit class.
 *
 * @param unit the class: channel, direction, kind, type
 * @param options the class's name ("INIT", "ticket", …) and the run's active set
 * @returns what to do with every unit of the class
 */
export function planUnit(
  unit: UnitClass,
  options: { name: string; active: ActiveSet },
): UnitPlan {
  const { name, active } = options;
  const { channelType, fromClient, kind, type } = unit;
  const plan: UnitPlan = {
    drop: false,
    name,
    key: kind === "message" ? `m${type}` : kind,
    masks: [],
    binds: [],
    imageSrc: [],
  };
  const hit = (s: UnitSelector) => selectorMatches(s, unit);
  const named = { ...unit, name };
  const ruleHits = active.rules.filter((r) => ruleMatches(r, named));
  plan.drop = active.normalisers.some((n) => n.drop?.some(hit) ?? false) ||
    active.ignoreTypes.some((t) => nameMatches(t, named)) ||
    ruleHits.some((r) => r.action === "ignore");
  const drawsImages = kind === "message" && channelType === DISPLAY && !fromClient;
  for (const n of active.normalisers) {
    for (const range of n.mask ?? []) if (hit(range)) plan.masks.push({ range, by: n.name });
    for (const range of n.bind ?? []) if (hit(range)) plan.binds.push({ range, by: n.name });
    const src = drawsImages ? n.imageIds?.find(([t]) => t === type)?.[1] : undefined;
    if (src !== undefined) plan.imageSrc.push({ src, by: n.name });
  }
  for (const r of ruleHits) {
    const range = { fromClient, field: r.field ?? "range", start: r.start, end: r.end };
    plan.masks.push({ range, by: "rule" });
  }
  for (const { range } of plan.masks) {
    if (range.end === undefined) {
      plan.openFrom = Math.min(plan.openFrom ?? range.start, range.start);
    }
  }
  return plan;
}
