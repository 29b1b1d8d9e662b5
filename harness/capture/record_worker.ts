/**
 * The recording worker started by {@link Recording} (harness/capture/recording.ts): owns the
 * CaptureSession and one ConnectionRecorder per proxied connection, and reads the chunks the
 * relay thread forwarded from the shared ring (harness/capture/record_ring.ts), in order.
 * Between batches it yields to its event loop so file writes and the session's flush timer run.
 * Protocol (harness/capture/worker_protocol.ts): {@link ToWorker} in, {@link FromWorker} out.
 *
 * @module
 */
import {
  type DirectionCounts,
  type LossyConnection,
  type LossyNote,
  type Manifest,
  writeManifest,
} from "../../lib/capture/manifest.ts";
import { channelFileName } from "../../lib/capture/naming.ts";
import type { Direction } from "../../lib/net/types.ts";
import { CaptureSession, type SessionStats } from "../../lib/capture/session.ts";
import { ConnectionRecorder } from "../../lib/capture/recorder.ts";
import { prepareOutputDir } from "../../lib/capture/out_dir.ts";
import { blockingFileSink } from "../../lib/capture/file_sink.ts";
import { decodeDropped, FROM_CLIENT, RECORD_KIND, RESET, RingReader } from "./record_ring.ts";
import { RingMode } from "./ring_mode.ts";
import type { FromWorker, RecordingSessionOptions, ToWorker } from "./worker_protocol.ts";

/** The worker's global scope, as far as this module uses it. */
interface WorkerScope {
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker): void;
}

const scope = globalThis as unknown as WorkerScope;

/** Ring bytes processed before the worker yields to its event loop (file writes, timers). */
const BATCH_BYTES = 4 << 20;
/** Records between two looks at the session's queue. */
const QUEUE_CHECK_RECORDS = 32;
/** Pause while the session's files are backed up: the ring holds the bytes meanwhile. */
const BACKED_UP_PAUSE_MS = 1;
/** Longest sleep on an empty ring: a missed wake-up costs at most this. */
const WAIT_MS = 100;

interface Entry {
  recorder: ConnectionRecorder;
  lossy?: LossyConnection;
}

let session: CaptureSession | undefined;
/** `--ring`: the flight recorder, instead of a session writing files. */
let flight: RingMode | undefined;
let options: RecordingSessionOptions;
let ring: RingReader | undefined;
let stopping = false;
const early: ToWorker[] = [];
const conns = new Map<number, Entry>();
const lossy: LossyConnection[] = [];
let recorderErrors = 0;

