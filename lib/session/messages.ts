/**
 * Reading captures back as SPICE messages: packets → TCP connections → reassembled byte streams
 * per direction → SPICE units (link phase pieces and messages), in capture order.
 */
import { decodePacket } from "../net/decode.ts";
import { type ReassemblyResult, TcpReassembler } from "../net/reassembly.ts";
import { type DecodedPacket, IP_PROTOCOL, TCP_FLAGS } from "../net/types.ts";
import type { CaptureRecord } from "../pcap/types.ts";
import { SpiceConnectionFramer } from "../spice/framer.ts";
import type { LinkMessage, LinkReply } from "../spice/link.ts";
import { CHANNEL_TYPES, channelName, linkErrorName } from "../spice/tables.ts";
import { SpiceFramingError, type SpiceUnit } from "../spice/types.ts";

/** One TCP connection as the reader sees it. Client/server are final once the link is seen. */
export interface ConnectionInfo {
  /** 0-based, in order of the connection's first packet in the file (= tshark's tcp.stream). */
  index: number;
  /** Client address as text; the first packet's sender until the client side is decided. */
  clientIp: string;
  /** Client TCP port. */
  clientPort: number;
  /** Server address as text, same form as `clientIp`. */
  serverIp: string;
  /** Server TCP port. */
  serverPort: number;
  /** From the client link message, once framed. */
  channelType?: number;
  /** Channel id from the client link message, once framed. */
  channelId?: number;
  /** Session connection id from the client link message (0 for the main channel's link). */
  connectionId?: number;
}

/** One SPICE unit, where and when it was completed. */
export interface MessageEvent {
  /** The connection the unit was read from. */
  connection: ConnectionInfo;
  /** The framed unit: link-phase piece or message, with its direction and stream offset. */
  unit: SpiceUnit;
  /** Timestamp of the packet completing the unit. */
  tsNs: bigint;
  /** 1-based number of the packet completing the unit. */
  packetNumber: number;
  /** {@link ReadMessagesOptions.file}, when one was given. */
  file?: string;
}

/** Something in the capture that keeps part of it from reading as SPICE; never thrown. */
export interface StreamProblem {
  /**
   * "not-tcp", "snapped", "gap" / "overlap" / "retransmission" / "outOfOrder" (reassembly),
   * "no-link" (first payload is not a link message), "direction" (SYN sender ≠ link sender),
   * "framing", "unknown-channel", "link-refused", "link-incomplete", "incomplete-message".
   */
  kind: string;
  /** 1-based number of the packet where the problem was found. */
  packetNumber: number;
  /** The connection concerned; absent for packets outside any TCP connection. */
  connection?: ConnectionInfo;
  /** Direction concerned, when there is one. */
  fromClient?: boolean;
  /** Human-readable description: what was found and what was expected. */
  message: string;
}

/** Options of {@link SpiceStreamReader} and {@link readSpiceMessages}. */
export interface ReadMessagesOptions {
  /** File name copied into each event's `file` (problems do not carry it). */
  file?: string;
  /** Receives problems as they are found. @default ignore */
  onProblem?: (p: StreamProblem) => void;
  /** Largest SPICE message accepted. @default 64 MiB (the framer's default) */
  maxMessageBytes?: number;
}

/** Per-connection state; `side` 0 is the source of the connection's first packet. */
export interface TrackedConnection {
  /** The public description of the connection, updated as the link phase is framed. */
  readonly info: ConnectionInfo;
  /** "ip:port" of side 0 and side 1. */
  readonly endpoints: readonly [string, string];
  /** Side of the client, once decided (SYN sender, else the sender of the link message). */
  clientSide?: 0 | 1;
  /** Side that sent the SYN (or received the SYN-ACK), when seen. */
  synSide?: 0 | 1;
  /** Side that sent the first payload. */
  firstPayloadSide?: 0 | 1;
  /** Packets seen on this connection, both directions. */
  packets: number;
  /** 1-based number of the connection's latest packet in the file. */
  lastPacketNumber: number;
  /** Timestamp of the connection's latest packet, ns. */
  lastTsNs: bigint;
  /** FIN seen, per side. */
  finished: [boolean, boolean];
  /** RST seen from either side. */
  reset: boolean;
  /** Framing stopped (no link phase, framing error). */
  dead: boolean;
  /** SPICE framer fed with both directions' reassembled bytes. */
  framer: SpiceConnectionFramer;
  /** TCP reassembler per side, created at the side's first segment. */
  reassemblers: [TcpReassembler | undefined, TcpReassembler | undefined];
}

