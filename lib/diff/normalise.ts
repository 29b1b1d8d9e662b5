/**
 * Turning a framed SPICE unit into what the diff compares: dropped, or its compared bytes with
 * masked and bound ranges attached. Pure; one {@link Normalise} function per diff run, which
 * plans each unit class once (normalise_plan.ts) and applies the plan to every unit.
 */
import { LINK_UNIT_NAMES, SPICE_LINK_KINDS, type SpiceUnit } from "../spice/types.ts";
import { IMAGE_ID_BYTES, imageIdOffset } from "./fields.ts";
import {
  type ActiveSet,
  activeSet,
  type PlannedRange,
  planUnit,
  type UnitPlan,
} from "./normalise_plan.ts";
import type {
  DiffConnection,
  DiffInput,
  NormalisedUnit,
  NormaliseOptions,
  OwnedRange,
} from "./types.ts";

class Unit implements NormalisedUnit {
  #data?: Uint8Array;
  constructor(
    readonly input: DiffInput,
    readonly plan: UnitPlan,
    readonly dataOffset: number,
    readonly masks: OwnedRange[],
    readonly binds: OwnedRange[],
    readonly serial: bigint | undefined,
  ) {}
  get name(): string {
    return this.plan.name;
  }
  get key(): string {
    return this.plan.key;
  }
  get length(): number {
    return this.input.unit.bytes.length - this.dataOffset;
  }
  get data(): Uint8Array {
    return this.#data ??= this.input.unit.bytes.subarray(this.dataOffset);
  }
  get maskedFrom(): number | undefined {
    const from = this.plan.openFrom;
    return from !== undefined && from <= this.length ? from : undefined;
  }
}

/** A configured normaliser: undefined means the unit is dropped. */
export type Normalise = (input: DiffInput) => NormalisedUnit | undefined;

const NONE: OwnedRange[] = [];
/** Plan cache key strides: type (u16), kind (link kinds, then message), direction, channel. */
const KIND_STRIDE = 0x10000;
const DIRECTION_STRIDE = KIND_STRIDE * (SPICE_LINK_KINDS.length + 1);
const CHANNEL_STRIDE = DIRECTION_STRIDE * 2;

function planKey(input: DiffInput): number {
  const u = input.unit;
  const kind = u.kind === "message" ? SPICE_LINK_KINDS.length : SPICE_LINK_KINDS.indexOf(u.kind);
  return ((input.connection.channelType ?? 0) & 0xff) * CHANNEL_STRIDE +
    (u.fromClient ? DIRECTION_STRIDE : 0) +
    kind * KIND_STRIDE + (u.kind === "message" ? u.type : 0);
}

/** Planned ranges clipped to `length` compared bytes; empty ones left out. */
function clipped(planned: readonly PlannedRange[], length: number): OwnedRange[] {
  const out = new Array<OwnedRange>(planned.length);
  let n = 0;
  for (const { range, by } of planned) {
    const start = Math.min(range.start, length);
    const end = Math.min(range.end ?? length, length);
    if (end > start) out[n++] = { start, end, field: range.field, by };
  }
  out.length = n;
  return out;
}

/** GLZ_RGB image type (docs/protocol.md "Display channel", image descriptor). */
const GLZ_RGB = 102;
/** Image descriptor: u64 id, u8 type, u8 flags, u32 width, u32 height; GLZ_RGB: u32 size, data. */
const DESCRIPTOR_TYPE = 8;
const GLZ_DATA = 22;
/** In the GLZ header: magic, version, u8 type, width, height, stride, then u64 id, u32 win_head_dist. */
const GLZ_HEADER_ID = 21;
/** The GLZ image id and win_head_dist, masked as one range. */
const GLZ_ID_BYTES = 12;

/**
 * Offset, from an image descriptor, of a GLZ_RGB image's header id (followed by its
 * win_head_dist), or -1 for another image type or a body too short. Both count the images the
 * guest drew before into the shared dictionary, as the descriptor id does; the GLZ matches
 * refer to earlier images by distance, so the rest of the data does not depend on them.
 */
