/**
 * The replay plan: what the recorded client sent on each connection, when, and what it had
 * received from the server by then. Pure: built from message events in memory.
 *
 * Causality rule (documented in `deno task replay --help`): before client message i, the replay
 * waits until the live server has sent at least as many *counted* messages on that connection
 * as the recording shows before message i, and every *sync point* type seen before it. Counted
 * = every server message except timing noise: PING, SET_ACK, MULTI_MEDIA_TIME, display updates
 * (DRAW_*, COPY_BITS, STREAM_*, MARK, INVAL_*, GL_*), cursor shape/motion messages, playback
 * DATA and inputs KEY_MODIFIERS — their number at a given moment depends on guest progress and
 * timing, not on what the client sent. Sync points: main INIT and CHANNELS_LIST, display
 * SURFACE_CREATE, inputs INIT, cursor INIT. Secondary links also wait for main's session id and
 * for the live CHANNELS_LIST to offer their (type, id).
 */
import { CHANNEL_TYPES as CHANNEL, messageName } from "../spice/tables.ts";
import type { SpiceUnit } from "../spice/types.ts";

/**
 * Common message numbers the replayer generates itself (docs/protocol.md "Flow control and
 * keepalive").
 */
export const COMMON = Object.freeze({
  /** server → client */
  SET_ACK: 3,
  PING: 4,
  /** client → server */
  ACK_SYNC: 1,
  ACK: 2,
  PONG: 3,
});

/** Channel message numbers the replay reads or waits for (docs/protocol.md). */
export const REPLAY_MESSAGES = Object.freeze({
  /** main, server → client: session id, channels to link. */
  MAIN_INIT: 103,
  MAIN_CHANNELS_LIST: 104,
  MAIN_MULTI_MEDIA_TIME: 106,
  /** display, client → server: sent right after the link. */
  DISPLAY_INIT: 101,
  /** display, server → client. */
  DISPLAY_SURFACE_CREATE: 314,
  /** inputs and cursor, server → client. */
  INPUTS_INIT: 101,
  CURSOR_INIT: 101,
});

/** Client message types that the replay generates live and drops from the recording. */
export const GENERATED_CLIENT_TYPES: ReadonlyMap<number, string> = new Map([
  [COMMON.ACK_SYNC, "ACK_SYNC"],
  [COMMON.ACK, "ACK"],
  [COMMON.PONG, "PONG"],
]);

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** Server types not counted for causality, per channel ("*" = every channel). */
export const NOISE_TYPES: ReadonlyMap<number | "*", ReadonlySet<number>> = new Map<
  number | "*",
  ReadonlySet<number>
>([
  ["*", new Set([COMMON.SET_ACK, COMMON.PING])],
  [CHANNEL.main, new Set([REPLAY_MESSAGES.MAIN_MULTI_MEDIA_TIME])],
  [
    CHANNEL.display,
    new Set([102, ...range(104, 108), ...range(122, 126), ...range(302, 313), ...range(316, 321)]),
  ],
  [CHANNEL.cursor, new Set(range(102, 108))],
  [CHANNEL.playback, new Set([101])],
  [CHANNEL.inputs, new Set([102])],
]);

/** Server message types that are named sync points, per channel. */
export const SYNC_TYPES: ReadonlyMap<number, ReadonlySet<number>> = new Map<
  number,
  ReadonlySet<number>
>([
  [CHANNEL.main, new Set([REPLAY_MESSAGES.MAIN_INIT, REPLAY_MESSAGES.MAIN_CHANNELS_LIST])],
  [CHANNEL.display, new Set([REPLAY_MESSAGES.DISPLAY_SURFACE_CREATE])],
  [CHANNEL.inputs, new Set([REPLAY_MESSAGES.INPUTS_INIT])],
  [CHANNEL.cursor, new Set([REPLAY_MESSAGES.CURSOR_INIT])],
]);

/** Whether a server message of this type counts for causality. */
export function isCounted(channelType: number, type: number): boolean {
  return !NOISE_TYPES.get("*")!.has(type) && !(NOISE_TYPES.get(channelType)?.has(type) ?? false);
}

/** One recorded client message to replay. */
export interface PlannedMessage {
  /** Message index in the recorded client direction of its connection. */
  index: number;
  type: number;
  name: string;
  /** Recorded bytes, header included. */
  bytes: Uint8Array;
  headerSize: number;
  tsNs: bigint;
  /** Counted server messages received before it in the recording. */
  afterServerCount: number;
  /** Sync-point types received before it in the recording. */
  afterSyncTypes: number[];
}

/** One recorded TCP connection to redo. */
export interface PlannedConnection {
  channelType: number;
  channelId: number;
  /** File it came from and its connection index there. */
  file: string;
  connection: number;
  /** Recorded client link message (header + body). */
  link: Uint8Array;
  /** Recorded auth mechanism word, when the client sent one. */
  authMechanism?: Uint8Array;
  /** Time of the connection's first packet (the link). */
  linkTsNs: bigint;
  messages: PlannedMessage[];
  /** Server messages in the recording: counted ones and all of them. */
  serverCounted: number;
  serverTotal: number;
  /** Server messages other than PING (the replay waits for as many before it stops). */
  serverNonPing: number;
  /** Time of the connection's last recorded unit. */
  lastTsNs: bigint;
  /** Recorded client messages left out because the replay generates them (name → count). */
  dropped: Record<string, number>;
}

