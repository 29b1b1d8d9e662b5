/**
 * The recording side of the proxy, run in a Web Worker ({@link Recording}): the relay thread
 * copies each forwarded chunk into a shared ring (harness/capture/record_ring.ts) and goes on
 * relaying; the worker (harness/capture/record_worker.ts) frames the chunks (ConnectionRecorder)
 * and writes the capture files (CaptureSession). Chunks, connection opens and closes go through
 * the ring, in order; manifest fields, stats and the final close are messages
 * (harness/capture/worker_protocol.ts).
 *
 * By default the relay never waits for the worker. The ring bounds the bytes handed over and not
 * yet processed ({@link RecordingOptions.maxInFlightBytes}); a connection whose chunk does not
 * fit turns lossy: it is not recorded from that point on (the worker ends its flow in the file),
 * its dropped chunks and bytes are counted per direction and go into session.json (the channel's
 * `dropped` and a `lossy` note), one warning is logged, and relaying carries on. With
 * {@link RecordingOptions.recordAll} the relay waits for room instead (see
 * {@link RecordingConnection.pushOrWait}).
 *
 * @module
 */
import type { Manifest, ManifestFacts } from "../../lib/capture/manifest.ts";
import type { SessionStats } from "../../lib/capture/session.ts";
import type { Direction } from "../../lib/net/types.ts";
import {
  CONTROL_RESERVE_BYTES,
  createRing,
  encodeDropped,
  FROM_CLIENT,
  RECORD_KIND,
  RESET,
  type RingBuffers,
  RingWriter,
} from "./record_ring.ts";
import { relayBuffer } from "./_ring_copy.ts";
import type { FromWorker, RecordingSessionOptions, ToWorker } from "./worker_protocol.ts";

export type { FromWorker, RecordingSessionOptions, ToWorker } from "./worker_protocol.ts";

/** Default bound on the bytes handed to the worker and not processed yet: 64 MiB. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 << 20;

/** `recordAll`: a worker that takes no record for this long no longer holds the relay up. */
export const STALL_MS = 500;
/** `recordAll`: longest sleep of a relay waiting for room (each record taken wakes it). */
const ROOM_WAIT_MS = 50;

/** Options of {@link Recording.start}. */
export interface RecordingOptions extends RecordingSessionOptions {
  /**
   * Record every byte: when a chunk does not fit in the backlog, {@link RecordingConnection.pushOrWait}
   * waits until the worker has made room, for as long as the worker keeps taking records; only
   * a worker that takes nothing for {@link STALL_MS} (a stuck disk) still turns the connection
   * lossy. The relay then reads no further meanwhile, so TCP slows the sender.
   * @default false: never wait, turn lossy at once
   */
  recordAll?: boolean;
  /** Warnings from the worker (file failures, lossy connections). */
  log?: (level: "info" | "warn", message: string) => void;
  /** Called once per recording problem of a connection (framing error); forwarding goes on. */
  onRecorderError?: (message: string) => void;
  /** Flight recorder: called with each snapshot directory once it is written. */
  onSnapshot?: (dir: string, reason: string) => void;
}

/** What a connection relayed but did not record, per direction (client → server first). */
export interface DroppedCounts {
  /** Relay chunks (socket reads) not recorded. */
  chunks: [number, number];
  /** Bytes not recorded. */
  bytes: [number, number];
}

const WORKER_URL = new URL("./record_worker.ts", import.meta.url).href;

/** Rebuilds an error the worker reported, keeping Deno's error classes (AlreadyExists, …). */
function rebuildError(name: string, message: string): Error {
  const classes = Deno.errors as unknown as Record<string, new (m: string) => Error>;
  const Class = classes[name];
  return Class ? new Class(message) : new Error(message);
}

/** One proxied connection's handle on the recording. Calls never block and never throw. */
export class RecordingConnection {
  readonly #rec: Recording;
  /** Connection id in the worker. */
  readonly id: number;
  #lossy = false;
  #closed = false;
  readonly #dropped: DroppedCounts = { chunks: [0, 0], bytes: [0, 0] };

