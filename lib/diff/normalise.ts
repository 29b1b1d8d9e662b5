/**
 * Turning a framed SPICE unit into what the diff compares: dropped, or its compared bytes with
 * masked and bound ranges attached. Pure; one {@link Normalise} function per diff run.
 */
import { channelName, messageName } from "../spice/tables.ts";
import type { SpiceUnit, SpiceUnitKind } from "../spice/types.ts";
import {
  type FieldRange,
  NORMALISER_NAMES,
  NORMALISERS,
  selectorMatches,
  type UnitSelector,
} from "./normalisers.ts";
import type { DiffRule } from "./rules.ts";
import { IMAGE_ID_BYTES, imageIdOffset } from "./fields.ts";

const DISPLAY = 2;

/** One unit read from a capture, as the diff sees it. */
export interface DiffInput {
  /** SPICE channel type number of the unit's file. */
  channelType: number;
  /** SPICE channel id of the unit's file. */
  channelId: number;
  /** 0-based connection index within the channel file. */
  connection: number;
  /** The framed unit. */
  unit: SpiceUnit;
  /** Timestamp of the packet that completed the unit, ns. */
  tsNs: bigint;
  /** Packet that completed the unit. */
  packetNumber: number;
}

/** A range of the compared bytes and the normaliser (or rule) that owns it. */
export interface OwnedRange {
  /** First byte, offset into the compared bytes. */
  start: number;
  /** Byte after the range (clipped to the unit's length). */
  end: number;
  /** Field name shown in reports. */
  field: string;
  /** Name of the normaliser that owns the range, or "rule" for `--rules` entries. */
  by: string;
}

/** A unit ready for comparison. */
export interface NormalisedUnit {
  /** The unit as read. */
  input: DiffInput;
  /** Message name ("INIT", "DRAW_COPY") or unit kind ("link", "ticket", …). */
  name: string;
  /** Alignment key: kind and type. */
  key: string;
  /** Compared bytes: the body for messages, the whole unit for link-phase units (a view, made on first use). */
  readonly data: Uint8Array;
  /** Offset of `data` within `input.unit.bytes`. */
  dataOffset: number;
  /** Length of `data`. */
  length: number;
  /** Ignored ranges, sorted by start. */
  masks: OwnedRange[];
  /** Ranges of u32 identifiers mapped one-to-one between the runs. */
  binds: OwnedRange[];
  /** Full-header serial, when compared. */
  serial?: bigint;
}

class Unit implements NormalisedUnit {
  #data?: Uint8Array;
  constructor(
    readonly input: DiffInput,
    readonly name: string,
    readonly key: string,
    readonly dataOffset: number,
    readonly length: number,
    readonly masks: OwnedRange[],
    readonly binds: OwnedRange[],
    readonly serial: bigint | undefined,
  ) {}
  get data(): Uint8Array {
    return this.#data ??= this.input.unit.bytes.subarray(this.dataOffset);
  }
}

/** Which normalisers are active and which extra rules apply. */
export interface NormaliseOptions {
  /** Normalisers turned off (`--keep NAME`). */
  keep?: readonly string[];
  /** Off-by-default normalisers turned on (`--normalise NAME`). */
  enable?: readonly string[];
  /** Message names dropped (`--ignore-type NAME`), matched as {@link nameMatches} does. */
  ignoreTypes?: readonly string[];
  /** Rules from `--rules FILE`. */
  rules?: readonly DiffRule[];
}

/** A configured normaliser: undefined means the unit is dropped. */
export type Normalise = (input: DiffInput) => NormalisedUnit | undefined;

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
 * the channel prefix ("MAIN_INIT"), or a link-phase kind ("link", "ticket"); case-insensitive.
 */
export function nameMatches(given: string, channelType: number, name: string): boolean {
  const g = given.toUpperCase();
  const n = name.toUpperCase();
  return g === n || g === `${channelName(channelType).toUpperCase()}_${n}`;
}

function headerSizeOf(unit: SpiceUnit): number {
  return unit.kind === "message" ? unit.headerSize ?? 6 : 0;
}

function unitName(input: DiffInput): string {
  const u = input.unit;
  if (u.kind !== "message") return u.kind;
  return u.name ?? messageName(input.channelType, u.fromClient, u.type ?? -1);
}

function toRange(r: FieldRange, length: number, by: string): OwnedRange | undefined {
  const start = Math.min(r.start, length);
  const end = Math.min(r.end ?? length, length);
  return end > start ? { start, end, field: r.field, by } : undefined;
}