/** What one packet turned into. */
export interface PushResult {
  /** The packet decoded down to its transport payload. */
  decoded: DecodedPacket;
  /** The packet's connection (TCP only). */
  connection?: TrackedConnection;
  /** Sender side within the connection. */
  side?: 0 | 1;
  /** Units completed by this packet. */
  events: MessageEvent[];
}

const REDQ = [0x52, 0x45, 0x44, 0x51];
const NO_EVENTS: MessageEvent[] = [];
const KNOWN_CHANNELS = new Set<number>(Object.values(CHANNEL_TYPES));

function startsWithRedq(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === REDQ[0] && b[1] === REDQ[1] && b[2] === REDQ[2] &&
    b[3] === REDQ[3];
}

/** The framer's link-phase results (a fresh read, so type narrowing does not go stale). */
function linkState(f: SpiceConnectionFramer): {
  link?: LinkMessage;
  reply?: LinkReply;
  linkResult?: number;
} {
  return { link: f.link, reply: f.reply, linkResult: f.linkResult };
}

/**
 * The push-style core of {@link readSpiceMessages}: feed records one at a time, get the units
 * each completes. `check` drives it directly to see every packet with its connection.
 */
export class SpiceStreamReader {
  readonly #file?: string;
  readonly #onProblem: (p: StreamProblem) => void;
  readonly #maxMessageBytes?: number;
  readonly #byKey = new Map<string, TrackedConnection>();
  readonly #all: TrackedConnection[] = [];

  /**
   * Starts a reader with no connections.
   *
   * @param options file name, problem sink, limits
   */
  constructor(options: ReadMessagesOptions = {}) {
    this.#file = options.file;
    this.#onProblem = options.onProblem ?? (() => {});
    this.#maxMessageBytes = options.maxMessageBytes;
  }

  /** Connections seen so far, in order of their first packet. */
  get connections(): readonly TrackedConnection[] {
    return this.#all;
  }

