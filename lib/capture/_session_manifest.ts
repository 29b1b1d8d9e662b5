/** The manifest of a `CaptureSession`: built from its channels, counters and facts. */
import type { CaptureFormat, TsResolution } from "../pcap/types.ts";
import type { Channel } from "./_channel_file.ts";
import {
  type DirectionCounts,
  type Manifest,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestChannel,
  type ManifestFacts,
  MAX_FIRST_CONNECTION_DELAY_MS,
  type ServerInfo,
  type UnrecordedConnection,
} from "./manifest.ts";
import { firstClientPort } from "./naming.ts";

/** Most connections listed one by one under `unrecorded`; later ones are summed into the last. */
export const MAX_UNRECORDED_LISTED = 1000;

/** The server info with its first-connection delay at most the manifest's cap. */
export function cappedDelay(server: ServerInfo): ServerInfo {
  const delay = server.firstConnectionDelayMs;
  if (delay === undefined || delay <= MAX_FIRST_CONNECTION_DELAY_MS) return server;
  return { ...server, firstConnectionDelayMs: MAX_FIRST_CONNECTION_DELAY_MS };
}

/**
 * Adds an entry to `list`; past {@link MAX_UNRECORDED_LISTED} entries it is summed into the
 * last one instead.
 */
export function addUnrecorded(list: UnrecordedConnection[], entry: UnrecordedConnection): void {
  if (list.length < MAX_UNRECORDED_LISTED) return void list.push(structuredClone(entry));
  const last = list[list.length - 1];
  const connections = (last.connections ?? 1) + 1;
  list[list.length - 1] = {
    reason: `${connections} connections past the first ${MAX_UNRECORDED_LISTED - 1}, summed`,
    channel: null,
    connections,
    openedNs: last.openedNs,
    ...(entry.closedNs === undefined ? {} : { closedNs: entry.closedNs }),
    bytes: {
      sent: last.bytes.sent + entry.bytes.sent,
      received: last.bytes.received + entry.bytes.received,
    },
    firstBytes: last.firstBytes,
  };
}

/** `{ [key]: counts }` when some count is not zero, else nothing: absent means zero. */
function nonZero<K extends string>(
  key: K,
  counts: DirectionCounts,
): { [P in K]?: DirectionCounts } {
  return (counts.sent > 0 || counts.received > 0 ? { [key]: { ...counts } } : {}) as {
    [P in K]?: DirectionCounts;
  };
}

/** What a session's manifest is made of. */
export interface SessionState {
  /** `tool` of the manifest. */
  tool: { name: string; version: string };
  /** The channels, in the order they opened. */
  channels: Iterable<Channel>;
  /** Capture file format. */
  format: CaptureFormat;
  /** Timestamp resolution written. */
  tsResolution: TsResolution;
  /** The synthetic server port. */
  serverPort: number;
  /** Timestamps are relative to the session start. */
  relativeTime: boolean;
  /** When the session started, ISO 8601. */
  startedIso: string;
  /** When close began, ns since the epoch. */
  stoppedNs: bigint;
  /** host:port captured. */
  target: string | null;
  /** How the server was started. */
  server: ServerInfo | null;
  /** Connections of unknown channel types, by type. */
  skipped: Map<number, number>;
  /** Error lines so far. */
  errors: readonly string[];
  /** Facts set by `setFacts`. */
  facts: Omit<ManifestFacts, "target" | "server">;
  /** Connections in no channel file. */
  unrecorded: UnrecordedConnection[];
}

/** One channel's manifest entry. */
function manifestChannel(ch: Channel, serverPort: number): ManifestChannel {
  return {
    type: ch.type,
    typeName: ch.stats.typeName,
    id: ch.id,
    file: ch.file,
    clientPort: ch.connections[0]?.clientPort ?? firstClientPort(ch.type, ch.id),
    serverPort,
    connections: ch.connections.map((c) => ({
      clientPort: c.clientPort,
      openedNs: String(c.openedNs),
      ...(c.closedNs !== undefined ? { closedNs: String(c.closedNs) } : {}),
    })),
    packets: { ...ch.stats.packets },
    bytes: { ...ch.stats.bytes },
    dropped: ch.stats.dropped,
    ...nonZero("droppedBytes", ch.stats.droppedBytes),
    ...nonZero("partialBytes", ch.stats.partialBytes),
    errors: ch.stats.errors,
  };
}

/**
 * The session's manifest as of now.
 *
 * @param complete the final manifest (with `stopped`), not a provisional one
 */
export function sessionManifest(state: SessionState, complete: boolean): Manifest {
  const channels = [...state.channels].map((ch) => manifestChannel(ch, state.serverPort));
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    tool: { ...state.tool },
    started: state.startedIso,
    ...(complete ? { stopped: new Date(Number(state.stoppedNs / 1_000_000n)).toISOString() } : {}),
    complete,
    target: state.target,
    server: state.server,
    tsResolution: state.tsResolution,
    captureFormat: state.format,
    serverPort: state.serverPort,
    relativeTime: state.relativeTime,
    channels,
    skipped: [...state.skipped].map(([type, connections]) => ({ type, connections })),
    dropped: channels.reduce((n, c) => n + c.dropped, 0),
    errors: [...state.errors],
    ...structuredClone(state.facts),
    ...(state.unrecorded.length > 0 ? { unrecorded: structuredClone(state.unrecorded) } : {}),
  };
}
