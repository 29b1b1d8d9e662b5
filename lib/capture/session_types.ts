/** Public types of `CaptureSession`: its options, connections and counters. */
import type { Direction } from "../net/types.ts";
import type { CaptureFormat, TsResolution } from "../pcap/types.ts";
import type { SpiceUnit } from "../spice/types.ts";
import type { Clock } from "./clock.ts";
import type { FlightRingStats } from "./flight_units.ts";
import type { ServerInfo } from "./manifest.ts";

/** Options of `CaptureSession.create`. */
export interface CaptureSessionOptions {
  /** Channel file format. @default "pcap" */
  format?: CaptureFormat;
  /** Timestamp resolution written. @default "ns" */
  tsResolution?: TsResolution;
  /** Synthetic server port; 5900 reproduces the original design (Wireshark then needs Decode As). @default 5930 */
  serverPort?: number;
  /** Timestamps as time since the session start (from the epoch) instead of wall time. @default false */
  relativeTime?: boolean;
  /** Timestamp source. @default systemClock() */
  clock?: Clock;
  /** Packets queued while a file's sink is backed up; beyond this they are dropped and counted. @default 256 */
  queueLength?: number;
  /** Buffered bytes per file above which the sink counts as backed up. @default 16 MiB */
  maxBufferedBytes?: number;
  /** Buffered bytes per file that start a write without waiting for the timer. @default 4 MiB */
  flushThresholdBytes?: number;
  /** Period of the flush (and provisional manifest) timer; 0 disables it. @default 1000 */
  flushIntervalMs?: number;
  /** Opens a channel file; tests pass failing or in-memory sinks. @default fileSink */
  sinkFactory?: (path: string) => WritableStream<Uint8Array>;
  /** host:port being captured, for the manifest. @default null */
  target?: string | null;
  /** How the server was started, for the manifest. @default null */
  server?: ServerInfo | null;
  /** Diagnostics. @default ignore */
  logger?: (level: "debug" | "info" | "warn", message: string) => void;
}

/** One TCP connection of a channel, as handed out by `CaptureSession.openConnection`. */
export interface ChannelConnection {
  /**
   * Records client → server bytes as one packet (split only above the MSS). `unit` is the
   * SPICE unit they are, when framed (a flight ring keeps link pieces apart; files ignore it).
   */
  sent(bytes: Uint8Array, comment?: string, unit?: SpiceUnit): void;
  /** Records server → client bytes as one packet; see {@link ChannelConnection.sent}. */
  received(bytes: Uint8Array, comment?: string, unit?: SpiceUnit): void;
  /**
   * Bytes of a direction the capture does not hold (a flight-recorder snapshot that starts
   * mid-stream): the sender's sequence number jumps by `length`, and the peer's pure ACK of
   * them marks the gap.
   */
  skip(fromClient: boolean, length: number): void;
  /**
   * Records the bytes of a unit the connection ended inside (framed no further) as its last
   * segment in that direction, counted in the channel's `partialBytes`.
   */
  partial(fromClient: boolean, bytes: Uint8Array, comment?: string): void;
  /**
   * Records the connection's end: the FIN exchange, or with `resetBy` one RST sent in that
   * direction ("toServer": the client reset it). Idempotent.
   */
  close(options?: { resetBy?: Direction }): void;
  /** Synthetic client port of this connection. */
  readonly clientPort: number;
}

/** Counters of one channel. */
export interface ChannelStats {
  /** SPICE channel type number. */
  type: number;
  /** Channel type name, e.g. "display". */
  typeName: string;
  /** SPICE channel id. */
  id: number;
  /** Capture file name in the session directory. */
  file: string;
  /** TCP connections recorded (reconnections included). */
  connections: number;
  /** Data-carrying TCP segments written, per direction. */
  packets: { sent: number; received: number };
  /** TCP payload bytes written, per direction. */
  bytes: { sent: number; received: number };
  /** Packets not written: queue full, or the file had failed. */
  dropped: number;
  /** Payload bytes of the dropped packets, per direction. */
  droppedBytes: { sent: number; received: number };
  /** Payload bytes of units cut short by their connection's end, recorded as final segments. */
  partialBytes: { sent: number; received: number };
  /** Write errors of the file. */
  errors: number;
}

/** Snapshot of a session's counters. */
export interface SessionStats {
  /** One entry per channel (type, id), in the order they opened. */
  channels: ChannelStats[];
  /** Sum of the channels' drops. */
  dropped: number;
  /** Sum of the channels' write errors. */
  errors: number;
  /** Connections of unknown channel types, not recorded. */
  skipped: number;
  /** Connections relayed but in no channel file (listed under the manifest's `unrecorded`). */
  unrecorded: number;
  /** Packets waiting in the queue. */
  queued: number;
  /** The flight recorder's (`capture --ring`): what its ring holds, and the snapshots. */
  ring?: FlightRingStats;
}
