/** Builders of in-memory SPICE units for the diff tests. */
import { MINI_HEADER_BYTES } from "../lib/spice/link.ts";
import { messageName } from "../lib/spice/tables.ts";
import type { SpiceLinkKind, SpiceUnit } from "../lib/spice/types.ts";
import type { DiffInput } from "../lib/diff/types.ts";

/** Little-endian u32 bytes. */
export function u32le(...values: number[]): number[] {
  return values.flatMap((v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]);
}

/** A mini-header message unit. */
export function message(
  channelType: number,
  fromClient: boolean,
  type: number,
  body: number[] | Uint8Array,
  extra: { index?: number; tsNs?: bigint; serial?: bigint; connection?: number } = {},
): DiffInput {
  const b = body instanceof Uint8Array ? body : new Uint8Array(body);
  const bytes = new Uint8Array(6 + b.length);
  const dv = new DataView(bytes.buffer);
  dv.setUint16(0, type, true);
  dv.setUint32(2, b.length, true);
  bytes.set(b, 6);
  const unit: SpiceUnit = {
    kind: "message",
    fromClient,
    bytes,
    offset: 0,
    index: extra.index ?? 0,
    type,
    name: messageName(channelType, { fromClient, type }),
    headerSize: MINI_HEADER_BYTES,
    serial: extra.serial,
    subMessages: undefined,
  };
  return {
    connection: { index: extra.connection ?? 0, channelType, channelId: 0 },
    unit,
    tsNs: extra.tsNs ?? 0n,
    packetNumber: (extra.index ?? 0) + 1,
  };
}

/** A link-phase unit with the given raw bytes. */
export function linkUnit(
  channelType: number,
  kind: SpiceLinkKind,
  bytes: number[] | Uint8Array,
): DiffInput {
  const fromClient = kind === "link" || kind === "authMechanism" || kind === "ticket";
  return {
    connection: { index: 0, channelType, channelId: 0 },
    unit: { kind, fromClient, bytes: new Uint8Array(bytes), offset: 0 },
    tsNs: 0n,
    packetNumber: 1,
  };
}

/** A client link message (header + body) with the given connection id and channel type. */
export function clientLink(channelType: number, connectionId: number): DiffInput {
  const body = [...u32le(connectionId), channelType, 0, ...u32le(1, 1, 18), ...u32le(0x0d, 0x0f)];
  const header = [0x52, 0x45, 0x44, 0x51, ...u32le(2, 2, body.length)];
  return linkUnit(channelType, "link", [...header, ...body]);
}

/** MAIN_INIT with the given session id, mm_time and ram hint. */
export function mainInit(session: number, mmTime: number, ramHint = 50323456): DiffInput {
  return message(1, false, 103, u32le(session, 1, 1, 1, 0, 10, mmTime, ramHint), { index: 0 });
}

/** An async iterable over an array. */
export async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const i of items) yield await Promise.resolve(i);
}