function glzIdOffset(bytes: Uint8Array, descriptor: number): number {
  if (bytes[descriptor + DESCRIPTOR_TYPE] !== GLZ_RGB) return -1;
  const at = GLZ_DATA + GLZ_HEADER_ID;
  return descriptor + at + GLZ_ID_BYTES <= bytes.length ? at : -1;
}

/** Masks of one unit: the plan's ranges clipped to the unit, plus its image ids; sorted. */
function masksOf(plan: UnitPlan, unit: SpiceUnit): OwnedRange[] {
  if (plan.masks.length === 0 && plan.imageSrc.length === 0) return NONE;
  const bytes = unit.bytes;
  const offset = unit.kind === "message" ? unit.headerSize : 0;
  // Most units with masks have one image id and nothing else: no array growth for them.
  let masks = plan.masks.length > 0 ? clipped(plan.masks, bytes.length - offset) : undefined;
  for (const { src, by } of plan.imageSrc) {
    const start = imageIdOffset(bytes, offset, src);
    if (start < 0) continue;
    const mask = { start, end: start + IMAGE_ID_BYTES, field: "image.id", by };
    if (masks === undefined) masks = [mask];
    else masks.push(mask);
    const glz = glzIdOffset(bytes, offset + start);
    if (glz >= 0) {
      masks.push({ start: start + glz, end: start + glz + GLZ_ID_BYTES, field: "glz.id", by });
    }
  }
  if (masks === undefined) return NONE;
  if (masks.length > 1) masks.sort((a, b) => a.start - b.start);
  return masks;
}

/** The plans of one diff run by unit class; the previous message's plan per direction first. */
class PlanCache {
  readonly #active: ActiveSet;
  readonly #plans = new Map<number, UnitPlan>();
  readonly #lastType = [-1, -1];
  readonly #lastConnection: (DiffConnection | undefined)[] = [undefined, undefined];
  readonly #lastPlan: UnitPlan[] = [];

  constructor(active: ActiveSet) {
    this.#active = active;
  }

  /** The plan of the input's unit class, made on first use. */
  get(input: DiffInput): UnitPlan {
    const u = input.unit;
    const d = u.fromClient ? 1 : 0;
    // Runs of one message type (most of a display channel) skip the key and the map.
    if (
      u.kind === "message" && u.type === this.#lastType[d] &&
      input.connection === this.#lastConnection[d]
    ) {
      return this.#lastPlan[d];
    }
    const key = planKey(input);
    let plan = this.#plans.get(key);
    if (plan === undefined) {
      const type = u.kind === "message" ? u.type : undefined;
      const channelType = input.connection.channelType ?? 0;
      const unit = { channelType, fromClient: u.fromClient, kind: u.kind, type };
      const name = u.kind === "message" ? u.name : LINK_UNIT_NAMES[u.kind];
      plan = planUnit(unit, { name, active: this.#active });
      this.#plans.set(key, plan);
    }
    if (u.kind === "message") {
      this.#lastType[d] = u.type;
      this.#lastConnection[d] = input.connection;
      this.#lastPlan[d] = plan;
    }
    return plan;
  }
}

/**
 * Builds the normalising function for one diff run.
 *
 * @param options active normalisers and rules
 * @returns a function from a unit to its normalised form, or undefined when dropped
 * @throws {UnknownNormaliserError} for an unknown name in `keep` or `enable`
 */
export function createNormalise(options: NormaliseOptions = {}): Normalise {
  const active = activeSet(options);
  const plans = new PlanCache(active);
  return (input) => {
    const plan = plans.get(input);
    if (plan.drop) return undefined;
    const u = input.unit;
    const offset = u.kind === "message" ? u.headerSize : 0;
    const binds = plan.binds.length > 0 ? clipped(plan.binds, u.bytes.length - offset) : NONE;
    const serial = u.kind === "message" && !active.ignoreSerial ? u.serial : undefined;
    return new Unit(input, plan, offset, masksOf(plan, u), binds, serial);
  };
}