function post(m: FromWorker): void {
  scope.postMessage(m);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Resolves after one turn of the event loop (a zero timer would be clamped to 4 ms). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

async function start(o: RecordingSessionOptions, reader: RingReader): Promise<void> {
  options = o;
  if (o.ring) {
    return startRing(o as RecordingSessionOptions & { ring: NonNullable<typeof o.ring> }, reader);
  }
  try {
    session = await CaptureSession.create(o.dir, {
      format: o.format,
      tsResolution: o.tsResolution,
      serverPort: o.serverPort,
      target: o.target ?? null,
      flushIntervalMs: o.flushIntervalMs,
      queueLength: o.queueLength,
      // This thread only records: a blocking write is cheaper than a hop to the I/O threads.
      sinkFactory: blockingFileSink,
      logger: (level, message) => {
        if (level !== "debug") post({ t: "log", level, message });
      },
    });
  } catch (e) {
    post({ t: "failed", name: e instanceof Error ? e.name : "Error", message: describe(e) });
    return;
  }
  ring = reader;
  post({ t: "ready" });
  for (const m of early.splice(0)) handle(m);
  void pump();
}

/** Starts the flight recorder: `<out>` is created now, snapshots go into it later. */
async function startRing(
  o: RecordingSessionOptions & { ring: NonNullable<RecordingSessionOptions["ring"]> },
  reader: RingReader,
): Promise<void> {
  try {
    await prepareOutputDir(o.dir);
  } catch (e) {
    post({ t: "failed", name: e instanceof Error ? e.name : "Error", message: describe(e) });
    return;
  }
  flight = new RingMode(o, {
    log: (level, message) => post({ t: "log", level, message }),
    snapshot: (dir, reason) => post({ t: "snapshot", dir, reason }),
  });
  ring = reader;
  post({ t: "ready" });
  for (const m of early.splice(0)) handle(m);
  void pump();
}

/** Where manifest facts go: the session, or the flight ring. */
function factsTarget(): { setFacts: CaptureSession["setFacts"] } {
  return flight?.ring ?? session!;
}

/**
 * Whether the session queues packets because a file's writes lag: then the worker leaves the
 * bytes in the ring (which bounds them) instead of overflowing the session's queue, which
 * would drop packets.
 */
function backedUp(): boolean {
  return flight === undefined && session!.stats().queued > 0;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Works the ring off, yielding between batches, sleeping while it is empty. */
async function pump(): Promise<void> {
  while (!stopping) {
    if (backedUp()) await pause(BACKED_UP_PAUSE_MS);
    else if (drain(BATCH_BYTES) > 0) await yieldToEventLoop();
    else await ring!.wait(WAIT_MS);
  }
}

/** Works off everything in the ring now (not what comes later), with {@link pump}'s pauses. */
async function catchUp(): Promise<void> {
  const r = ring!;
  const until = r.consumed + r.available;
  while (r.consumed < until) {
    if (backedUp()) await pause(BACKED_UP_PAUSE_MS);
    else if (drain(BATCH_BYTES) > 0) await yieldToEventLoop();
  }
}

/**
 * Processes ring records until the budget is spent, the ring is empty or the session backs up.
 *
 * @param budgetBytes stop after about this many payload bytes
 * @returns payload bytes processed (+1 per record)
 */
function drain(budgetBytes: number): number {
  let done = 0;
  let count = 0;
  let rec;
  // A payload is valid until the next read: the recorder keeps nothing of it.
  while (done < budgetBytes && (rec = ring!.next()) !== undefined) {
    done += rec.payload.length + 1;
    if (++count % QUEUE_CHECK_RECORDS === 0 && backedUp()) budgetBytes = 0;
    try {
      if (rec.kind === RECORD_KIND.data) {
        const r = conns.get(rec.conn)?.recorder;
        if (!r) continue;
        if (rec.flags & FROM_CLIENT) r.client(rec.payload);
        else r.server(rec.payload);
      } else if (rec.kind === RECORD_KIND.open) open(rec.conn);
      else if (rec.kind === RECORD_KIND.close) {
        close(rec.conn, { dropped: decodeDropped(rec.payload), reset: resetBy(rec.flags) });
      } else if (rec.kind === RECORD_KIND.lossy) {
        markLossy(rec.conn, (rec.flags & FROM_CLIENT) !== 0);
      }
    } catch (e) {
      recorderErrors++;
      post({ t: "recorderError", message: `recorder: ${describe(e)}` });
    }
  }
  return done;
}

function open(id: number): void {
  const s = flight?.ring ?? session!;
  const recorder = new ConnectionRecorder({
    session: s,
    keepTicket: options.keepTicket,
    redactInputs: options.redactInputs,
    comments: options.comments,
    onSessionId: (sessionId) => s.setFacts({ sessionId }),
    onError: (message) => {
      recorderErrors++;
      post({ t: "recorderError", message });
    },
  });
  conns.set(id, { recorder });
}

/** The relay stopped handing this connection over: end its flow in the file and note it. */
function markLossy(id: number, fromClient: boolean): void {
  const entry = conns.get(id);
  if (!entry || entry.lossy) return;
  const r = entry.recorder;
  const type = r.channelType;
  entry.lossy = {
    file: type === undefined || r.clientPort === undefined
      ? null
      : channelFileName({ type, id: r.channelId ?? 0 }, options.format ?? "pcap"),
    channel: r.name,
    clientPort: r.clientPort ?? null,
    trigger: fromClient ? "toServer" : "toClient",
    droppedChunks: { sent: 0, received: 0 },
    droppedBytes: { sent: 0, received: 0 },
  };
  lossy.push(entry.lossy);
  r.close();
  const mib = Math.round((options.maxInFlightBytes ?? 0) / (1 << 20) * 10) / 10;
  post({
    t: "log",
    level: "warn",
    message: `${r.name === "?" ? "a connection before its link" : `${r.name} channel`}: ` +
      `recording fell ${mib} MiB behind the relay; the rest of this connection is relayed ` +
      "but not recorded (counted as dropped in session.json)",
  });
  factsTarget().setFacts({ lossy: lossyNote() });
}

function lossyNote(): LossyNote {
  return {
    note: "connections whose recording stopped early because the recorder fell " +
      `${options.maxInFlightBytes} bytes behind the relay; the rest was relayed, not recorded; ` +
      "each relay chunk not recorded counts as one dropped packet of its channel",
    connections: lossy,
  };
}

/** The direction of the RST a close record reports, if any. */
function resetBy(flags: number): Direction | undefined {
  if (!(flags & RESET)) return undefined;
  return flags & FROM_CLIENT ? "toServer" : "toClient";
}

/** Ends connection `id`'s recorder (reset or closed) and notes what its recording dropped. */
function close(
  id: number,
  { dropped, reset }: { dropped: ReturnType<typeof decodeDropped>; reset?: Direction },
): void {
  const entry = conns.get(id);
  if (!entry) return;
  conns.delete(id);
  entry.recorder.close({ resetBy: reset });
  if (entry.lossy && dropped) {
    entry.lossy.droppedChunks = { sent: dropped.chunks[0], received: dropped.chunks[1] };
    entry.lossy.droppedBytes = { sent: dropped.bytes[0], received: dropped.bytes[1] };
    factsTarget().setFacts({ lossy: lossyNote() });
  }
}

/** Counters shaped like the session's and the manifest's. */
interface DropCounters {
  channels: { file: string; dropped: number; droppedBytes?: DirectionCounts }[];
  dropped: number;
}

/** Adds lossy drops (chunks and bytes) to the counters of their channels and the total. */
function addLossy<T extends DropCounters>(x: T): T {
  let total = 0;
  for (const l of lossy) {
    const n = l.droppedChunks.sent + l.droppedChunks.received;
    total += n;
    const ch = x.channels.find((c) => c.file === l.file);
    if (!ch) continue;
    ch.dropped += n;
    const b = ch.droppedBytes ?? { sent: 0, received: 0 };
    ch.droppedBytes = {
      sent: b.sent + l.droppedBytes.sent,
      received: b.received + l.droppedBytes.received,
    };
  }
  x.dropped += total;
  return x;
}

async function end(req: number): Promise<void> {
  await catchUp();
  stopping = true;
  ring!.wake();
  if (flight) return endRing(req, flight);
  const s = session!;
  for (const id of [...conns.keys()]) close(id, { dropped: undefined });
  s.setFacts({ recorderErrors });
  let manifest: Manifest = await s.close();
  if (lossy.length > 0) {
    manifest = addLossy(structuredClone(manifest));
    await writeManifest(s.dir, manifest).catch((e) =>
      post({ t: "log", level: "warn", message: `cannot rewrite session.json: ${describe(e)}` })
    );
  }
  const stats: SessionStats = addLossy(s.stats());
  post({ t: "ended", req, manifest, stats });
}

/** The flight recorder's end: the connections close (no `disconnect`), last snapshots. */
async function endRing(req: number, f: RingMode): Promise<void> {
  f.ring.stopping();
  for (const id of [...conns.keys()]) close(id, { dropped: undefined });
  f.ring.setFacts({ recorderErrors });
  const manifest = await f.finish();
  post({ t: "ended", req, manifest, stats: f.stats() });
}

function handle(m: ToWorker): void {
  if (m.t === "start") return void start(m.options, new RingReader(m.ring));
  if (m.t === "stall") {
    return void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, m.ms);
  }
  if (!session && !flight) return void early.push(m);
  if (m.t === "facts") factsTarget().setFacts(m.facts);
  else if (m.t === "stats") {
    const req = m.req;
    const stats = () => flight ? flight.stats() : addLossy(session!.stats());
    void catchUp().then(() => post({ t: "stats", req, stats: stats() }));
  } else if (m.t === "snapshot") void catchUp().then(() => flight?.take(m.reason, "SIGUSR1"));
  else if (m.t === "end") void end(m.req);
}

scope.onmessage = (e) => handle(e.data);
