/**
 * Writes a flight-recorder snapshot: the units a {@link RingView} holds become a complete
 * session directory through `CaptureSession`, with the times the worker saw them (a clock
 * that replays them). A connection whose kept units do not follow on from what came before
 * gets a sequence-number jump of the bytes not kept, marked by the peer's pure ACK and a
 * comment on the first kept packet after it; the manifest's `snapshot` fact says why the
 * snapshot was taken, what it covers and what it lost (lib/capture/manifest_snapshot.ts).
 *
 * @module
 */
import type { Clock } from "../../lib/capture/clock.ts";
import type { RingConnectionView, RingView } from "../../lib/capture/flight_ring.ts";
import type {
  Manifest,
  SnapshotChannel,
  SnapshotFacts,
  SnapshotMidStream,
} from "../../lib/capture/manifest.ts";
import { channelFileName } from "../../lib/capture/naming.ts";
import { CaptureSession, type ChannelConnection } from "../../lib/capture/session.ts";
import type { CaptureFormat, TsResolution } from "../../lib/pcap/types.ts";

/** Options of {@link writeSnapshot}. */
export interface SnapshotWriteOptions {
  /** Why (manifest `snapshot.reason`). */
  reason: string;
  /** What set it off, in words. */
  detail?: string;
  /** Channel file format. @default "pcap" */
  format?: CaptureFormat;
  /** Timestamp resolution. @default "ns" */
  tsResolution?: TsResolution;
  /** Synthetic server port. @default 5930 */
  serverPort?: number;
  /** host:port captured, for the manifest. */
  target?: string | null;
}

/** Largest single sequence-number jump (a quarter of the sequence space). */
const MAX_JUMP = 2 ** 30;

/** Events written between two looks at the session's queue. */
const PACE_EVENTS = 512;

interface Event {
  tsNs: bigint;
  order: number;
  conn: number;
  /** Index into the connection's units; -1 open, -2 close. */
  unit: number;
}

/** A clock that says what it is told: the time of the unit being written. */
class ReplayClock implements Clock {
  constructor(public t: bigint) {}
  nowNs(): bigint {
    return this.t;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Every connection's open, units and close, in time order (a connection's own order kept). */
function timeline(conns: RingConnectionView[]): Event[] {
  const events: Event[] = [];
  let order = 0;
  conns.forEach((c, i) => {
    events.push({ tsNs: c.openedNs, order: order++, conn: i, unit: -1 });
    c.units.forEach((u, j) => events.push({ tsNs: u.tsNs, order: order++, conn: i, unit: j }));
    if (c.closedNs !== undefined) {
      events.push({ tsNs: c.closedNs, order: order++, conn: i, unit: -2 });
    }
  });
  return events.sort((a, b) => a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : a.order - b.order);
}

/** Where one connection of the snapshot stands. */
interface Written {
  view: RingConnectionView;
  file: string;
  conn?: ChannelConnection;
  /** Next offset per direction (client → server first). */
  next: [number, number];
}

/** Writes one unit, after the jump over what was not kept before it. */
function writeUnit(w: Written, index: number): void {
  const u = w.view.units[index];
  const conn = w.conn!;
  const d = u.fromClient ? 0 : 1;
  let comment = u.comment;
  const gap = u.offset - w.next[d];
  if (gap > 0) {
    // TCP compares sequence numbers over half the circle: a jump of 2^31 or more would read as
    // going backwards, so it is made of several jumps, each acknowledged.
    for (let left = gap; left > 0; left -= MAX_JUMP) {
      conn.skip(u.fromClient, Math.min(left, MAX_JUMP));
    }
    comment = `mid-stream: ${gap} bytes not kept before this` + (comment ? `; ${comment}` : "");
  }
  w.next[d] = u.offset + u.bytes.length;
  if (u.partial) conn.partial(u.fromClient, u.bytes, comment);
  else if (u.fromClient) conn.sent(u.bytes, comment);
  else conn.received(u.bytes, comment);
}

/**
 * Writes `view` as a new session directory.
 *
 * @param dir the directory (new or empty; created 0700)
 * @param view what the ring holds
 * @param options why, file format and addressing
 * @returns the manifest written
 */
export async function writeSnapshot(
  dir: string,
  view: RingView,
  options: SnapshotWriteOptions,
): Promise<Manifest> {
  const format = options.format ?? "pcap";
  const conns = view.channels.flatMap((ch) => ch.connections);
  const events = timeline(conns);
  const clock = new ReplayClock(events[0]?.tsNs ?? view.fromNs);
  const session = await CaptureSession.create(dir, {
    format,
    tsResolution: options.tsResolution,
    serverPort: options.serverPort,
    target: options.target ?? null,
    clock,
    flushIntervalMs: 0,
    queueLength: Number.MAX_SAFE_INTEGER,
    maxBufferedBytes: 8 << 20,
  });
  const written: Written[] = view.channels.flatMap((ch) => {
    const file = channelFileName(ch, format);
    return ch.connections.map((v) => ({ view: v, file, next: [0, 0] as [number, number] }));
  });
  const types = view.channels.flatMap((ch) => ch.connections.map(() => ch));
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    clock.t = e.tsNs;
    const w = written[e.conn];
    if (e.unit === -1) w.conn = session.openConnection(types[e.conn].type, types[e.conn].id)!;
    else if (e.unit === -2) w.conn?.close({ resetBy: w.view.resetBy });
    else if (w.conn) writeUnit(w, e.unit);
    if (i % PACE_EVENTS === PACE_EVENTS - 1) {
      while (session.stats().queued > PACE_EVENTS) await pause(1);
    }
  }
  for (const u of view.unrecorded) session.noteUnrecorded(u);
  session.setFacts({ ...view.facts, snapshot: snapshotFacts(view, written, options) });
  clock.t = view.takenNs > clock.t ? view.takenNs : clock.t;
  return await session.close();
}

function snapshotFacts(
  view: RingView,
  written: Written[],
  options: SnapshotWriteOptions,
): SnapshotFacts {
  const channels = new Map<string, SnapshotChannel>();
  const midStream: SnapshotMidStream[] = [];
  let wholeSession = true;
  for (const w of written) {
    const [sent, received] = w.view.notKept;
    const ch = channels.get(w.file) ?? {
      file: w.file,
      notKeptBytes: { sent: 0, received: 0 },
      notKeptMessages: 0,
    };
    ch.notKeptBytes.sent += sent;
    ch.notKeptBytes.received += received;
    channels.set(w.file, ch);
    if (sent + received > 0 && w.conn) {
      wholeSession = false;
      midStream.push({
        file: w.file,
        clientPort: w.conn.clientPort,
        notKeptBytes: { sent, received },
      });
    }
  }
  for (const ch of view.channels) {
    const entry = channels.get(written.find((w) => ch.connections.includes(w.view))?.file ?? "");
    if (entry) entry.notKeptMessages += ch.notKeptMessages;
  }
  return {
    reason: options.reason,
    ...(options.detail === undefined ? {} : { detail: options.detail }),
    takenAt: new Date(Number(view.takenNs / 1_000_000n)).toISOString(),
    ringBytes: view.ringBytes,
    covers: { fromNs: String(view.fromNs), toNs: String(view.toNs) },
    wholeSession,
    channels: [...channels.values()],
    midStream,
  };
}
