/**
 * Reading captures back as SPICE messages: packets → TCP connections → reassembled byte streams
 * per direction → SPICE units (link phase pieces and messages), in capture order.
 */
import { decodeInto, type DecodeOptions, decodePacket } from "../net/decode.ts";
import { type ReassemblyResult, TcpReassembler } from "../net/reassembly.ts";
import { type DecodedPacket, IP_PROTOCOL, TCP_FLAGS } from "../net/types.ts";
import type { CaptureRecord } from "../pcap/types.ts";
import { SpiceConnectionFramer } from "../spice/framer.ts";
import { SpiceFramingError, type SpiceUnit } from "../spice/types.ts";
import type {
  MessageEvent,
  PushResult,
  ReadMessagesOptions,
  StreamProblem,
  TrackedConnection,
} from "./types.ts";
import {
  judgeFirstPayload,
  linkProgress,
  reportLinkProgress,
  reportUnfinished,
} from "./_link_checks.ts";

const NO_EVENTS: MessageEvent[] = Object.freeze([]) as unknown as MessageEvent[];
const EMPTY_FRAME = new Uint8Array(0);

/** A recently seen (source, destination) of a connection: packets skip the key lookup. */
interface Route {
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  conn: TrackedConnection;
  side: 0 | 1;
}

/** Where a unit was completed: packet number and time. */
interface At {
  packetNumber: number;
  tsNs: bigint;
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
  readonly #decodeOptions: DecodeOptions = {};
  /** The last route seen per sender side: most packets belong to the previous connection. */
  #recent: [Route | undefined, Route | undefined] = [undefined, undefined];
  /** The connection and sender side of the packet {@link #process} saw last (none: not TCP). */
  #conn?: TrackedConnection;
  #side: 0 | 1 = 0;
  /** The packet object {@link events} decodes every record into. */
  #scratch?: DecodedPacket;

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

