/**
 * Turning a raw capture of SPICE (tcpdump, Wireshark; any port, any link type) into a session
 * directory: each connection is re-framed into one packet per SPICE unit through CaptureSession,
 * keeping the original timestamps.
 */
import type { Manifest } from "../capture/manifest.ts";
import {
  CaptureSession,
  type CaptureSessionOptions,
  type ChannelConnection,
} from "../capture/session.ts";
import { timestampProblem, type TimestampTarget } from "../pcap/time_limits.ts";
import { type CaptureFormat, CaptureFormatError, type CaptureRecord } from "../pcap/types.ts";
import { SpiceStreamReader } from "./messages.ts";
import type { StreamProblem, TrackedConnection } from "./types.ts";

/** Options of {@link importCapture}. */
export interface ImportOptions {
  /** Source file name, for problems and the manifest. */
  file?: string;
  /** Channel file format. @default "pcap" */
  format?: CaptureFormat;
  /** Synthetic server port of the session. @default 5930 */
  serverPort?: number;
  /** Receives problems as they are found. */
  onProblem?: (p: StreamProblem) => void;
  /** Extra CaptureSession options (tests pass sinks). */
  session?: Partial<CaptureSessionOptions>;
}

/** What an import did. */
export interface ImportResult {
  /** The manifest written to the new session directory. */
  manifest: Manifest;
  /** TCP connections in the source. */
  connections: number;
  /** Connections recorded into the session. */
  imported: number;
  /** SPICE units recorded. */
  units: number;
  /** Every problem the reader found, in order. */
  problems: StreamProblem[];
  /** True when something could not be carried over (lost bytes, bad framing, unknown channel). */
  partial: boolean;
}

/** Problem kinds that mean the session does not hold everything the source meant to. */
const LOSSY = new Set([
  "gap",
  "snapped",
  "no-link",
  "direction",
  "framing",
  "unknown-channel",
  "incomplete-message",
]);

/**
 * Imports a raw capture into a new session directory.
 *
 * @param records the source capture's records
 * @param dir session directory to create (must not hold a session yet)
 * @param options format, server port, problem sink
 * @returns the manifest written and what could not be imported
 * @throws {Deno.errors.AlreadyExists} when `dir` already holds a session
 * @throws CaptureFormatError for unreadable input, or a record time the channel files cannot
 * hold (pcap: 2106, pcapng: 2554), naming the file and packet; the session is closed first
 */
export async function importCapture(
  records: AsyncIterable<CaptureRecord>,
  dir: string,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const problems: StreamProblem[] = [];
  const reader = new SpiceStreamReader({
    file: options.file,
    onProblem: (p) => {
      problems.push(p);
      options.onProblem?.(p);
    },
  });
  let nowNs = 0n;
  const clock = { nowNs: () => nowNs };
  let session: CaptureSession | undefined;
  const open = async (): Promise<CaptureSession> => {
    session ??= await CaptureSession.create(dir, {
      format: options.format ?? "pcap",
      serverPort: options.serverPort,
      tsResolution: "ns",
      clock,
      target: null,
      ...options.session,
    });
    return session;
  };
  const channels = new Map<number, ChannelConnection | null>();
  const closed = new Set<number>();
  let units = 0;
  const record = (
    conn: TrackedConnection,
    fromClient: boolean,
    bytes: Uint8Array,
    s: CaptureSession,
  ) => {
    const index = conn.info.index;
    let ch = channels.get(index);
    if (ch === undefined) {
      const type = conn.info.channelType;
      ch = type === undefined ? null : s.openConnection(type, conn.info.channelId ?? 0);
      channels.set(index, ch);
    }
    if (ch === null) return;
    units++;
    if (fromClient) ch.sent(bytes);
    else ch.received(bytes);
  };
  const resolution = options.session?.tsResolution ?? "ns";
  try {
    const format = options.format ?? "pcap";
    for await (const r of withinFormat(records, { format, resolution, file: options.file })) {
      nowNs = r.tsNs;
      const s = session ?? await open();
      const { connection, events } = reader.push(r);
      for (const ev of events) {
        record(reader.connections[ev.connection.index], ev.unit.fromClient, ev.unit.bytes, s);
      }
      if (connection && !closed.has(connection.info.index) && isClosed(connection)) {
        closed.add(connection.info.index);
        channels.get(connection.info.index)?.close();
      }
    }
  } catch (e) {
    await session?.close().catch(() => {});
    throw e;
  }
  const s = session ?? await open();
  for (const ev of reader.finish()) {
    nowNs = ev.tsNs;
    record(reader.connections[ev.connection.index], ev.unit.fromClient, ev.unit.bytes, s);
  }
  s.setFacts({
    importedFrom: {
      file: options.file ?? null,
      connections: reader.connections.map((c) => ({
        client: `${c.info.clientIp}:${c.info.clientPort}`,
        server: `${c.info.serverIp}:${c.info.serverPort}`,
        channelType: c.info.channelType ?? null,
        channelId: c.info.channelId ?? null,
      })),
    },
  });
  const partial = problems.some((p) => LOSSY.has(p.kind));
  s.setFacts({ partial });
  const manifest = await s.close();
  return {
    manifest,
    connections: reader.connections.length,
    imported: [...channels.values()].filter((c) => c !== null).length,
    units,
    problems,
    partial,
  };
}

/** The records, or a CaptureFormatError at the first whose time the session's files cannot hold. */
async function* withinFormat(
  records: AsyncIterable<CaptureRecord>,
  target: TimestampTarget & { file?: string },
): AsyncGenerator<CaptureRecord> {
  for await (const r of records) {
    const problem = timestampProblem(r.tsNs, target);
    if (problem !== undefined) {
      throw new CaptureFormatError(problem, {
        file: target.file,
        packetNumber: r.packetNumber,
        offset: r.offset,
      });
    }
    yield r;
  }
}

function isClosed(c: TrackedConnection): boolean {
  return c.reset || (c.finished[0] && c.finished[1]);
}
