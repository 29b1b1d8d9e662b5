/**
 * The serve plan: what the recorded server sent on each connection, in order, and how many of
 * the recorded client's own messages had arrived before each one. Pure: built from message
 * events in memory, the mirror image of the replay plan (`lib/replay/plan.ts`).
 *
 * Causality rule: recorded server message i goes out once the live client has sent, on that
 * connection, as many messages as the recorded client had sent before it. PONG, ACK_SYNC and
 * ACK are answers to the server, never waited for and never compared.
 */
import { GENERATED_CLIENT_TYPES, type PlanEvent } from "../replay/plan.ts";
import { CHANNEL_TYPES as CHANNEL, channelName, linkErrorName } from "../spice/tables.ts";

/** The recording cannot be served: the message says what is missing (exit 2). */
export class ServePlanError extends Error {
  /** Always "ServePlanError". */
  override name = "ServePlanError";
}

/** One recorded server message to send. */
export interface ServerStep {
  /** Message index in the recorded server direction of its connection. */
  index: number;
  /** Message type. */
  type: number;
  /** Message name from the tables. */
  name: string;
  /** Recorded bytes, header included. */
  bytes: Uint8Array;
  /** Header length of the recorded bytes (6 mini, 18 full). */
  headerSize: number;
  /** Recorded time. */
  tsNs: bigint;
  /** Recorded client messages (PONG, ACK_SYNC, ACK left out) received before it. */
  afterClient: number;
}

/** One recorded client message, as serve expects it from the live client. */
export interface ExpectedClientMessage {
  /** Message index in the recorded client direction (PONG, ACK_SYNC and ACK counted). */
  index: number;
  /** Message type. */
  type: number;
  /** Message name from the tables. */
  name: string;
  /** Recorded time. */
  tsNs: bigint;
}

/** One recorded TCP connection, as serve plays its server side. */
export interface ServedConnectionPlan {
  /** Channel type from the link message. */
  channelType: number;
  /** Channel id from the link message. */
  channelId: number;
  /** File it came from and its connection index there. */
  file: string;
  /** Connection index within the file. */
  connection: number;
  /** Recorded server link reply (header + body). */
  linkReply: Uint8Array;
  /** Time of the connection's first unit (the client's link). */
  linkTsNs: bigint;
  /** Time of the connection's last recorded unit. */
  lastTsNs: bigint;
  /** Recorded server messages in order. */
  server: ServerStep[];
  /** Recorded client messages in order, PONG, ACK_SYNC and ACK left out. */
  client: ExpectedClientMessage[];
  /** Recorded PONG, ACK_SYNC and ACK (name → count): answers, not compared. */
  answers: Record<string, number>;
}

/** The whole served session. */
export interface ServePlan {
  /** Connections in recorded order (first unit), main first. */
  connections: ServedConnectionPlan[];
  /** Recorded time of the first unit. */
  t0Ns: bigint;
  /** Recorded time of the last unit. */
  endNs: bigint;
  /** Connections that cannot be served (no link phase, refused link), one line each. */
  unusable: string[];
}

/** "display" or "display-1". */
export function channelLabel(c: { channelType: number; channelId: number }): string {
  const name = channelName(c.channelType);
  return c.channelId === 0 ? name : `${name}-${c.channelId}`;
}

interface Building extends ServedConnectionPlan {
  linkResult?: number;
  replyError?: number;
}

/** Accumulates events (any number of files) into a {@link ServePlan}. */
export class ServePlanBuilder {
  readonly #conns = new Map<string, Building | null>();