/** The whole replay. */
export interface ReplayPlan {
  /** Connections in recorded order (first packet), main first. */
  connections: PlannedConnection[];
  /** Recorded time of the first packet. */
  t0Ns: bigint;
  /** Recorded time of the last packet. */
  endNs: bigint;
  /** Dropped client messages over all connections (name → count). */
  dropped: Record<string, number>;
}

/** One recorded unit, as {@link PlanBuilder} needs it. */
export interface PlanEvent {
  file: string;
  /** Connection index within the file. */
  connection: number;
  channelType?: number;
  channelId?: number;
  unit: SpiceUnit;
  tsNs: bigint;
}

/** Accumulates events (any number of files) into a {@link ReplayPlan}. */
export class PlanBuilder {
  readonly #conns = new Map<string, PlannedConnection & { syncSeen: Set<number> }>();

  /** Adds one recorded unit. */
  add(ev: PlanEvent): void {
    const key = `${ev.file}#${ev.connection}`;
    let c = this.#conns.get(key);
    const u = ev.unit;
    if (!c) {
      if (u.kind !== "link") return; // no link phase: nothing we can redo
      c = {
        channelType: ev.channelType ?? u.bytes[20],
        channelId: ev.channelId ?? u.bytes[21],
        file: ev.file,
        connection: ev.connection,
        link: u.bytes.slice(),
        linkTsNs: ev.tsNs,
        messages: [],
        serverCounted: 0,
        serverTotal: 0,
        serverNonPing: 0,
        lastTsNs: ev.tsNs,
        dropped: {},
        syncSeen: new Set(),
      };
      this.#conns.set(key, c);
      return;
    }
    c.lastTsNs = ev.tsNs;
    if (u.kind === "authMechanism") c.authMechanism = u.bytes.slice();
    if (u.kind !== "message" || u.type === undefined) return;
    if (!u.fromClient) {
      c.serverTotal++;
      if (u.type !== COMMON.PING) c.serverNonPing++;
      if (isCounted(c.channelType, u.type)) c.serverCounted++;
      if (SYNC_TYPES.get(c.channelType)?.has(u.type)) c.syncSeen.add(u.type);
      return;
    }
    const generated = GENERATED_CLIENT_TYPES.get(u.type);
    if (generated) {
      c.dropped[generated] = (c.dropped[generated] ?? 0) + 1;
      return;
    }
    c.messages.push({
      index: u.index,
      type: u.type,
      name: u.name,
      bytes: u.bytes.slice(),
      headerSize: u.headerSize,
      tsNs: ev.tsNs,
      afterServerCount: c.serverCounted,
      afterSyncTypes: [...c.syncSeen],
    });
  }

  /**
   * The plan: connections sorted by first packet, main before any secondary at the same time.
   *
   * @throws {Error} when there is no main connection to start from
   */
  build(): ReplayPlan {
    const connections = [...this.#conns.values()].map(({ syncSeen: _s, ...c }) => c);
    connections.sort((a, b) =>
      a.linkTsNs < b.linkTsNs ? -1 : a.linkTsNs > b.linkTsNs ? 1 : mainFirst(a, b)
    );
    const dropped: Record<string, number> = {};
    for (const c of connections) {
      for (const [k, n] of Object.entries(c.dropped)) dropped[k] = (dropped[k] ?? 0) + n;
    }
    const t0Ns = connections.reduce(
      (m, c) => c.linkTsNs < m ? c.linkTsNs : m,
      connections[0]?.linkTsNs ?? 0n,
    );
    const endNs = connections.reduce((m, c) => c.lastTsNs > m ? c.lastTsNs : m, t0Ns);
    return { connections, t0Ns, endNs, dropped };
  }
}

function mainFirst(a: PlannedConnection, b: PlannedConnection): number {
  return (a.channelType === CHANNEL.main ? 0 : 1) - (b.channelType === CHANNEL.main ? 0 : 1);
}

/** Live counts of one connection, for {@link causalityMet}. */
export interface LiveCounts {
  counted: number;
  syncSeen: ReadonlySet<number>;
}

/**
 * What a planned message still waits for, or undefined when it may be sent.
 *
 * @param m the planned message
 * @param on `live`: what the live server has sent on that connection; `channelType`: for
 * naming sync types
 * @returns a description such as "2 more counted server messages" or "server INIT"
 */
export function causalityMet(
  m: PlannedMessage,
  on: { live: LiveCounts; channelType: number },
): string | undefined {
  const { live, channelType } = on;
  const missing = m.afterSyncTypes.filter((t) => !live.syncSeen.has(t));
  if (missing.length > 0) {
    return `server ${
      missing.map((t) => messageName(channelType, { fromClient: false, type: t })).join(", ")
    }`;
  }
  if (live.counted < m.afterServerCount) {
    return `${m.afterServerCount} counted server messages (have ${live.counted})`;
  }
  return undefined;
}
