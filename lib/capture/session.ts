/**
 * CaptureSession: SPICE channels → synthetic TCP flows → one capture file per channel.
 *
 * The data path never blocks and never throws: a packet is framed and appended to its file's
 * buffer at once, or queued (bounded) while that file's sink is backed up, or dropped and
 * counted when the queue is full or the file has failed.
 */
import denoJson from "../../deno.json" with { type: "json" };
import type { CaptureFormat, CaptureWriter, TsResolution } from "../pcap/types.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import {
  type Channel,
  CHUNK_BYTES,
  Connection,
  failChannel,
  openChannelFile,
} from "./_channel_file.ts";
import { PacketQueue } from "./_packet_queue.ts";
import { addUnrecorded, cappedDelay, sessionManifest } from "./_session_manifest.ts";
import { type Clock, systemClock } from "./clock.ts";
import { fileSink } from "./file_sink.ts";
import { prepareOutputDir } from "./out_dir.ts";
import type { CaptureSessionOptions, ChannelConnection, SessionStats } from "./session_types.ts";
import {
  type Manifest,
  MANIFEST_FILE,
  type ManifestFacts,
  type ServerInfo,
  type UnrecordedConnection,
  writeManifest,
} from "./manifest.ts";
import { DEFAULT_SERVER_PORT, firstClientPort, RECONNECT_PORT_BASE } from "./naming.ts";

export type {
  CaptureSessionOptions,
  ChannelConnection,
  ChannelStats,
  SessionStats,
} from "./session_types.ts";

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

const DEFAULTS = Object.freeze({
  format: "pcap" as CaptureFormat,
  tsResolution: "ns" as TsResolution,
  serverPort: DEFAULT_SERVER_PORT,
  queueLength: 256,
  maxBufferedBytes: 16 << 20,
  flushThresholdBytes: CHUNK_BYTES,
  flushIntervalMs: 1000,
});

const KNOWN_TYPES = new Set<number>(Object.values(CHANNEL_TYPES));

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
  #timer?: ReturnType<typeof setInterval>;
  #closing?: Promise<Manifest>;
  #manifestWrite: Promise<void> = Promise.resolve();
  readonly #queue: PacketQueue;

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
    this.#queue = new PacketQueue({
      queueLength: this.#opts.queueLength,
      maxBufferedBytes: this.#opts.maxBufferedBytes,
      flushThresholdBytes: this.#opts.flushThresholdBytes,
      relativeTime: this.#opts.relativeTime,
      startNs: this.#startNs,
      now: () => this.#now(),
      fail: (ch, e) => this.#fail(ch, e),
    });
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
    const conn = new Connection({
      host: this.#queue,
      channel,
      clientPort: port,
      openedNs: this.#now(),
      serverPort: this.#opts.serverPort,
    });
    channel.connections.push(conn);
    channel.current = conn;
    channel.stats.connections++;
    this.#queue._offer(conn, "open");
    return conn;
  }

  /** The session clock's time, ns since the epoch, never earlier than a time it gave before. */
  nowNs(): bigint {
    return this.#now();
  }

  /**
   * Lists a connection that was relayed but is in no channel file (not SPICE, an unknown
   * channel type, closed before its link) under the manifest's `unrecorded`. Past
   * 1000 entries (`MAX_UNRECORDED_LISTED`), further ones are summed into the last entry.
   *
   * @param entry what was relayed and why it was not recorded
   */
  noteUnrecorded(entry: UnrecordedConnection): void {
    addUnrecorded(this.#unrecorded, entry);
  }

  /**
   * Records client → server bytes on the channel's current connection (opened if needed).
   * Positional parameters: this runs for every relayed chunk.
   */
  packetSent(channelType: number, channelId: number, bytes: Uint8Array, comment?: string): void {
    this.#current(channelType, channelId)?.sent(bytes, comment);
  }

  /**
   * Records server → client bytes on the channel's current connection (opened if needed).
   * Positional parameters: this runs for every relayed chunk.
   */
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
    if (this.#closing === undefined) {
      this.#closing = this.#finish();
      this.#queue.closing = true;
    }
    return this.#closing;
  }

  async #finish(): Promise<Manifest> {
    clearInterval(this.#timer);
    this.#stoppedNs = this.#now();
    for (const ch of this.#channels.values()) {
      for (const conn of ch.connections) conn.close();
    }
    while (!this.#queue.idle) await this.#queue.drain();
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
      ch = openChannelFile({
        type,
        id,
        dir: this.dir,
        format: this.#opts.format,
        tsResolution: this.#opts.tsResolution,
        sinkFactory: this.#opts.sinkFactory,
      });
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

  #fail(ch: Channel, e: unknown): void {
    const message = failChannel(ch, e);
    if (message === null) return;
    this.#errors.push(message);
    this.#log(
      "warn",
      `capture file failed, packets of this channel are dropped from now: ${message}`,
    );
  }

  #tick(): void {
    if (this.#closing) return;
    const flushes = [...this.#channels.values()].map((ch) => this.#queue.flush(ch));
    void Promise.all(flushes).then(() => this.#closing ? undefined : this.#writeManifest(false))
      .catch((e) => {
        // Reported once: a full disk would otherwise warn every second.
        if (this.#manifestWarned) return;
        this.#manifestWarned = true;
        this.#log("warn", `cannot write ${MANIFEST_FILE}: ${e.message}`);
      });
  }

  #manifest(complete: boolean): Manifest {
    return sessionManifest({
      tool: { name: "spicecap", version: denoJson.version },
      channels: this.#channels.values(),
      format: this.#opts.format,
      tsResolution: this.#opts.tsResolution,
      serverPort: this.#opts.serverPort,
      relativeTime: this.#opts.relativeTime,
      startedIso: this.#startedIso,
      stoppedNs: this.#stoppedNs,
      target: this.#target,
      server: this.#server,
      skipped: this.#skipped,
      errors: this.#errors,
      facts: this.#facts,
      unrecorded: this.#unrecorded,
    }, complete);
  }

  /** Writes session.json, one write at a time. */
  #writeManifest(complete: boolean): Promise<Manifest> {
    const manifest = this.#manifest(complete);
    const write = this.#manifestWrite.then(() => writeManifest(this.dir, manifest));
    this.#manifestWrite = write.catch(() => {});
    return write.then(() => manifest);
  }
}
