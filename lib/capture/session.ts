/**
 * CaptureSession: SPICE channels → synthetic TCP flows → one capture file per channel.
 *
 * The data path never blocks and never throws: a packet is framed and appended to its file's
 * buffer at once, or queued (bounded) while that file's sink is backed up, or dropped and
 * counted when the queue is full or the file has failed.
 */
import denoJson from "../../deno.json" with { type: "json" };
import { TcpFlow } from "../net/tcp_flow.ts";
import type { Direction } from "../net/types.ts";
import { createWriter } from "../pcap/writer.ts";
import type {
  CaptureFormat,
  CaptureWriter,
  InPlaceCaptureWriter,
  TsResolution,
} from "../pcap/types.ts";
import { CHANNEL_TYPES, channelName } from "../spice/tables.ts";
import { type Clock, systemClock } from "./clock.ts";
import { WriterFrameSink } from "./_writer_frame_sink.ts";
import { fileSink } from "./file_sink.ts";
import { prepareOutputDir } from "./out_dir.ts";
import type {
  CaptureSessionOptions,
  ChannelConnection,
  ChannelStats,
  SessionStats,
} from "./session_types.ts";
import {
  type DirectionCounts,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestChannel,
  type ManifestFacts,
  MAX_FIRST_CONNECTION_DELAY_MS,
  type ServerInfo,
  type UnrecordedConnection,
  writeManifest,
} from "./manifest.ts";
import {
  channelFileName,
  CLIENT_IP,
  CLIENT_MAC,
  DEFAULT_SERVER_PORT,
  firstClientPort,
  RECONNECT_PORT_BASE,
  SERVER_IP,
  SERVER_MAC,
} from "./naming.ts";

export type {
  CaptureSessionOptions,
  ChannelConnection,
  ChannelStats,
  SessionStats,
} from "./session_types.ts";

type OpKind = Direction | "open" | "close" | "reset" | "skip";

/** Bytes of a direction that the capture does not hold (`ChannelConnection.skip`). */
interface Skip {
  direction: Direction;
  length: number;
}

interface Op {
  conn: Connection;
  kind: OpKind;
  tsNs: bigint;
  bytes?: Uint8Array;
  comment?: string;
  skip?: Skip;
}

/** Most connections listed one by one under `unrecorded`; later ones are summed into the last. */
const MAX_UNRECORDED_LISTED = 1000;

interface Channel {
  type: number;
  id: number;
  file: string;
  writer: InPlaceCaptureWriter;
  connections: Connection[];
  current?: Connection;
  stats: ChannelStats;
  failed: boolean;
  flushing?: Promise<void>;
  /** The counts as of the last flush the sink accepted: surely in the file. */
  flushed: Counts;
}

/** Data packets and payload bytes of a channel, per direction. */
interface Counts {
  packets: DirectionCounts;
  bytes: DirectionCounts;
}

function countsOf(stats: ChannelStats): Counts {
  return { packets: { ...stats.packets }, bytes: { ...stats.bytes } };
}

class Connection implements ChannelConnection {
  readonly flow: TcpFlow;
  closedNs?: bigint;
  closed = false;
  constructor(
    readonly session: CaptureSession,
    readonly channel: Channel,
    readonly clientPort: number,
    readonly openedNs: bigint,
    serverPort: number,
  ) {
    this.flow = new TcpFlow({
      clientIp: CLIENT_IP,
      serverIp: SERVER_IP,
      clientPort,
      serverPort,
      clientMac: CLIENT_MAC,
      serverMac: SERVER_MAC,
    });
  }
  /** Direction of the RST that ended the connection, when it was reset. */
  resetBy?: Direction;
  sent(bytes: Uint8Array, comment?: string): void {
    this.session._offer(this, "toServer", bytes, comment);
  }
  received(bytes: Uint8Array, comment?: string): void {
    this.session._offer(this, "toClient", bytes, comment);
  }
  partial(fromClient: boolean, bytes: Uint8Array, comment?: string): void {
    this.channel.stats.partialBytes[fromClient ? "sent" : "received"] += bytes.length;
    this.session._offer(this, fromClient ? "toServer" : "toClient", bytes, comment);
  }
  skip(fromClient: boolean, length: number): void {
    if (length > 0) {
      this.session._skip(this, { direction: fromClient ? "toServer" : "toClient", length });
    }
  }
  close(options: { resetBy?: Direction } = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.resetBy = options.resetBy;
    this.session._offer(this, options.resetBy ? "reset" : "close");
  }
}