  /** A problem sink for one connection at one packet. */
  #reporter(conn: TrackedConnection, packetNumber: number) {
    return (kind: string, message: string, fromClient?: boolean) =>
      this.#onProblem({ kind, packetNumber, connection: conn.info, fromClient, message });
  }

  /**
   * Processes one record.
   *
   * @param record the capture record
   * @param decoded the record already decoded (saves a second decode), else decoded here
   * @returns the decoded packet, its connection and side, and the units it completed
   */
  push(record: CaptureRecord, decoded?: DecodedPacket): PushResult {
    let p = decoded;
    if (p === undefined) {
      // One options object per reader, refilled per packet: decodePacket does not keep it.
      this.#decodeOptions.originalLength = record.originalLength;
      p = decodePacket(record.data, record.linkType, this.#decodeOptions);
    }
    const events = this.#process(record, p);
    const conn = this.#conn;
    return conn === undefined
      ? { decoded: p, events }
      : { decoded: p, connection: conn, side: this.#side, events };
  }

  /**
   * Processes one record, like {@link push}, returning only the units it completed: for readers
   * that need nothing else (the packet is decoded into one object reused for every record).
   *
   * @param record the capture record
   * @returns the units the record completed (a shared empty list when none)
   */
  events(record: CaptureRecord): readonly MessageEvent[] {
    this.#decodeOptions.originalLength = record.originalLength;
    const p = this.#scratch ??= decodePacket(EMPTY_FRAME, record.linkType);
    decodeInto(p, record.data, record.linkType, this.#decodeOptions);
    return this.#process(record, p);
  }

  /** The core of {@link push}: sets {@link #conn} and {@link #side} for the packet. */
  #process(record: CaptureRecord, p: DecodedPacket): MessageEvent[] {
    this.#conn = undefined;
    const n = record.packetNumber;
    const tcp = p.tcp;
    if (p.protocol !== IP_PROTOCOL.TCP || tcp === undefined) {
      const why = p.problems.length > 0 ? p.problems.join("; ") : `IP protocol ${p.protocol}`;
      this.#onProblem({ kind: "not-tcp", packetNumber: n, message: `not a TCP packet (${why})` });
      return NO_EVENTS;
    }
    const { conn, side } = this.#connectionOf(p, tcp.flags);
    this.#conn = conn;
    this.#side = side;
    conn.packets++;
    conn.lastPacketNumber = n;
    conn.lastTsNs = record.tsNs;
    if (p.truncated || record.data.length < record.originalLength) {
      const got = `${record.data.length} of ${record.originalLength} bytes`;
      this.#reporter(conn, n)("snapped", `packet cut by the snap length (${got})`);
    }
    if (tcp.flags & TCP_FLAGS.SYN) {
      const synSide: 0 | 1 = tcp.flags & TCP_FLAGS.ACK ? (1 - side) as 0 | 1 : side;
      if (conn.synSide === undefined) {
        conn.synSide = synSide;
        if (conn.clientSide === undefined) this.#decideClient(conn, synSide);
      }
    }
    if (tcp.flags & TCP_FLAGS.RST) conn.reset = true;
    const payload = p.payload;
    if (payload.length > 0 && conn.firstPayloadSide === undefined) {
      this.#firstPayload(conn, { side, payload, packetNumber: n });
    }
    // Reassembly: an ack may release the peer's data (capture loss: resync there), then the
    // packet's own payload. Inline: this runs for every packet.
    let events = NO_EVENTS;
    if (!conn.dead && (tcp.flags & TCP_FLAGS.ACK)) {
      const peer = conn.reassemblers[1 - side];
      if (peer !== undefined) {
        const peerSide = (1 - side) as 0 | 1;
        const got = this.#reassembled(conn, peerSide, peer.acknowledged(tcp.ack, n), record);
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
    return events;
  }

  /** The packet's connection and sender side; a new connection for an unseen or reused pair. */
  #connectionOf(p: DecodedPacket, flags: number): { conn: TrackedConnection; side: 0 | 1 } {
    let route = this.#recent[0];
    if (!route || !sameRoute(route, p)) route = this.#recent[1];
    if (!route || !sameRoute(route, p)) route = this.#lookup(p);
    const conn = route.conn;
    const pureSyn = (flags & (TCP_FLAGS.SYN | TCP_FLAGS.ACK)) === TCP_FLAGS.SYN;
    if (pureSyn && (conn.reset || conn.finished[0] || conn.finished[1])) {
      // The port pair is reused by a new connection.
      this.#recent = [undefined, undefined];
      route = this.#lookup(p, true);
    }
    this.#recent[route.side] = route;
    return route;
  }

  #lookup(p: DecodedPacket, fresh = false): Route {
    const src = `${p.srcIp}:${p.srcPort}`;
    const dst = `${p.dstIp}:${p.dstPort}`;
    const key = src < dst ? `${src}-${dst}` : `${dst}-${src}`;
    let conn = fresh ? undefined : this.#byKey.get(key);
    if (!conn) conn = this.#newConnection(p, { key, endpoints: [src, dst] });
    const side: 0 | 1 = conn.endpoints[0] === src ? 0 : 1;
    const { srcIp, srcPort, dstIp, dstPort } = p;
    return { srcIp, srcPort, dstIp, dstPort, conn, side };
  }

  /** Reports reassembly events and frames the in-order bytes of one side. */
  #reassembled(
    conn: TrackedConnection,
    side: 0 | 1,
    result: ReassemblyResult,
    at: At,
  ): MessageEvent[] {
    const fromClient = side === conn.clientSide;
    for (const ev of result.events) {
      if (ev.kind === "gap") conn.gapBytes[side] += ev.length;
      this.#onProblem({
        kind: ev.kind,
        packetNumber: ev.packetNumber,
        connection: conn.info,
        fromClient,
        message:
          `${ev.kind}: expected seq ${ev.expectedSeq}, got seq ${ev.seq} (${ev.length} bytes)`,
      });
    }
    if (result.data.length === 0 || conn.clientSide === undefined || conn.dead) return NO_EVENTS;
    const events = this.#frame(conn, fromClient, result.data, at);
    const gap = conn.gapBytes[side];
    if (gap > 0 && events.length > 0) {
      events[0].gapBefore = gap;
      conn.gapBytes[side] = 0;
    }
    return events;
  }

  #newConnection(
    p: DecodedPacket,
    ids: { key: string; endpoints: readonly [string, string] },
  ): TrackedConnection {
    const { key, endpoints } = ids;
    const conn: TrackedConnection = {
      info: {
        index: this.#all.length,
        clientIp: p.srcIp,
        clientPort: p.srcPort,
        serverIp: p.dstIp,
        serverPort: p.dstPort,
      },
      endpoints,
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
      gapBytes: [0, 0],
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

  #firstPayload(
    conn: TrackedConnection,
    first: { side: 0 | 1; payload: Uint8Array; packetNumber: number },
  ): void {
    const { side, payload, packetNumber: n } = first;
    conn.firstPayloadSide = side;
    const verdict = judgeFirstPayload(payload, {
      senderIsClient: conn.clientSide === undefined ? undefined : side === conn.clientSide,
      sender: conn.endpoints[side],
      report: this.#reporter(conn, n),
    });
    if (verdict === "client") this.#decideClient(conn, side);
    else if (verdict === "dead") conn.dead = true;
  }

  #frame(
    conn: TrackedConnection,
    fromClient: boolean,
    chunks: Uint8Array[],
    at: At,
  ): MessageEvent[] {
    const framer = conn.framer;
    // Once the link result is framed the link phase has nothing more to report.
    const before = framer.linkResult === undefined ? linkProgress(framer) : undefined;
    let units: SpiceUnit[] | undefined;
    try {
      for (const chunk of chunks) {
        const got = fromClient ? framer.pushClient(chunk) : framer.pushServer(chunk);
        if (got.length > 0) units = units ? units.concat(got) : got;
      }
      // Server units wait for the client link (header format); release them once it is known.
      if (fromClient && before && !before.link && framer.link && framer.pending(false) > 0) {
        const more = framer.pushServer(new Uint8Array(0));
        if (more.length > 0) units = units ? units.concat(more) : more;
      }
    } catch (e) {
      if (!(e instanceof SpiceFramingError)) throw e;
      conn.dead = true;
      this.#reporter(conn, at.packetNumber)("framing", e.message, fromClient);
    }
    if (before) {
      const link = framer.link;
      if (!before.link && link !== undefined) {
        conn.info.channelType = link.channelType;
        conn.info.channelId = link.channelId;
        conn.info.connectionId = link.connectionId;
      }
      reportLinkProgress(framer, { before, report: this.#reporter(conn, at.packetNumber) });
    }
    if (!units) return NO_EVENTS;
    const events: MessageEvent[] = new Array(units.length);
    for (let i = 0; i < units.length; i++) {
      events[i] = {
        connection: conn.info,
        unit: units[i],
        tsNs: at.tsNs,
        packetNumber: at.packetNumber,
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
      const closed = conn.reset || conn.finished[0] || conn.finished[1];
      reportUnfinished(conn.framer, {
        closed,
        report: this.#reporter(conn, conn.lastPacketNumber),
      });
    }
    return events;
  }
}

function sameRoute(r: Route, p: DecodedPacket): boolean {
  return r.srcPort === p.srcPort && r.dstPort === p.dstPort && r.srcIp === p.srcIp &&
    r.dstIp === p.dstIp;
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
