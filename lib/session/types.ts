/** The types of the SPICE stream reader: connections, events, problems, options. */
import type { TcpReassembler } from "../net/reassembly.ts";
import type { DecodedPacket } from "../net/types.ts";
import type { SpiceConnectionFramer } from "../spice/framer.ts";
import type { SpiceUnit } from "../spice/types.ts";

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
  /**
   * Bytes of this unit's direction that were never read just before it (a reassembly gap:
   * capture loss, or a flight-recorder snapshot that starts mid-stream), on the first unit
   * framed after them; absent otherwise.
   */
  gapBefore?: number;
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
  /** Gap bytes per side not yet handed on as a unit's `gapBefore`. */
  gapBytes: [number, number];
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