const NS_PER_SECOND = 1_000_000_000n;

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
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

const DEFAULTS = Object.freeze({
  format: "pcap" as CaptureFormat,
  tsResolution: "ns" as TsResolution,
  serverPort: DEFAULT_SERVER_PORT,
  queueLength: 256,
  maxBufferedBytes: 16 << 20,
  flushThresholdBytes: 1 << 20,
  flushIntervalMs: 1000,
});

const KNOWN_TYPES = new Set<number>(Object.values(CHANNEL_TYPES));

/** The server info with its first-connection delay at most the manifest's cap. */
function cappedDelay(server: ServerInfo): ServerInfo {
  const delay = server.firstConnectionDelayMs;
  if (delay === undefined || delay <= MAX_FIRST_CONNECTION_DELAY_MS) return server;
  return { ...server, firstConnectionDelayMs: MAX_FIRST_CONNECTION_DELAY_MS };
}

/**
 * Records SPICE channels as one capture file per channel in a session directory.
 *
 * @example
 * ```ts
 * const session = await CaptureSession.create("captures/demo");
 * const main = session.openConnection(1, 0)!;
 * main.sent(linkMessageBytes, "main → link");
 * await session.close(); // writes session.json
 * ```
 */
export class CaptureSession {
  /** The session directory. */
  readonly dir: string;
  readonly #opts: Required<Omit<CaptureSessionOptions, "target" | "server" | "logger" | "clock">>;
  readonly #clock: Clock;
  readonly #log: (level: "debug" | "info" | "warn", message: string) => void;
  readonly #startNs: bigint;
  readonly #startedIso: string;
  readonly #channels = new Map<string, Channel>();
  readonly #queue: Op[] = [];
  readonly #facts: Omit<ManifestFacts, "target" | "server"> = {};
  readonly #errors: string[] = [];
  readonly #skipped = new Map<number, number>();
  #target: string | null;
  #server: ServerInfo | null;
  #lastNs = 0n;
  /** When close began: the manifest's `stopped`, a real time even when nothing was recorded. */
  #stoppedNs = 0n;
  #manifestWarned = false;
  readonly #unrecorded: UnrecordedConnection[] = [];
  #reconnections = 0;
  #draining?: Promise<void>;
  #timer?: ReturnType<typeof setInterval>;
  #closing?: Promise<Manifest>;
  #manifestWrite: Promise<void> = Promise.resolve();
  readonly #sink = new WriterFrameSink();
  // [#secBase, #secEnd): the whole second of the last packet written, in ns (empty at first)
  #secBase = 1n;
  #secEnd = 0n;
  #secNumber = 0;