  /** @internal Use {@link Recording.openConnection}. */
  constructor(rec: Recording, id: number) {
    this.#rec = rec;
    this.id = id;
  }

  /** Whether this connection stopped being recorded because the worker fell behind. */
  get lossy(): boolean {
    return this.#lossy;
  }

  /** What was relayed and not recorded. */
  get dropped(): DroppedCounts {
    return structuredClone(this.#dropped);
  }

  /**
   * Hands over bytes already forwarded: copies them into the ring, so the caller may reuse
   * its buffer at once.
   *
   * @param fromClient direction: client → server when true
   * @param bytes the chunk
   * @returns false when the bytes were not recorded (connection lossy, recording closed)
   */
  push(fromClient: boolean, bytes: Uint8Array): boolean {
    if (this.#closed) return false;
    if (!this.#lossy && this.#rec._data(this.id, fromClient, bytes)) return true;
    if (!this.#lossy) {
      this.#lossy = true;
      this.#rec._control(RECORD_KIND.lossy, this.id, fromClient ? FROM_CLIENT : 0);
    }
    const d = fromClient ? 0 : 1;
    this.#dropped.chunks[d]++;
    this.#dropped.bytes[d] += bytes.length;
    return false;
  }

  /**
   * {@link push}, except that with the recording's `recordAll` a chunk that does not fit waits
   * for room (see {@link RecordingOptions.recordAll}): the caller must then not read further,
   * nor reuse the buffer, until the promise settles.
   *
   * @param fromClient direction: client → server when true
   * @param bytes the chunk (already forwarded)
   * @returns whether the bytes were recorded; a promise of it only when it had to wait
   */
  pushOrWait(fromClient: boolean, bytes: Uint8Array): boolean | Promise<boolean> {
    if (this.#closed || this.#lossy || !this.#rec._recordAll) return this.push(fromClient, bytes);
    if (this.#rec._data(this.id, fromClient, bytes)) return true;
    if (!this.#rec._couldFit(bytes.length)) return this.push(fromClient, bytes);
    return this.#waitThenPush(fromClient, bytes);
  }

  /** Waits for room until the chunk is in (other connections may take the room first). */
  async #waitThenPush(fromClient: boolean, bytes: Uint8Array): Promise<boolean> {
    while (await this.#rec._waitForRoom(bytes.length)) {
      if (this.#closed || this.#lossy) break;
      if (this.#rec._data(this.id, fromClient, bytes)) return true;
    }
    return this.push(fromClient, bytes); // stalled, or closed: counted as dropped
  }

  /**
   * The TCP connection ended. Idempotent.
   *
   * @param options `resetBy`: the direction of the RST when a socket was reset ("toServer":
   *   the client's); the recording then ends the flow with that RST instead of a FIN exchange
   */
  close(options: { resetBy?: Direction } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    const d = this.#dropped;
    const payload = this.#lossy ? encodeDropped(d.chunks, d.bytes) : undefined;
    const flags = options.resetBy === undefined
      ? 0
      : RESET | (options.resetBy === "toServer" ? FROM_CLIENT : 0);
    this.#rec._control(RECORD_KIND.close, this.id, flags, payload);
  }
}

/**
 * A CaptureSession and its connection recorders running in a worker.
 *
 * @example
 * ```ts
 * const recording = await Recording.start({ dir: "captures/x", format: "pcapng" });
 * const proxy = SpiceProxy.start({ target: { hostname: "127.0.0.1", port: 5930 }, recording });
 * // … spicy -h 127.0.0.1 -p ${proxy.port}
 * await proxy.close();
 * const manifest = await recording.close();
 * ```
 */
export class Recording {
  readonly #worker: Worker;
  readonly #o: RecordingOptions;
  readonly #ring: RingWriter;
  readonly #ringMemory: WebAssembly.Memory;
  #nextId = 1;
  #nextReq = 1;
  readonly #pending = new Map<number, (m: FromWorker | Error) => void>();
  #dead?: Error;
  #closing?: Promise<Manifest>;
  #finalStats?: SessionStats;
  readonly #snapshots: string[] = [];
  /** Recording problems reported so far (framing errors, lost ring events). */
  errors = 0;

  private constructor(
    parts: { worker: Worker; options: RecordingOptions; ring: RingBuffers },
  ) {
    this.#worker = parts.worker;
    this.#o = parts.options;
    this.#ring = new RingWriter(parts.ring);
    this.#ringMemory = parts.ring.memory;
  }

  /**
   * Starts the worker and creates the session in it.
   *
   * @param options session directory and format, recorder options, in-flight bound
   * @returns the running recording
   * @throws the session's creation error, rebuilt (`Deno.errors.AlreadyExists` when the
   *   directory already holds a session, …)
   */
  static async start(options: RecordingOptions): Promise<Recording> {
    const max = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
    const ring = createRing(max);
    const worker = new Worker(WORKER_URL, { type: "module" });
    const rec = new Recording({ worker, options, ring });
    const ready = new Promise<FromWorker | Error>((resolve) => rec.#pending.set(0, resolve));
    worker.onmessage = (e: MessageEvent<FromWorker>) => rec.#onMessage(e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      rec.#died(new Error(`recording worker failed: ${e.message}`));
    };
    const {
      log: _log,
      onRecorderError: _onError,
      onSnapshot: _snap,
      recordAll: _all,
      ...sessionOptions
    } = options;
    rec.#post({ t: "start", options: { ...sessionOptions, maxInFlightBytes: max }, ring });
    const m = await ready;
    if (m instanceof Error || m.t === "failed") {
      worker.terminate();
      throw m instanceof Error ? m : rebuildError(m.name, m.message);
    }
    return rec;
  }

  /** Flight recorder (`ring` option): the snapshot directories written so far. */
  get snapshots(): readonly string[] {
    return this.#snapshots;
  }

  /**
   * Flight recorder (`ring` option): asks for a snapshot of what the ring holds once the
   * worker has taken in everything handed over so far; {@link snapshots} lists it when written.
   *
   * @param reason the manifest's reason, e.g. "signal"
   */
  snapshot(reason: string): void {
    this.#post({ t: "snapshot", reason });
  }

  /** Bytes handed to the worker and not yet processed (ring records, headers included). */
  get inFlightBytes(): number {
    return this.#ring.used;
  }

  /**
   * A socket read buffer for the relay whose chunks the ring takes at memcpy speed (see
   * harness/capture/_ring_copy.ts); any buffer works, this one is cheaper to record from.
   *
   * @param bytes its size
   */
  readBuffer(bytes: number): Uint8Array {
    return relayBuffer(this.#ringMemory, bytes);
  }

  /** A new connection to record; its chunks reach the worker in order. */
  openConnection(): RecordingConnection {
    const conn = new RecordingConnection(this, this.#nextId++);
    this._control(RECORD_KIND.open, conn.id, 0);
    return conn;
  }

  /** Adds facts to the manifest (stoppedBy, scrubbed, server, …); see `CaptureSession.setFacts`. */
  setFacts(facts: ManifestFacts): void {
    this.#post({ t: "facts", facts });
  }

  /**
   * The session's counters once the worker has taken in everything handed over so far, lossy
   * drops included in each channel's `dropped`. After {@link close}: the final counters.
   * Warnings and recorder errors about earlier chunks have been delivered when it resolves.
   */
  async stats(): Promise<SessionStats> {
    if (this.#finalStats) return structuredClone(this.#finalStats);
    const m = await this.#request((req) => ({ t: "stats", req }));
    return (m as Extract<FromWorker, { t: "stats" }>).stats;
  }

  /**
   * Lets the worker work off everything handed over, closes the session (final session.json)
   * and ends the worker. Idempotent. Connections still open are closed in the files.
   *
   * @returns the manifest written
   */
  close(): Promise<Manifest> {
    this.#closing ??= (async () => {
      try {
        const m = await this.#request((req) => ({ t: "end", req }));
        const ended = m as Extract<FromWorker, { t: "ended" }>;
        this.#finalStats = ended.stats;
        return ended.manifest;
      } finally {
        this.#worker.terminate();
        this.#dead ??= new Error("recording closed");
      }
    })();
    return this.#closing;
  }

  /** @internal Whether connections wait for room (`recordAll`). */
  get _recordAll(): boolean {
    return this.#o.recordAll === true;
  }

  /** Milliseconds relays spent waiting for room (`recordAll`), in all. */
  waitedMs = 0;

  /** @internal Whether a chunk of `length` bytes fits in the empty ring. */
  _couldFit(length: number): boolean {
    return this.#ring.couldFit(length, CONTROL_RESERVE_BYTES);
  }

  /**
   * @internal Waits until a chunk of `length` bytes fits.
   *
   * @returns true when it fits, false when the worker took no record for {@link STALL_MS} or
   *   the recording ended
   */
  async _waitForRoom(length: number): Promise<boolean> {
    const t0 = performance.now();
    let last = this.#ring.readPosition;
    let progressAt = t0;
    let room = false;
    while (!this.#dead && !this.#closing) {
      if ((room = this.#ring.fits(length, CONTROL_RESERVE_BYTES))) break;
      await this.#ring.waitForRead(ROOM_WAIT_MS);
      const now = performance.now();
      const r = this.#ring.readPosition;
      if (r !== last) {
        last = r;
        progressAt = now;
      } else if (now - progressAt > STALL_MS) break;
    }
    this.waitedMs += performance.now() - t0;
    return room;
  }

  /** @internal Tests: blocks the worker's thread for `ms`, as a stuck disk would. */
  _stallWorker(ms: number): void {
    this.#post({ t: "stall", ms });
  }

  /**
   * @internal Copies a chunk into the ring unless it does not fit (or the worker is gone).
   * Positional parameters: this runs for every relayed chunk.
   */
  _data(id: number, fromClient: boolean, bytes: Uint8Array): boolean {
    if (this.#dead || this.#closing) return false;
    const flags = fromClient ? FROM_CLIENT : 0;
    return this.#ring.write(RECORD_KIND.data, id, flags, bytes, CONTROL_RESERVE_BYTES);
  }

  /**
   * @internal Appends an open, close or lossy record (they may use the control reserve).
   * Positional parameters, as the ring's `write` that it shares with the per-chunk path.
   */
  _control(kind: number, id: number, flags: number, payload?: Uint8Array): void {
    if (this.#dead || this.#closing) return;
    if (!this.#ring.write(kind, id, flags, payload)) {
      this.errors++;
      this.#o.log?.("warn", `recording ring full: event ${kind} of connection ${id} lost`);
    }
  }

  #post(message: ToWorker): void {
    if (!this.#dead) this.#worker.postMessage(message);
  }

  async #request(make: (req: number) => ToWorker): Promise<FromWorker> {
    if (this.#dead) throw this.#dead;
    const req = this.#nextReq++;
    const reply = new Promise<FromWorker | Error>((resolve) => this.#pending.set(req, resolve));
    this.#worker.postMessage(make(req));
    const m = await reply;
    if (m instanceof Error) throw m;
    return m;
  }

  #settle(req: number, m: FromWorker | Error): void {
    const resolve = this.#pending.get(req);
    this.#pending.delete(req);
    resolve?.(m);
  }

  #onMessage(m: FromWorker): void {
    if (m.t === "log") this.#o.log?.(m.level, m.message);
    else if (m.t === "snapshot") {
      this.#snapshots.push(m.dir);
      this.#o.onSnapshot?.(m.dir, m.reason);
    } else if (m.t === "recorderError") {
      this.errors++;
      this.#o.onRecorderError?.(m.message);
    } else if (m.t === "ready" || m.t === "failed") this.#settle(0, m);
    else this.#settle(m.req, m);
  }

  #died(e: Error): void {
    if (this.#dead) return;
    this.#dead = e;
    this.#o.log?.("warn", `${e.message}; relaying goes on without recording`);
    for (const resolve of this.#pending.values()) resolve(e);
    this.#pending.clear();
    this.#worker.terminate();
  }
}
