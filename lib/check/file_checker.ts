/**
 * Checks one capture file record by record: time order, TCP sequence and acknowledgement
 * invariants per connection and direction, client/server direction, and SPICE framing.
 */
import type { CaptureRecord } from "../pcap/types.ts";
import { SpiceStreamReader } from "../session/messages.ts";
import type {
  ConnectionInfo,
  MessageEvent,
  PushResult,
  StreamProblem,
  TrackedConnection,
} from "../session/types.ts";
import { channelName } from "../spice/tables.ts";
import type { Finding, Severity } from "./findings.ts";
import type { ObservedChannel } from "./manifest_checks.ts";
import { TcpConnectionChecker } from "./tcp_checks.ts";
import type { SnapshotMidStream } from "../capture/manifest_snapshot.ts";
import { MidStreamAllowance } from "./mid_stream.ts";
import {
  OUR_CLIENT_IP,
  OUR_DEFAULT_SERVER_PORT,
  OUR_SERVER_IP,
  ourAddressingProblem,
  ourHandshakeProblem,
} from "./our_addressing.ts";

export {
  OUR_CLIENT_IP,
  OUR_DEFAULT_SERVER_PORT,
  OUR_MIN_CLIENT_PORT,
  OUR_SERVER_IP,
} from "./our_addressing.ts";

/** Options of {@link FileChecker}. */
export interface FileCheckOptions {
  /** Name used in findings. */
  file: string;
  /**
   * Whether the file is one of our captures (strict addressing, no retransmissions). When
   * undefined it is decided from the first TCP packet: 10.0.0.1 ↔ 10.0.0.2 means ours.
   */
  ours?: boolean;
  /** Our synthetic server port. @default 5930 */
  serverPort?: number;
  /** Receives findings as they are found. */
  onFinding: (f: Finding) => void;
  /** The manifest's `snapshot.midStream` entries of this file: their jumps are information. */
  midStream?: readonly SnapshotMidStream[];
}

/** Totals of one file. */
export interface FileCheckResult {
  /** Records read from the file. */
  packets: number;
  /** SPICE units (link pieces and messages). */
  messages: number;
  /** TCP connections seen (tshark's tcp.stream count). */
  connections: number;
  /** Counts comparable with the manifest. */
  observed: ObservedChannel;
  /** Whether the file was checked as one of our captures (given, or decided from addressing). */
  ours: boolean;
}

/** Problem kinds of the stream reader that the TCP checker already covers. */
const REASSEMBLY_KINDS = new Set(["gap", "overlap", "retransmission", "outOfOrder"]);
/** Findings reported once per file and counted after that. */
const AGGREGATED = new Set(["not-tcp", "snapped", "unknown-message"]);

interface ConnState {
  tcp: TcpConnectionChecker;
  /** Packet number of the first TCP-level error, after which SPICE findings are consequences. */
  tcpErrorAt?: number;
}

function flowText(c: ConnectionInfo, fromClient: boolean | undefined): string {
  const client = `${c.clientIp}:${c.clientPort}`;
  const server = `${c.serverIp}:${c.serverPort}`;
  if (fromClient === false) return `${server} → ${client}`;
  if (fromClient === true) return `${client} → ${server}`;
  return `${client} ↔ ${server}`;
}

/**
 * Checks one capture file. Push every record in order, then call {@link FileChecker.finish}.
 *
 * @example
 * ```ts
 * const c = new FileChecker({ file: "main.pcap", onFinding: (f) => findings.push(f) });
 * for await (const r of readCaptureFile("main.pcap")) c.push(r);
 * const totals = c.finish();
 * ```
 */