  /** Adds one recorded unit. */
  add(ev: PlanEvent): void {
    const key = `${ev.file}#${ev.connection}`;
    const u = ev.unit;
    let c = this.#conns.get(key);
    if (c === null) return;
    if (c === undefined) {
      if (u.kind !== "link") {
        this.#conns.set(key, null);
        this.#unusable.push(`${ev.file} connection ${ev.connection}: no link phase`);
        return;
      }
      c = {
        channelType: ev.channelType ?? u.bytes[20],
        channelId: ev.channelId ?? u.bytes[21],
        file: ev.file,
        connection: ev.connection,
        linkReply: new Uint8Array(0),
        linkTsNs: ev.tsNs,
        lastTsNs: ev.tsNs,
        server: [],
        client: [],
        answers: {},
      };
      this.#conns.set(key, c);
      return;
    }
    c.lastTsNs = ev.tsNs;
    if (u.kind === "linkReply") {
      c.linkReply = u.bytes.slice();
      c.replyError = u32(u.bytes, 16);
    } else if (u.kind === "linkResult") c.linkResult = u32(u.bytes, 0);
    if (u.kind !== "message") return;
    if (!u.fromClient) {
      c.server.push({
        index: u.index,
        type: u.type,
        name: u.name,
        bytes: u.bytes.slice(),
        headerSize: u.headerSize,
        tsNs: ev.tsNs,
        afterClient: c.client.length,
      });
      return;
    }
    const answer = GENERATED_CLIENT_TYPES.get(u.type);
    if (answer) c.answers[answer] = (c.answers[answer] ?? 0) + 1;
    else c.client.push({ index: u.index, type: u.type, name: u.name, tsNs: ev.tsNs });
  }

  readonly #unusable: string[] = [];

  /**
   * The plan: connections that linked, sorted by first unit, main before any secondary at the
   * same time.
   *
   * @throws {ServePlanError} when there is no main connection with a whole, accepted link phase
   *   and a MAIN_INIT
   */
  build(): ServePlan {
    const unusable = [...this.#unusable];
    const connections: ServedConnectionPlan[] = [];
    for (const c of this.#conns.values()) {
      if (c === null) continue;
      const why = unusableWhy(c);
      if (why) {
        unusable.push(`${c.file} connection ${c.connection} (${channelLabel(c)}): ${why}`);
        continue;
      }
      const { linkResult: _r, replyError: _e, ...plan } = c;
      connections.push(plan);
    }
    connections.sort((a, b) =>
      a.linkTsNs < b.linkTsNs ? -1 : a.linkTsNs > b.linkTsNs ? 1 : mainFirst(a, b)
    );
    const main = connections.find((c) => c.channelType === CHANNEL.main);
    if (!main) {
      const found = unusable.length > 0 ? unusable.join("; ") : "no linked connections";
      throw new ServePlanError(
        `no main channel with a whole link phase to serve (found ${
          connections.map(channelLabel).join(", ") || found
        })`,
      );
    }
    if (!main.server.some((s) => s.type === MAIN_INIT)) {
      throw new ServePlanError("the recorded main channel has no INIT message to send");
    }
    const t0Ns = connections.reduce((m, c) => c.linkTsNs < m ? c.linkTsNs : m, main.linkTsNs);
    const endNs = connections.reduce((m, c) => c.lastTsNs > m ? c.lastTsNs : m, t0Ns);
    return { connections, t0Ns, endNs, unusable };
  }
}

/** Main INIT, the message that carries the session id. */
export const MAIN_INIT = 103;
/** Main CHANNELS_LIST. */
export const MAIN_CHANNELS_LIST = 104;

function unusableWhy(c: Building): string | undefined {
  if (c.linkReply.length === 0) return "the recording ends before the link reply";
  if (c.replyError !== 0) return `the recorded link was refused (${linkErrorName(c.replyError!)})`;
  if (c.linkResult === undefined) return "the recording ends before the link result";
  if (c.linkResult !== 0) return `the recorded link was refused (${linkErrorName(c.linkResult)})`;
  return undefined;
}

function mainFirst(a: ServedConnectionPlan, b: ServedConnectionPlan): number {
  return (a.channelType === CHANNEL.main ? 0 : 1) - (b.channelType === CHANNEL.main ? 0 : 1);
}

function u32(b: Uint8Array, at: number): number {
  if (b.length < at + 4) return 0xffff_ffff;
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}