  private constructor(dir: string, options: CaptureSessionOptions) {
    this.dir = dir;
    this.#opts = {
      format: options.format ?? DEFAULTS.format,
      tsResolution: options.tsResolution ?? DEFAULTS.tsResolution,
      serverPort: options.serverPort ?? DEFAULTS.serverPort,
      relativeTime: options.relativeTime ?? false,
      queueLength: options.queueLength ?? DEFAULTS.queueLength,
      maxBufferedBytes: options.maxBufferedBytes ?? DEFAULTS.maxBufferedBytes,
      flushThresholdBytes: options.flushThresholdBytes ?? DEFAULTS.flushThresholdBytes,
      flushIntervalMs: options.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
      sinkFactory: options.sinkFactory ?? fileSink,
    };
    this.#clock = options.clock ?? systemClock();
    this.#log = options.logger ?? (() => {});
    this.#target = options.target ?? null;
    this.#server = options.server ? cappedDelay(options.server) : null;
    this.#startNs = this.#clock.nowNs();
    this.#startedIso = new Date(Number(this.#startNs / 1_000_000n)).toISOString();
  }

  /**
   * Creates the session directory (mode 0700, see `prepareOutputDir`) and its provisional
   * manifest. Every file in it is created new (0600): nothing there is overwritten or followed.
   *
   * @param dir directory to create: new, empty, or prepared by this thread beforehand
   * @param options see {@link CaptureSessionOptions}
   * @returns the session, ready for connections
   * @throws {Deno.errors.AlreadyExists} when `dir` is not empty (it names what is there)
   * @throws {Deno.errors.NotADirectory} when `dir` is a file or a symbolic link
   * @throws {Deno.errors.PermissionDenied} when `dir` cannot be created or written
   */
  static async create(dir: string, options: CaptureSessionOptions = {}): Promise<CaptureSession> {
    await prepareOutputDir(dir);
    const session = new CaptureSession(dir, options);
    await session.#writeManifest(false);
    if (session.#opts.flushIntervalMs > 0) {
      const timer = setInterval(() => session.#tick(), session.#opts.flushIntervalMs);
      Deno.unrefTimer(timer);
      session.#timer = timer;
    }
    return session;
  }

  /**
   * Starts a new TCP connection of a channel. Every connection is its own flow in the channel's
   * file: the first gets the channel's port, each later one (a reconnection, or a connection
   * alongside a live one) the next reconnection port; none ends another (docs/architecture.md
   * "Addressing").
   *
   * @param channelType SPICE channel type
   * @param channelId SPICE channel id
   * @returns the connection, or null for a channel type outside the table (logged, counted)
   */
  openConnection(channelType: number, channelId: number): ChannelConnection | null {
    if (this.#closing) return null;
    if (!KNOWN_TYPES.has(channelType) || channelId < 0 || channelId > 255) {
      this.#skipped.set(channelType, (this.#skipped.get(channelType) ?? 0) + 1);
      this.#log("debug", `skipping unknown channel type ${channelType} id ${channelId}`);
      return null;
    }
    const channel = this.#channel(channelType, channelId);
    const port = channel.connections.length === 0
      ? firstClientPort(channelType, channelId)
      : RECONNECT_PORT_BASE + (this.#reconnections++ % (65536 - RECONNECT_PORT_BASE));
    const conn = new Connection(this, channel, port, this.#now(), this.#opts.serverPort);
    channel.connections.push(conn);
    channel.current = conn;
    channel.stats.connections++;
    this._offer(conn, "open");
    return conn;
  }

  /** The session clock's time, ns since the epoch, never earlier than a time it gave before. */
  nowNs(): bigint {
    return this.#now();
  }

  /**
   * Lists a connection that was relayed but is in no channel file (not SPICE, an unknown
   * channel type, closed before its link) under the manifest's `unrecorded`. Past
   * {@link MAX_UNRECORDED_LISTED} entries, further ones are summed into the last entry.
   *
   * @param entry what was relayed and why it was not recorded
   */
  noteUnrecorded(entry: UnrecordedConnection): void {
    const list = this.#unrecorded;
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

  /** Records client → server bytes on the channel's current connection (opened if needed). */
  packetSent(channelType: number, channelId: number, bytes: Uint8Array, comment?: string): void {
    this.#current(channelType, channelId)?.sent(bytes, comment);
  }

  /** Records server → client bytes on the channel's current connection (opened if needed). */
  packetReceived(
    channelType: number,
    channelId: number,
    bytes: Uint8Array,
    comment?: string,
  ): void {
    this.#current(channelType, channelId)?.received(bytes, comment);
  }

  /**
   * Adds facts to the manifest (sessionId, scrubbed, stoppedBy, server, …); a fact given again
   * replaces the earlier value. A first-connection delay above the cap is kept as the cap.
   *
   * @param facts the fields to set
   */
  setFacts(facts: ManifestFacts): void {
    const { target, server, ...rest } = facts;
    if (target !== undefined) this.#target = target;
    if (server !== undefined) this.#server = server && cappedDelay(server);
    Object.assign(this.#facts, rest);
  }

  /** A snapshot of the counters. */
  stats(): SessionStats {
    const channels = [...this.#channels.values()].map((c) => structuredClone(c.stats));
    return {
      channels,
      dropped: channels.reduce((n, c) => n + c.dropped, 0),
      errors: channels.reduce((n, c) => n + c.errors, 0),
      skipped: [...this.#skipped.values()].reduce((a, b) => a + b, 0),
      unrecorded: this.#unrecorded.reduce((n, u) => n + (u.connections ?? 1), 0),
      queued: this.#queue.length,
    };
  }

  /**
   * Ends open connections, flushes every file, writes the final manifest. Idempotent.
   *
   * @returns the manifest written
   */
  close(): Promise<Manifest> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  async #finish(): Promise<Manifest> {
    clearInterval(this.#timer);
    this.#stoppedNs = this.#now();
    for (const ch of this.#channels.values()) {
      for (const conn of ch.connections) conn.close();
    }
    while (this.#queue.length > 0 || this.#draining) await this.#drain();
    await Promise.all([...this.#channels.values()].map(async (ch) => {
      const writer = ch.writer as CaptureWriter & {
        setInterfaceDrops?: (id: number, n: number) => void;
      };
      writer.setInterfaceDrops?.(0, ch.stats.dropped);
      await ch.flushing;
      await writer.close().catch((e) => this.#fail(ch, e));
    }));
    // The final manifest is written even when channel files failed; if it cannot be written
    // either, close still resolves (the capture goes on to report) and says so once.
    return await this.#writeManifest(true).catch((e) => {
      const message = `cannot write the final ${MANIFEST_FILE}: ${describeError(e)}`;
      this.#errors.push(message);
      this.#log("warn", message);
      return this.#manifest(true);
    });
  }

  #current(channelType: number, channelId: number): ChannelConnection | null {
    const current = this.#channels.get(`${channelType}:${channelId}`)?.current;
    return current && !current.closed ? current : this.openConnection(channelType, channelId);
  }

  #channel(type: number, id: number): Channel {
    const key = `${type}:${id}`;
    let ch = this.#channels.get(key);
    if (!ch) {
      const file = channelFileName(type, id, this.#opts.format);
      const sink = this.#opts.sinkFactory(`${this.dir}/${file}`);
      const writer = createWriter(this.#opts.format, sink, {
        tsResolution: this.#opts.tsResolution,
        // fileSink is done with a chunk once its write resolves; other sinks may keep chunks.
        recycleChunks: this.#opts.sinkFactory === fileSink,
        interfaces: [{
          name: file,
          description: `SPICE ${channelName(type)} channel ${id}`,
          tsResolution: this.#opts.tsResolution,
        }],
      });
      ch = {
        type,
        id,
        file,
        writer,
        connections: [],
        failed: false,
        flushed: { packets: { sent: 0, received: 0 }, bytes: { sent: 0, received: 0 } },
        stats: {
          type,
          typeName: channelName(type),
          id,
          file,
          connections: 0,
          packets: { sent: 0, received: 0 },
          bytes: { sent: 0, received: 0 },
          dropped: 0,
          droppedBytes: { sent: 0, received: 0 },
          partialBytes: { sent: 0, received: 0 },
          errors: 0,
        },
      };
      this.#channels.set(key, ch);
    }
    return ch;
  }

  #now(): bigint {
    let t = this.#clock.nowNs();
    if (t < this.#lastNs) t = this.#lastNs;
    this.#lastNs = t;
    return t;
  }

  #busy(ch: Channel): boolean {
    return ch.writer.bufferedBytes > this.#opts.maxBufferedBytes;
  }

  /** @internal Entry of the data path; called by connections. */
  _offer(conn: Connection, kind: OpKind, bytes?: Uint8Array, comment?: string): void {
    const ch = conn.channel;
    const isData = kind === "toServer" || kind === "toClient";
    if (ch.failed || (this.#closing && isData)) {
      if (isData) this.#drop(ch, kind, bytes!);
      return;
    }
    const tsNs = this.#now();
    if (this.#queue.length === 0 && !this.#busy(ch)) {
      this.#encode(conn, kind, tsNs, bytes, comment);
      return;
    }
    if (isData && this.#queue.length >= this.#opts.queueLength) {
      this.#drop(ch, kind, bytes!);
      return;
    }
    this.#queue.push({ conn, kind, tsNs, bytes: bytes?.slice(), comment });
    void this.#drain();
  }

  /** @internal A gap in a connection's byte stream; called by connections. */
  _skip(conn: Connection, skip: Skip): void {
    if (conn.channel.failed || this.#closing) return;
    const tsNs = this.#now();
    if (this.#queue.length > 0 || this.#busy(conn.channel)) {
      this.#queue.push({ conn, kind: "skip", tsNs, skip });
      return void this.#drain();
    }
    this.#encode(conn, "skip", tsNs, undefined, undefined, skip);
  }

  /**
   * Frames one packet (or the handshake / teardown / gap) straight into the channel's writer.
   * Positional parameters: this runs for every packet.
   */
  #encode(
    conn: Connection,
    kind: OpKind,
    tsNs: bigint,
    bytes: Uint8Array | undefined,
    comment: string | undefined,
    skip?: Skip,
  ): void {
    const ch = conn.channel;
    const isData = kind === "toServer" || kind === "toClient";
    if (ch.failed || (isData && conn.flow.closed)) {
      if (isData) this.#drop(ch, kind, bytes!);
      return;
    }
    const flow = conn.flow;
    const ts = this.#opts.relativeTime ? tsNs - this.#startNs : tsNs;
    if (ts < this.#secBase || ts >= this.#secEnd) {
      this.#secNumber = Number(ts / NS_PER_SECOND);
      this.#secBase = BigInt(this.#secNumber) * NS_PER_SECOND;
      this.#secEnd = this.#secBase + NS_PER_SECOND;
    }
    const sink = this.#sink;
    sink.writer = ch.writer;
    sink.seconds = this.#secNumber;
    sink.nanoseconds = Number(ts - this.#secBase);
    sink.comment = comment;
    sink.dataFrames = 0;
    if (kind === "open") flow.openInto(sink);
    else if (kind === "skip") flow.skipInto(skip!.direction, skip!.length, sink);
    else if (kind === "close" || kind === "reset") {
      conn.closedNs = tsNs;
      if (conn.resetBy) flow.resetInto(sink, conn.resetBy);
      else flow.closeInto(sink);
    } else {
      flow.sendInto(kind, bytes!, sink);
      const dir = kind === "toServer" ? "sent" : "received";
      ch.stats.packets[dir] += sink.dataFrames;
      ch.stats.bytes[dir] += bytes!.length;
    }
    sink.comment = undefined;
    if (ch.writer.bufferedBytes >= this.#opts.flushThresholdBytes) void this.#flush(ch);
  }

  /** Works the queue off in order; concurrent callers share the one drain in progress. */
  #drain(): Promise<void> {
    this.#draining ??= this.#work().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0) void this.#drain();
    });
    return this.#draining;
  }

  async #work(): Promise<void> {
    while (this.#queue.length > 0) {
      const ch = this.#queue[0].conn.channel;
      if (!ch.failed && this.#busy(ch)) {
        await this.#flush(ch);
        continue;
      }
      const op = this.#queue.shift()!;
      this.#encode(op.conn, op.kind, op.tsNs, op.bytes, op.comment, op.skip);
    }
  }

  /** Counts a data packet that is not written, and its bytes. */
  #drop(ch: Channel, direction: Direction, bytes: Uint8Array): void {
    ch.stats.dropped++;
    ch.stats.droppedBytes[direction === "toServer" ? "sent" : "received"] += bytes.length;
  }

  #flush(ch: Channel): Promise<void> {
    const counts = countsOf(ch.stats);
    ch.flushing ??= ch.writer.flush()
      .then(() => void (ch.flushed = counts))
      .catch((e) => this.#fail(ch, e))
      .finally(() => ch.flushing = undefined);
    return ch.flushing;
  }

  #fail(ch: Channel, e: unknown): void {
    ch.stats.errors++;
    if (ch.failed) return;
    ch.failed = true;
    // What was framed after the last accepted flush may not be in the file: count it dropped.
    const s = ch.stats;
    for (const dir of ["sent", "received"] as const) {
      s.dropped += s.packets[dir] - ch.flushed.packets[dir];
      s.droppedBytes[dir] += s.bytes[dir] - ch.flushed.bytes[dir];
    }
    s.packets = { ...ch.flushed.packets };
    s.bytes = { ...ch.flushed.bytes };
    const message = `${ch.file}: ${e instanceof Error ? e.message : String(e)}`;
    this.#errors.push(message);
    this.#log(
      "warn",
      `capture file failed, packets of this channel are dropped from now: ${message}`,
    );
  }

  #tick(): void {
    if (this.#closing) return;
    const flushes = [...this.#channels.values()].map((ch) => this.#flush(ch));
    void Promise.all(flushes).then(() => this.#closing ? undefined : this.#writeManifest(false))
      .catch((e) => {
        // Reported once: a full disk would otherwise warn every second.
        if (this.#manifestWarned) return;
        this.#manifestWarned = true;
        this.#log("warn", `cannot write ${MANIFEST_FILE}: ${e.message}`);
      });
  }

  #manifest(complete: boolean): Manifest {
    const channels: ManifestChannel[] = [...this.#channels.values()].map((ch) => ({
      type: ch.type,
      typeName: ch.stats.typeName,
      id: ch.id,
      file: ch.file,
      clientPort: ch.connections[0]?.clientPort ?? firstClientPort(ch.type, ch.id),
      serverPort: this.#opts.serverPort,
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
    }));
    return {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      tool: { name: "spicecap", version: denoJson.version },
      started: this.#startedIso,
      ...(complete
        ? { stopped: new Date(Number(this.#stoppedNs / 1_000_000n)).toISOString() }
        : {}),
      complete,
      target: this.#target,
      server: this.#server,
      tsResolution: this.#opts.tsResolution,
      captureFormat: this.#opts.format,
      serverPort: this.#opts.serverPort,
      relativeTime: this.#opts.relativeTime,
      channels,
      skipped: [...this.#skipped].map(([type, connections]) => ({ type, connections })),
      dropped: channels.reduce((n, c) => n + c.dropped, 0),
      errors: [...this.#errors],
      ...structuredClone(this.#facts),
      ...(this.#unrecorded.length > 0 ? { unrecorded: structuredClone(this.#unrecorded) } : {}),
    };
  }

  /** Writes session.json, one write at a time. */
  #writeManifest(complete: boolean): Promise<Manifest> {
    const manifest = this.#manifest(complete);
    const write = this.#manifestWrite.then(() => writeManifest(this.dir, manifest));
    this.#manifestWrite = write.catch(() => {});
    return write.then(() => manifest);
  }
}
