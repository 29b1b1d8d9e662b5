/**
 * What the flight ring (flight_ring.ts) keeps of one SPICE unit, which units it keeps whatever
 * their age (the state a snapshot needs to decode and render), and which units can set off a
 * snapshot (a failed link, a NOTIFY of error severity). Pure functions over unit bytes.
 *
 * @module
 */
import { CHANNEL_TYPES } from "../spice/tables.ts";
import type { SpiceUnit } from "../spice/types.ts";

/** One unit the ring holds: its own copy of the bytes, never written again. */
export interface KeptUnit {
  /** When the worker saw it, ns since the epoch. */
  tsNs: bigint;
  /** Client → server. */
  fromClient: boolean;
  /** Offset of its first byte in its direction's byte stream. */
  offset: number;
  /** The bytes as recorded (ticket zeroed, inputs redacted). */
  bytes: Uint8Array;
  /** Packet comment (pcapng). */
  comment?: string;
  /** A unit the connection ended inside (recorded as its last segment in that direction). */
  partial?: boolean;
  /** Key of the state this unit sets (kept whatever its age while it is the latest). */
  sticky?: string;
  /** Key of the state this unit ends (a SURFACE_DESTROY). */
  unsticks?: string;
}

/** Bytes charged per kept unit on top of its payload (its object and array slot). */
export const UNIT_OVERHEAD_BYTES = 96;

/** Sticky state of a server message: channel type → message name → key maker. */
const STICKY: ReadonlyMap<number, ReadonlyMap<string, (body: Uint8Array) => string>> = new Map([
  [CHANNEL_TYPES.main, new Map([["INIT", () => "init"], ["CHANNELS_LIST", () => "channels"]])],
  [
    CHANNEL_TYPES.display,
    new Map([["MODE", () => "mode"], ["SURFACE_CREATE", surfaceKey]]),
  ],
  [CHANNEL_TYPES.cursor, new Map([["INIT", () => "init"]])],
]);

function u32(bytes: Uint8Array, at: number): number | undefined {
  if (bytes.length < at + 4) return undefined;
  return new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0, true);
}

function surfaceKey(body: Uint8Array): string {
  return `surface:${u32(body, 0) ?? 0}`;
}

/**
 * The state key a unit sets or ends, if any: the link phase is kept by the ring separately;
 * of the messages, main INIT and CHANNELS_LIST, display MODE and SURFACE_CREATE (per surface),
 * cursor INIT are kept while they are the latest of their kind, so a snapshot always decodes
 * and its display starts from a known surface (docs/architecture.md "Flight recorder").
 *
 * @param channelType the connection's channel type
 * @param unit the unit
 * @returns `sticky` (the key it sets) or `unsticks` (the key it ends), or nothing
 */
export function stickyKeys(
  channelType: number,
  unit: SpiceUnit,
): { sticky?: string; unsticks?: string } {
  if (unit.kind !== "message" || unit.fromClient) return {};
  const body = unit.bytes.subarray(unit.headerSize);
  if (channelType === CHANNEL_TYPES.display && unit.name === "SURFACE_DESTROY") {
    return { unsticks: surfaceKey(body) };
  }
  const make = STICKY.get(channelType)?.get(unit.name);
  return make ? { sticky: make(body) } : {};
}

/** SPICE_NOTIFY_SEVERITY_ERROR. */
const NOTIFY_SEVERITY_ERROR = 2;

/**
 * What a unit says went wrong, for `--snapshot-on link-error` and `notify-error`.
 *
 * @param unit the unit
 * @returns the trigger and its words, or undefined
 */
export function unitTrouble(
  unit: SpiceUnit,
): { reason: "link-error" | "notify-error"; detail: string } | undefined {
  if (unit.fromClient) return undefined;
  if (unit.kind === "linkReply" || unit.kind === "linkResult") {
    const code = u32(unit.bytes, unit.kind === "linkReply" ? 16 : 0);
    if (code === undefined || code === 0) return undefined;
    const what = unit.kind === "linkReply" ? "link reply" : "link result";
    return { reason: "link-error", detail: `${what} error ${code}` };
  }
  if (unit.kind !== "message" || unit.name !== "NOTIFY") return undefined;
  // u64 time stamp, u32 severity, u32 visibility, u32 what, u32 message length, message
  const body = unit.bytes.subarray(unit.headerSize);
  if (u32(body, 8) !== NOTIFY_SEVERITY_ERROR) return undefined;
  const length = Math.min(u32(body, 20) ?? 0, Math.max(0, body.length - 24), 200);
  const text = new TextDecoder().decode(body.subarray(24, 24 + length)).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/g,
    " ",
  ).trim();
  return { reason: "notify-error", detail: `NOTIFY error: ${text || `code ${u32(body, 16)}`}` };
}

/** Messages and their bytes (payload, headers included). */
export interface FlightCount {
  /** Whole SPICE messages. */
  messages: number;
  /** Their bytes, headers included. */
  bytes: number;
}

/** What the ring holds of one channel and what it let go. */
export interface FlightChannelStats {
  /** Channel name, with the id when not 0: "display", "display-1". */
  channel: string;
  /** Messages held now: the ring's and the state kept past it. */
  kept: FlightCount;
  /** Messages that fell out of the ring. */
  notKept: FlightCount;
}

/** The flight recorder's counters (`capture --ring`), for the end-of-capture summary. */
export interface FlightRingStats {
  /** `--ring` bytes. */
  ringBytes: number;
  /** Bytes charged for the ring's messages now. */
  usedBytes: number;
  /** Channels in the order they opened. */
  channels: FlightChannelStats[];
  /** Snapshot directories written (filled in by the recording worker). */
  snapshots: string[];
}
