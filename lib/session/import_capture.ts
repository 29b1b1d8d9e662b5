/**
 * Turning a raw capture of SPICE (tcpdump, Wireshark; any port, any link type) into a session
 * directory: each connection is re-framed into one packet per SPICE unit through CaptureSession,
 * keeping the original timestamps.
 */
import type { Manifest, ManifestFacts } from "../capture/manifest.ts";
import {
  CaptureSession,
  type CaptureSessionOptions,
  type ChannelConnection,
} from "../capture/session.ts";
import { timestampProblem, type TimestampTarget } from "../pcap/time_limits.ts";
import { type CaptureFormat, CaptureFormatError, type CaptureRecord } from "../pcap/types.ts";
import { SpiceStreamReader } from "./messages.ts";
import type { MessageEvent, StreamProblem, TrackedConnection } from "./types.ts";

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
  const target = new ImportTarget({ dir, options, reader });
  const resolution = options.session?.tsResolution ?? "ns";
  try {
    const format = options.format ?? "pcap";
    for await (const r of withinFormat(records, { format, resolution, file: options.file })) {
      target.nowNs = r.tsNs;
      const s = target.session ?? await target.open();
      const { connection, events } = reader.push(r);
      for (const ev of events) target.copy(s, ev);
      if (connection) target.closeIfEnded(connection);
    }
  } catch (e) {
    await target.session?.close().catch(() => {});
    throw e;
  }
  const s = target.session ?? await target.open();
  for (const ev of reader.finish()) {
    target.nowNs = ev.tsNs;
    target.copy(s, ev);
  }
  s.setFacts({ importedFrom: importedFrom(options.file, reader) });
  const partial = problems.some((p) => LOSSY.has(p.kind));
  s.setFacts({ partial });
  const manifest = await s.close();
  return {
    manifest,
    connections: reader.connections.length,
    imported: target.imported,
    units: target.units,
    problems,
    partial,
  };
}

/** The manifest's `importedFrom`: the source file and every connection in it. */
function importedFrom(
  file: string | undefined,
  reader: SpiceStreamReader,
): NonNullable<ManifestFacts["importedFrom"]> {
  return {
    file: file ?? null,
    connections: reader.connections.map((c) => ({
      client: `${c.info.clientIp}:${c.info.clientPort}`,
      server: `${c.info.serverIp}:${c.info.serverPort}`,
      channelType: c.info.channelType ?? null,
      channelId: c.info.channelId ?? null,
    })),
  };
}

/**
 * The session an import writes, created at the first record, and the connection of it each
 * source connection's units are re-recorded on.
 */
class ImportTarget {
  /** The time the session's clock gives: the current source record's. */
  nowNs = 0n;
  /** SPICE units recorded. */
  units = 0;
  readonly #dir: string;
  readonly #options: ImportOptions;
  readonly #reader: SpiceStreamReader;
  #session?: CaptureSession;
  readonly #channels = new Map<number, ChannelConnection | null>();
  readonly #closed = new Set<number>();

  constructor(
    init: { dir: string; options: ImportOptions; reader: SpiceStreamReader },
  ) {
    this.#dir = init.dir;
    this.#options = init.options;
    this.#reader = init.reader;
  }

  /** The session, once created. */
  get session(): CaptureSession | undefined {
    return this.#session;
  }

  /** Connections recorded into the session. */
  get imported(): number {
    return [...this.#channels.values()].filter((c) => c !== null).length;
  }

  /** The session, created on the first call. */
  async open(): Promise<CaptureSession> {
    this.#session ??= await CaptureSession.create(this.#dir, {
      format: this.#options.format ?? "pcap",
      serverPort: this.#options.serverPort,
      tsResolution: "ns",
      clock: { nowNs: () => this.nowNs },
      target: null,
      ...this.#options.session,
    });
    return this.#session;
  }

  /** Records one unit on its connection's channel (opened at the connection's first unit). */
  copy(s: CaptureSession, ev: MessageEvent): void {
    const conn = this.#reader.connections[ev.connection.index];
    const index = conn.info.index;
    let ch = this.#channels.get(index);
    if (ch === undefined) {
      const type = conn.info.channelType;
      ch = type === undefined ? null : s.openConnection(type, conn.info.channelId ?? 0);
      this.#channels.set(index, ch);
    }
    if (ch === null) return;
    this.units++;
    if (ev.unit.fromClient) ch.sent(ev.unit.bytes);
    else ch.received(ev.unit.bytes);
  }

  /** Closes the channel connection of a source connection that has just ended. */
  closeIfEnded(connection: TrackedConnection): void {
    if (!this.#closed.has(connection.info.index) && isClosed(connection)) {
      this.#closed.add(connection.info.index);
      this.#channels.get(connection.info.index)?.close();
    }
  }
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