  #problem(
    kind: string,
    packetNumber: number,
    message: string,
    conn?: TrackedConnection,
    fromClient?: boolean,
  ): void {
    this.#onProblem({ kind, packetNumber, connection: conn?.info, fromClient, message });
  }

  /**
   * Processes one record.
   *
   * @param record the capture record
   * @param decoded the record already decoded (saves a second decode), else decoded here
   * @returns the decoded packet, its connection and side, and the units it completed
   */
  push(record: CaptureRecord, decoded?: DecodedPacket): PushResult {
    const p = decoded ?? decodePacket(record.data, record.linkType, {
      originalLength: record.originalLength,
    });
    const n = record.packetNumber;
    const tcp = p.tcp;
    if (p.protocol !== IP_PROTOCOL.TCP || tcp === undefined) {
      const why = p.problems.length > 0 ? p.problems.join("; ") : `IP protocol ${p.protocol}`;
      this.#problem("not-tcp", n, `not a TCP packet (${why})`);
      return { decoded: p, events: NO_EVENTS };
    }
    const src = `${p.srcIp}:${p.srcPort}`;
    const dst = `${p.dstIp}:${p.dstPort}`;
    const key = src < dst ? `${src}-${dst}` : `${dst}-${src}`;
    let conn = this.#byKey.get(key);
    const pureSyn = (tcp.flags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN;
    if (conn && pureSyn && (conn.reset || conn.finished[0] || conn.finished[1])) {
      conn = undefined; // the port pair is reused by a new connection
    }
    if (!conn) {
      conn = this.#newConnection(key, src, dst, p);
    }
    const side: 0 | 1 = conn.endpoints[0] === src ? 0 : 1;
    conn.packets++;
    conn.lastPacketNumber = n;
    conn.lastTsNs = record.tsNs;
    if (p.truncated || record.data.length < record.originalLength) {
      this.#problem(
        "snapped",
        n,
        `packet cut by the snap length (${record.data.length} of ${record.originalLength} bytes)`,
        conn,
      );
    }
    if (tcp.flags & TCP_FLAGS.SYN) {
      const synSide: 0 | 1 = tcp.flags & TCP_FLAGS.ACK ? (1 - side) as 0 | 1 : side;
      if (conn.synSide === undefined) {
        conn.synSide = synSide;
        if (conn.clientSide === undefined) this.#decideClient(conn, synSide);
      }
    }
    if (tcp.flags & TCP_FLAGS.RST) conn.reset = true;
    let events = NO_EVENTS;
    const payload = p.payload;
    if (payload.length > 0 && conn.firstPayloadSide === undefined) {
      conn.firstPayloadSide = side;
      this.#firstPayload(conn, side, payload, n);
    }
    if (!conn.dead && (tcp.flags & TCP_FLAGS.ACK)) {
      // An ack beyond what the other side's reassembly holds means capture loss: resync there.
      const peer = conn.reassemblers[1 - side];
      if (peer !== undefined) {
        const got = this.#reassembled(
          conn,
          (1 - side) as 0 | 1,
          peer.acknowledged(tcp.ack, n),
          record,
        );
        if (got.length > 0) events = got;
      }
    }
    if (!conn.dead && (payload.length > 0 || (tcp.flags & (TCP_FLAGS.SYN | TCP_FLAGS.FIN)))) {
      const r = (conn.reassemblers[side] ??= new TcpReassembler());
      const result = r.push({ seq: tcp.seq, flags: tcp.flags, payload, packetNumber: n });
      const got = this.#reassembled(conn, side, result, record);
      if (got.length > 0) events = events.length > 0 ? events.concat(got) : got;
    }
    if (tcp.flags & TCP_FLAGS.FIN) conn.finished[side] = true;
    return { decoded: p, connection: conn, side, events };
  }

  /** Reports reassembly events and frames the in-order bytes of one side. */
  #reassembled(
    conn: TrackedConnection,
    side: 0 | 1,
    result: ReassemblyResult,
    record: { packetNumber: number; tsNs: bigint },
  ): MessageEvent[] {
    const fromClient = side === conn.clientSide;
    for (const ev of result.events) {
      this.#problem(
        ev.kind,
        ev.packetNumber,
        `${ev.kind}: expected seq ${ev.expectedSeq}, got seq ${ev.seq} (${ev.length} bytes)`,
        conn,
        fromClient,
      );
    }
    if (result.data.length === 0 || conn.clientSide === undefined || conn.dead) return NO_EVENTS;
    return this.#frame(conn, fromClient, result.data, record);
  }

  #newConnection(key: string, src: string, dst: string, p: DecodedPacket): TrackedConnection {
    const conn: TrackedConnection = {
      info: {
        index: this.#all.length,
        clientIp: p.srcIp,
        clientPort: p.srcPort,
        serverIp: p.dstIp,
        serverPort: p.dstPort,
      },
      endpoints: [src, dst],
      packets: 0,
      lastPacketNumber: 0,
      lastTsNs: 0n,
      finished: [false, false],
      reset: false,
      dead: false,
      framer: new SpiceConnectionFramer(
        this.#maxMessageBytes ? { maxMessageBytes: this.#maxMessageBytes } : {},
      ),
      reassemblers: [undefined, undefined],
    };
    this.#byKey.set(key, conn);
    this.#all.push(conn);
    return conn;
  }

  #decideClient(conn: TrackedConnection, side: 0 | 1): void {
    conn.clientSide = side;
    const [c, s] = side === 0 ? conn.endpoints : [conn.endpoints[1], conn.endpoints[0]];
    const ci = c.lastIndexOf(":");
    const si = s.lastIndexOf(":");
    conn.info.clientIp = c.slice(0, ci);
    conn.info.clientPort = Number(c.slice(ci + 1));
    conn.info.serverIp = s.slice(0, si);
    conn.info.serverPort = Number(s.slice(si + 1));
  }

  #firstPayload(conn: TrackedConnection, side: 0 | 1, payload: Uint8Array, n: number): void {
    const redq = startsWithRedq(payload);
    if (conn.clientSide === undefined) {
      if (redq) this.#decideClient(conn, side);
      else {
        conn.dead = true;
        this.#problem(
          "no-link",
          n,
          "connection does not start with a SPICE link message (REDQ): " +
            "the capture starts after the link phase or this is not SPICE",
          conn,
        );
      }
      return;
    }
    if (side !== conn.clientSide) {
      this.#problem(
        "direction",
        n,
        `the first payload comes from the side that answered the SYN (${conn.endpoints[side]})` +
          (redq
            ? " and is a link message: the client's link is missing or the sides are swapped"
            : ""),
        conn,
        false,
      );
      // The SYN says who connected; without the client's link message the stream cannot be framed.
      conn.dead = true;
    } else if (!redq) {
      conn.dead = true;
      this.#problem(
        "no-link",
        n,
        "the client's first payload is not a SPICE link message (REDQ)",
        conn,
        true,
      );
    }
  }

  #frame(
    conn: TrackedConnection,
    fromClient: boolean,
    chunks: Uint8Array[],
    record: { packetNumber: number; tsNs: bigint },
  ): MessageEvent[] {
    const framer = conn.framer;
    const hadLink = linkState(framer).link !== undefined;
    const hadReply = linkState(framer).reply !== undefined;
    const hadResult = linkState(framer).linkResult !== undefined;
    let units: SpiceUnit[] | undefined;
    try {
      for (const chunk of chunks) {
        const got = fromClient ? framer.pushClient(chunk) : framer.pushServer(chunk);
        if (got.length > 0) units = units ? units.concat(got) : got;
      }
      // Server units wait for the client link (header format); release them once it is known.
      if (fromClient && !hadLink && framer.link !== undefined && framer.pending(false) > 0) {
        const more = framer.pushServer(new Uint8Array(0));
        if (more.length > 0) units = units ? units.concat(more) : more;
      }
    } catch (e) {
      if (!(e instanceof SpiceFramingError)) throw e;
      conn.dead = true;
      this.#problem("framing", record.packetNumber, e.message, conn, fromClient);
    }
    const now = linkState(framer);
    if (!hadLink && now.link !== undefined) {
      const link = now.link;
      conn.info.channelType = link.channelType;
      conn.info.channelId = link.channelId;
      conn.info.connectionId = link.connectionId;
      if (!KNOWN_CHANNELS.has(link.channelType)) {
        this.#problem(
          "unknown-channel",
          record.packetNumber,
          `link names ${channelName(link.channelType)}`,
          conn,
          true,
        );
      }
    }
    if (!hadReply && now.reply !== undefined && now.reply.error !== 0) {
      const e = now.reply.error;
      this.#problem(
        "link-refused",
        record.packetNumber,
        `link reply error ${e} (${linkErrorName(e)})`,
        conn,
        false,
      );
    }
    if (!hadResult && now.linkResult !== undefined && now.linkResult !== 0) {
      const e = now.linkResult;
      this.#problem(
        "link-refused",
        record.packetNumber,
        `link result ${e} (${linkErrorName(e)})`,
        conn,
        false,
      );
    }
    if (!units) return NO_EVENTS;
    const events: MessageEvent[] = new Array(units.length);
    for (let i = 0; i < units.length; i++) {
      events[i] = {
        connection: conn.info,
        unit: units[i],
        tsNs: record.tsNs,
        packetNumber: record.packetNumber,
        file: this.#file,
      };
    }
    return events;
  }

  /**
   * Reports what the end of the input leaves unfinished: connections whose link phase never
   * completed and bytes that do not form a whole unit.
   */
  finish(): MessageEvent[] {
    let events = NO_EVENTS;
    for (const conn of this.#all) {
      for (const side of [0, 1] as const) {
        const r = conn.reassemblers[side];
        if (r === undefined || r.bufferedBytes === 0 || conn.dead) continue;
        const at = { packetNumber: conn.lastPacketNumber, tsNs: conn.lastTsNs };
        const got = this.#reassembled(conn, side, r.flush(), at);
        if (got.length > 0) events = events.concat(got);
      }
    }
    for (const conn of this.#all) {
      if (conn.dead || conn.clientSide === undefined || conn.firstPayloadSide === undefined) {
        continue;
      }
      const f = conn.framer;
      const refused = (f.reply !== undefined && f.reply.error !== 0) ||
        (f.linkResult !== undefined && f.linkResult !== 0);
      if (f.linkResult === undefined && !refused) {
        const closed = conn.reset || conn.finished[0] || conn.finished[1];
        this.#problem(
          "link-incomplete",
          conn.lastPacketNumber,
          `link phase did not complete (${
            f.link === undefined
              ? "no link message"
              : f.reply === undefined
              ? "no link reply"
              : "no link result"
          })${closed ? "; the connection was closed" : "; the capture ends"}`,
          conn,
        );
      }
      for (const fromClient of [true, false]) {
        const pending = f.pending(fromClient);
        if (pending > 0 && !f.failed(fromClient)) {
          this.#problem(
            "incomplete-message",
            conn.lastPacketNumber,
            `${pending} byte(s) at the end of the ${fromClient ? "client" : "server"} stream ` +
              "do not form a whole SPICE unit",
            conn,
            fromClient,
          );
        }
      }
    }
    return events;
  }
}

/**
 * Reads SPICE units from capture records, in capture order.
 *
 * @param records capture records (e.g. from readCaptureFile)
 * @param options file name for events, problem sink
 * @returns an async generator of message events; problems go to `onProblem`, never thrown
 * @example
 * ```ts
 * for await (const ev of readSpiceMessages(readCaptureFile("x.pcap"))) console.log(ev.unit.name);
 * ```
 */
export async function* readSpiceMessages(
  records: AsyncIterable<CaptureRecord>,
  options: ReadMessagesOptions = {},
): AsyncGenerator<MessageEvent> {
  const reader = new SpiceStreamReader(options);
  for await (const record of records) {
    const { events } = reader.push(record);
    for (const ev of events) yield ev;
  }
  for (const ev of reader.finish()) yield ev;
}