export class FileChecker {
  readonly #file: string;
  readonly #serverPort: number;
  readonly #emit: (f: Finding) => void;
  readonly #reader: SpiceStreamReader;
  readonly #midStream?: MidStreamAllowance;
  readonly #conns = new Map<number, ConnState>();
  readonly #aggregated = new Map<string, { count: number; first: Finding }>();
  #ours: boolean | undefined;
  #lastTs: bigint | undefined;
  #lastTsPacket = 0;
  #packets = 0;
  #messages = 0;
  #observed: ObservedChannel = {
    packets: { sent: 0, received: 0 },
    bytes: { sent: 0, received: 0 },
    clientPorts: [],
    serverPorts: [],
  };

  /**
   * Starts a checker for one file; nothing is read until {@link FileChecker.push}.
   *
   * @param options file name, ours/foreign, server port, finding sink
   */
  constructor(options: FileCheckOptions) {
    this.#file = options.file;
    this.#ours = options.ours;
    this.#serverPort = options.serverPort ?? OUR_DEFAULT_SERVER_PORT;
    this.#emit = options.onFinding;
    if (options.midStream?.length) this.#midStream = new MidStreamAllowance(options.midStream);
    this.#reader = new SpiceStreamReader({
      file: options.file,
      onProblem: (p) => this.#onProblem(p),
    });
  }

  #finding(f: Omit<Finding, "file">): void {
    const full: Finding = { file: this.#file, ...f };
    if (AGGREGATED.has(f.code)) {
      const key = f.code === "unknown-message" ? `${f.code} ${f.channel} ${f.message}` : f.code;
      const seen = this.#aggregated.get(key);
      if (seen) {
        seen.count++;
        return;
      }
      this.#aggregated.set(key, { count: 1, first: full });
    }
    this.#emit(full);
  }

  #connState(info: ConnectionInfo): ConnState {
    let s = this.#conns.get(info.index);
    if (!s) {
      s = { tcp: new TcpConnectionChecker({ strict: this.#ours === true }) };
      this.#conns.set(info.index, s);
    }
    return s;
  }

  #onProblem(p: StreamProblem): void {
    if (REASSEMBLY_KINDS.has(p.kind)) return;
    const ours = this.#ours === true;
    const conn = p.connection;
    const state = conn ? this.#conns.get(conn.index) : undefined;
    const after = state?.tcpErrorAt;
    const consequence = after !== undefined && p.packetNumber >= after;
    let code = p.kind;
    let severity: Severity = "error";
    let expected: string | undefined;
    switch (p.kind) {
      case "not-tcp":
        severity = ours ? "error" : "warning";
        expected = "TCP over IPv4/IPv6";
        break;
      case "no-link":
        code = "framing";
        expected = "the connection's first payload to be a SPICE link message (REDQ)";
        break;
      case "framing":
        expected = "a valid SPICE unit";
        break;
      case "direction":
        expected = "the SYN sender to send the link message";
        break;
      case "unknown-channel":
      case "link-refused":
        severity = "warning";
        break;
      case "link-incomplete": {
        const tracked = conn ? this.#reader.connections[conn.index] : undefined;
        const closed = tracked !== undefined && isClosed(tracked);
        severity = closed ? "warning" : "error";
        expected = "link message, link reply, [auth mechanism,] ticket, link result";
        break;
      }
      case "incomplete-message":
        severity = ours ? "error" : "warning";
        break;
    }
    if (consequence && severity === "error") severity = "warning";
    this.#finding({
      severity,
      code,
      packetNumber: p.packetNumber,
      flow: conn ? flowText(conn, p.fromClient) : undefined,
      channel: conn?.channelType !== undefined ? channelName(conn.channelType) : undefined,
      message: consequence ? `${p.message} (after the TCP error at packet ${after})` : p.message,
      expected,
    });
  }

  /**
   * Checks one record.
   *
   * @param record the next record of the file
   */
  push(record: CaptureRecord): void {
    this.#packets++;
    this.#checkTime(record);
    const result = this.#reader.push(record);
    this.#messages += result.events.length;
    this.#checkUnknownMessages(result.events);
    const { decoded, connection: conn, side } = result;
    if (!conn || side === undefined || !decoded.tcp) return;
    if (this.#ours === undefined) {
      this.#ours = (decoded.srcIp === OUR_CLIENT_IP && decoded.dstIp === OUR_SERVER_IP) ||
        (decoded.srcIp === OUR_SERVER_IP && decoded.dstIp === OUR_CLIENT_IP);
    }
    const isNew = conn.packets === 1;
    const directionReported = this.#checkSegment(result, record.packetNumber);
    if (this.#ours) {
      const handshake = isNew ? ourHandshakeProblem(result, record.packetNumber) : undefined;
      if (handshake) this.#finding(handshake);
      const addressing = directionReported
        ? undefined
        : ourAddressingProblem(result, { record, serverPort: this.#serverPort });
      if (addressing) this.#finding(addressing);
    }
    this.#countPayload(result);
  }

  /** Timestamps never go back. */
  #checkTime(record: CaptureRecord): void {
    const n = record.packetNumber;
    if (this.#lastTs !== undefined && record.tsNs < this.#lastTs) {
      this.#finding({
        severity: "error",
        code: "time-backwards",
        packetNumber: n,
        message: `timestamp is ${this.#lastTs - record.tsNs} ns earlier than packet ` +
          `${this.#lastTsPacket}'s`,
        expected: `≥ ${this.#lastTs} ns`,
        actual: `${record.tsNs} ns`,
      });
    }
    this.#lastTs = record.tsNs;
    this.#lastTsPacket = n;
  }

  /** Messages whose type is not in the tables. */
  #checkUnknownMessages(events: readonly MessageEvent[]): void {
    for (const ev of events) {
      const u = ev.unit;
      if (u.kind === "message" && u.name !== undefined && u.name.startsWith("unknown(")) {
        const info = ev.connection;
        this.#finding({
          severity: "warning",
          code: "unknown-message",
          packetNumber: ev.packetNumber,
          flow: flowText(info, u.fromClient),
          channel: info.channelType !== undefined ? channelName(info.channelType) : undefined,
          message: `${u.fromClient ? "client" : "server"} message type ${u.type} is not in ` +
            "the tables",
        });
      }
    }
  }

  /**
   * The TCP invariants of one segment of a connection (`result` has its connection, side and
   * TCP header), reported or excused as mid-stream.
   *
   * @returns whether a direction finding was reported
   */
  #checkSegment(result: PushResult, n: number): boolean {
    const conn = result.connection!;
    const side = result.side!;
    const tcp = result.decoded.tcp!;
    const state = this.#connState(conn.info);
    const findings = state.tcp.segment(side, {
      packetNumber: n,
      seq: tcp.seq,
      ack: tcp.ack,
      flags: tcp.flags,
      payloadLength: result.decoded.payload.length,
    });
    const channel = conn.info.channelType !== undefined
      ? channelName(conn.info.channelType)
      : undefined;
    let directionReported = false;
    for (const f of findings) {
      const excused = this.#midStream?.excuse(conn.info.clientPort, f);
      if (excused !== undefined) {
        this.#finding({
          severity: "info",
          code: "mid-stream",
          packetNumber: n,
          flow: `${conn.endpoints[side]} → ${conn.endpoints[1 - side]}`,
          channel,
          message: excused,
        });
        continue;
      }
      const sender = f.code === "direction" ? (1 - side) as 0 | 1 : side;
      if (f.severity === "error") state.tcpErrorAt ??= n;
      if (f.code === "direction") directionReported = true;
      this.#finding({
        severity: f.severity,
        code: f.code,
        packetNumber: n,
        flow: `${conn.endpoints[side]} → ${conn.endpoints[1 - side]}`,
        channel,
        message: f.code === "direction"
          ? `${f.message} (its bytes belong to ${conn.endpoints[sender]} → ` +
            `${conn.endpoints[1 - sender]})`
          : f.message,
        expected: f.expected,
        actual: f.actual,
      });
    }
    return directionReported;
  }

  /** Adds a segment's payload to the observed counts of its direction. */
  #countPayload(result: PushResult): void {
    const { decoded, connection: conn, side } = result;
    const payloadLength = decoded.payload.length;
    if (payloadLength === 0) return;
    const fromClient = conn!.clientSide === undefined ? undefined : side === conn!.clientSide;
    const sent = this.#ours ? decoded.srcIp === OUR_CLIENT_IP : fromClient === true;
    if (sent) {
      this.#observed.packets.sent++;
      this.#observed.bytes.sent += payloadLength;
    } else {
      this.#observed.packets.received++;
      this.#observed.bytes.received += payloadLength;
    }
  }

  /**
   * Ends the file: reports unfinished connections and the counts of aggregated findings.
   *
   * @returns the file's totals
   */
  finish(): FileCheckResult {
    this.#messages += this.#reader.finish().length;
    for (const { count, first } of this.#aggregated.values()) {
      if (count > 1) {
        this.#emit({
          ...first,
          message: `${
            count - 1
          } more packet(s) like packet ${first.packetNumber}: ${first.message}`,
          packetNumber: undefined,
        });
      }
    }
    const conns = this.#reader.connections;
    for (const c of conns) {
      if (c.clientSide !== undefined) this.#observed.clientPorts.push(c.info.clientPort);
    }
    this.#observed.serverPorts = [
      ...new Set(conns.filter((c) => c.clientSide !== undefined).map((c) => c.info.serverPort)),
    ];
    return {
      packets: this.#packets,
      messages: this.#messages,
      connections: conns.length,
      observed: this.#observed,
      ours: this.#ours === true,
    };
  }
}

function isClosed(c: TrackedConnection): boolean {
  return c.reset || c.finished[0] || c.finished[1];
}
