/** One line of text or one NDJSON object per SPICE unit, for `inspect --messages`. */
import { u32le } from "../bytes.ts";
import { asciiLines, formatClock } from "../net/text_line.ts";
import { parseLinkMessage, parseLinkReply } from "../spice/link.ts";
import { decodeMessage, messageBody, summarizeFields } from "../spice/messages.ts";
import {
  capNames,
  CHANNEL_MESSAGES,
  channelName,
  COMMON_CLIENT_MESSAGES,
  COMMON_SERVER_MESSAGES,
  linkErrorName,
} from "../spice/tables.ts";
import { LINK_UNIT_NAMES, type SpiceUnit } from "../spice/types.ts";
import type { ConnectionInfo, MessageEvent } from "./types.ts";

/** Options of {@link formatMessageLine}. */
export interface MessageLineOptions {
  /** Print times relative to this timestamp (ns) instead of UTC time of day. */
  relativeToNs?: bigint;
  /** Add packet number, connection endpoints and file. @default false */
  verbose?: boolean;
  /** Add the message body as printable ASCII lines. @default false */
  ascii?: boolean;
  /**
   * Text for a unit in place of its decoded fields (inspect passes lib/display's draw and image
   * summary); undefined from it keeps the fields.
   */
  describe?: (ev: MessageEvent) => string | undefined;
}

/** Names of the link-phase units as printed. */
const UNIT_NAMES = LINK_UNIT_NAMES;

/** Channel label of a connection: "main", "display", "display-1", or "?" before the link. */
export function channelLabel(c: ConnectionInfo): string {
  if (c.channelType === undefined) return "?";
  const name = channelName(c.channelType);
  return c.channelId ? `${name}-${c.channelId}` : name;
}

/**
 * Every name {@link unitName} can print: the link-phase units and every message of every channel
 * in both directions, each once, sorted. `inspect --type` and `diff --ignore-type` check against it.
 */
export function knownUnitNames(): string[] {
  const names = new Set<string>(Object.values(UNIT_NAMES));
  const tables = [
    COMMON_CLIENT_MESSAGES,
    COMMON_SERVER_MESSAGES,
    ...[...CHANNEL_MESSAGES.values()].flat(),
  ];
  for (const table of tables) for (const name of table.values()) names.add(name);
  return [...names].sort();
}

/** The printed name of a unit: the message name, or LINK, LINK_REPLY, … */
export function unitName(u: SpiceUnit): string {
  return u.kind === "message" ? u.name : UNIT_NAMES[u.kind];
}

/**
 * Decoded key fields of a unit: message fields from the tables, link-phase fields otherwise.
 *
 * @param ev the unit and its connection
 * @returns the fields, or undefined when there is nothing to decode
 */
export function unitFields(ev: MessageEvent): Record<string, unknown> | undefined {
  const u = ev.unit;
  switch (u.kind) {
    case "message": {
      const type = ev.connection.channelType;
      if (type === undefined || u.type === undefined) return undefined;
      return decodeMessage(type, { fromClient: u.fromClient, type: u.type, body: messageBody(u) });
    }
    case "link": {
      const l = parseLinkMessage(u.bytes);
      return {
        channel: channelName(l.channelType),
        id: l.channelId,
        connectionId: l.connectionId,
        version: `${l.major}.${l.minor}`,
        commonCaps: capNames("common", l.commonCaps),
        channelCaps: capNames(l.channelType, l.channelCaps),
      };
    }
    case "linkReply": {
      const r = parseLinkReply(u.bytes);
      return {
        error: r.error,
        errorName: linkErrorName(r.error),
        commonCaps: capNames("common", r.commonCaps),
        channelCaps: capNames(ev.connection.channelType ?? 0, r.channelCaps),
      };
    }
    case "authMechanism":
      return { mechanism: u32le(u.bytes, 0) };
    case "linkResult": {
      const result = u32le(u.bytes, 0);
      return { result, name: linkErrorName(result) };
    }
    case "ticket":
      return undefined;
  }
}

/**
 * One line per unit: `time channel → #N NAME size fields`. The arrow points client → server (→)
 * or server → client (←); `#N` is the message's index (`SpiceMessage.index`: 0-based, per
 * connection and direction, link-phase units have none), the number `diff` reports;
 * size is the unit's bytes on the wire, header included.
 *
 * @param ev the unit
 * @param options time origin, verbose, ascii
 * @returns the line(s), joined by "\n", no trailing newline
 */
export function formatMessageLine(ev: MessageEvent, options: MessageLineOptions = {}): string {
  const u = ev.unit;
  const time = formatClock(
    options.relativeToNs === undefined ? ev.tsNs : ev.tsNs - options.relativeToNs,
  );
  const described = options.describe?.(ev);
  const fields = described === undefined ? unitFields(ev) : undefined;
  const text = described !== undefined
    ? ` ${described}`
    : fields
    ? ` ${summarizeFields(fields)}`
    : "";
  const arrow = u.fromClient ? "→" : "←";
  const index = u.kind === "message" ? `#${u.index} ` : "";
  let line = `${time} ${channelLabel(ev.connection).padEnd(9)} ${arrow} ${index}${unitName(u)} ` +
    `${u.bytes.length}${text}`;
  if (options.verbose) {
    const c = ev.connection;
    line += `  [packet ${ev.packetNumber}, ${c.clientIp}:${c.clientPort} ↔ ` +
      `${c.serverIp}:${c.serverPort}${ev.file ? `, ${ev.file}` : ""}]`;
  }
  if (!options.ascii) return line;
  const body = u.kind === "message" ? messageBody(u) : u.bytes;
  return [line, ...asciiLines(body).map((l) => `    ${l}`)].join("\n");
}

/** Fields made JSON-safe: bigint → decimal string, bytes → {bytes: length}. */
function jsonValue(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return typeof v === "bigint" ? v.toString() : v;
  if (v instanceof Uint8Array) return { bytes: v.length };
  if (Array.isArray(v)) {
    const out = new Array(v.length);
    for (let i = 0; i < v.length; i++) out[i] = jsonValue(v[i]);
    return out;
  }
  const out: Record<string, unknown> = {};
  const o = v as Record<string, unknown>;
  for (const k in o) out[k] = jsonValue(o[k]);
  return out;
}

/**
 * One unit as an NDJSON object (`{"type":"message",…}`); times are decimal strings of ns.
 *
 * @param ev the unit
 * @returns compact JSON, no newline
 */
export function messageJson(ev: MessageEvent): string {
  const u = ev.unit;
  const c = ev.connection;
  const fields = unitFields(ev);
  return JSON.stringify({
    type: "message",
    file: ev.file,
    packetNumber: ev.packetNumber,
    tsNs: ev.tsNs.toString(),
    connection: c.index,
    channel: c.channelType !== undefined ? channelName(c.channelType) : undefined,
    channelId: c.channelId,
    direction: u.fromClient ? "toServer" : "toClient",
    kind: u.kind,
    name: unitName(u),
    index: u.kind === "message" ? u.index : undefined,
    messageType: u.kind === "message" ? u.type : undefined,
    serial: u.kind === "message" ? u.serial?.toString() : undefined,
    size: u.bytes.length,
    fields: fields ? jsonValue(fields) : undefined,
  });
}