/**
 * Builds the normalising function for one diff run.
 *
 * @param options active normalisers and rules
 * @returns a function from a unit to its normalised form, or undefined when dropped
 * @throws {UnknownNormaliserError} for an unknown name in `keep` or `enable`
 */
export function createNormalise(options: NormaliseOptions = {}): Normalise {
  for (const n of [...(options.keep ?? []), ...(options.enable ?? [])]) {
    if (!NORMALISER_NAMES.includes(n)) throw new UnknownNormaliserError(n);
  }
  const active = NORMALISERS.filter((n) =>
    n.defaultOn ? !options.keep?.includes(n.name) : options.enable?.includes(n.name) ?? false
  );
  const ignoreSerial = active.some((n) => n.ignoresSerial);
  const rules = options.rules ?? [];
  const ignoreTypes = options.ignoreTypes ?? [];

  /** What applies to one (channel, direction, kind, type): computed once, then cached. */
  interface Plan {
    drop: boolean;
    name: string;
    key: string;
    masks: { r: FieldRange; by: string }[];
    binds: { r: FieldRange; by: string }[];
    imageSrc: { src: number; by: string }[];
  }
  const KINDS: SpiceUnitKind[] = [
    "link",
    "linkReply",
    "authMechanism",
    "ticket",
    "linkResult",
    "message",
  ];
  const plans = new Map<number, Plan>();
  const planFor = (input: DiffInput): Plan => {
    const { unit, channelType } = input;
    const kind = unit.kind;
    const type = unit.type;
    const name = unitName(input);
    const plan: Plan = {
      drop: false,
      name,
      key: kind === "message" ? `m${type}` : kind,
      masks: [],
      binds: [],
      imageSrc: [],
    };
    const hit = (s: UnitSelector) => selectorMatches(s, channelType, unit.fromClient, kind, type);
    const ruleHits = rules.filter((r) => ruleMatches(r, input, name));
    plan.drop = active.some((n) => n.drop?.some(hit) ?? false) ||
      ignoreTypes.some((t) => nameMatches(t, channelType, name)) ||
      ruleHits.some((r) => r.action === "ignore");
    for (const n of active) {
      for (const r of n.mask ?? []) if (hit(r)) plan.masks.push({ r, by: n.name });
      for (const r of n.bind ?? []) if (hit(r)) plan.binds.push({ r, by: n.name });
      const src = kind === "message" && channelType === DISPLAY && !unit.fromClient
        ? n.imageIds?.find(([t]) => t === type)?.[1]
        : undefined;
      if (src !== undefined) plan.imageSrc.push({ src, by: n.name });
    }
    for (const r of ruleHits) {
      const range = {
        fromClient: unit.fromClient,
        field: r.field ?? "range",
        start: r.start,
        end: r.end,
      };
      plan.masks.push({ r: range, by: "rule" });
    }
    return plan;
  };
  const NONE: OwnedRange[] = [];

  return (input) => {
    const { unit, channelType } = input;
    const planKey = ((channelType & 0xff) * 2 + (unit.fromClient ? 1 : 0)) * 8 * 65536 +
      KINDS.indexOf(unit.kind) * 65536 + (unit.type ?? 0);
    let plan = plans.get(planKey);
    if (!plan) plans.set(planKey, plan = planFor(input));
    if (plan.drop) return undefined;
    const offset = headerSizeOf(unit);
    const length = unit.bytes.length - offset;
    let masks = NONE;
    let binds = NONE;
    if (plan.masks.length > 0 || plan.imageSrc.length > 0) {
      masks = [];
      for (const { r, by } of plan.masks) {
        const range = toRange(r, length, by);
        if (range) masks.push(range);
      }
      for (const { src, by } of plan.imageSrc) {
        const start = imageIdOffset(unit.bytes, offset, src);
        if (start >= 0) masks.push({ start, end: start + IMAGE_ID_BYTES, field: "image.id", by });
      }
      if (masks.length > 1) masks.sort((a, b) => a.start - b.start);
    }
    if (plan.binds.length > 0) {
      binds = [];
      for (const { r, by } of plan.binds) {
        const range = toRange(r, length, by);
        if (range) binds.push(range);
      }
    }
    return new Unit(
      input,
      plan.name,
      plan.key,
      offset,
      length,
      masks,
      binds,
      ignoreSerial ? undefined : unit.serial,
    );
  };
}

function ruleMatches(r: DiffRule, input: DiffInput, name: string): boolean {
  if (r.channel !== undefined && r.channel !== input.channelType) return false;
  if (r.fromClient !== undefined && r.fromClient !== input.unit.fromClient) return false;
  if (r.message !== undefined && !nameMatches(r.message, input.channelType, name)) return false;
  return true;
}
