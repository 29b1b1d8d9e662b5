/**
 * One channel's capture file inside a `CaptureSession`: its writer, its connections (each a
 * synthetic TCP flow), its counters, and what a write failure does to them.
 */
import { TcpFlow } from "../net/tcp_flow.ts";
import type { Direction } from "../net/types.ts";
import { createWriter } from "../pcap/writer.ts";
import type { CaptureFormat, InPlaceCaptureWriter, TsResolution } from "../pcap/types.ts";
import { channelName } from "../spice/tables.ts";
import { releasesChunks } from "./file_sink.ts";
import type { DirectionCounts } from "./manifest.ts";
import { channelFileName, CLIENT_IP, CLIENT_MAC, SERVER_IP, SERVER_MAC } from "./naming.ts";
import type { ChannelConnection, ChannelStats } from "./session_types.ts";

/** What one queued operation of a connection does: a data direction, or a flow event. */
export type OpKind = Direction | "open" | "close" | "reset" | "skip";

/** Bytes of a direction that the capture does not hold (`ChannelConnection.skip`). */
export interface Skip {
  /** The direction whose sequence numbers jump. */
  direction: Direction;
  /** How many bytes are missing. */
  length: number;
}

/** Data packets and payload bytes of a channel, per direction. */
export interface Counts {
  /** Data-carrying packets. */
  packets: DirectionCounts;
  /** Payload bytes. */
  bytes: DirectionCounts;
}

/** A channel's file, its connections and counters. */
export interface Channel {
  /** SPICE channel type. */
  type: number;
  /** SPICE channel id. */
  id: number;
  /** File name in the session directory. */
  file: string;
  /** The file's writer. */
  writer: InPlaceCaptureWriter;
  /** Every connection of the channel, in the order they opened. */
  connections: Connection[];
  /** The connection `packetSent` / `packetReceived` record on. */
  current?: Connection;
  /** The counters reported by `stats()` and the manifest. */
  stats: ChannelStats;
  /** The file failed: nothing more is written to it. */
  failed: boolean;
  /** The flush in progress, if any. */
  flushing?: Promise<void>;
  /** The counts as of the last flush the sink accepted: surely in the file. */
  flushed: Counts;
}

/** A copy of a channel's data counts. */
export function countsOf(stats: ChannelStats): Counts {
  return { packets: { ...stats.packets }, bytes: { ...stats.bytes } };
}

/** Where a connection hands what it records: the session's data path. */
export interface ConnectionHost {
  /** Records one operation; positional because it runs for every relayed chunk. */
  _offer(conn: Connection, kind: OpKind, bytes?: Uint8Array, comment?: string): void;
  /** Records a gap in the connection's byte stream. */
  _skip(conn: Connection, skip: Skip): void;
}

/** What a {@link Connection} is made of. */
export interface ConnectionInit {
  /** The session's data path. */
  host: ConnectionHost;
  /** The channel the connection belongs to. */
  channel: Channel;
  /** Its synthetic client port. */
  clientPort: number;
  /** When it opened, ns since the epoch. */
  openedNs: bigint;
  /** The synthetic server port. */
  serverPort: number;
}

/** One TCP connection of a channel: a synthetic flow in the channel's file. */
export class Connection implements ChannelConnection {
  /** The synthetic TCP flow the connection's bytes are framed as. */
  readonly flow: TcpFlow;
  /** The session's data path. */
  readonly host: ConnectionHost;
  /** The channel the connection belongs to. */
  readonly channel: Channel;
  /** Its synthetic client port. */
  readonly clientPort: number;
  /** When it opened, ns since the epoch. */
  readonly openedNs: bigint;
  /** When its end was framed. */
  closedNs?: bigint;
  /** `close` was called. */
  closed = false;
  /** Direction of the RST that ended the connection, when it was reset. */
  resetBy?: Direction;

  /** A connection of `init.channel`, not yet opened in the file. */
  constructor(init: ConnectionInit) {
    this.host = init.host;
    this.channel = init.channel;
    this.clientPort = init.clientPort;
    this.openedNs = init.openedNs;
    this.flow = new TcpFlow({
      clientIp: CLIENT_IP,
      serverIp: SERVER_IP,
      clientPort: init.clientPort,
      serverPort: init.serverPort,
      clientMac: CLIENT_MAC,
      serverMac: SERVER_MAC,
    });
  }
  /** See {@link ChannelConnection.sent}. */
  sent(bytes: Uint8Array, comment?: string): void {
    this.host._offer(this, "toServer", bytes, comment);
  }
  /** See {@link ChannelConnection.received}. */
  received(bytes: Uint8Array, comment?: string): void {
    this.host._offer(this, "toClient", bytes, comment);
  }
  /** See {@link ChannelConnection.partial}; positional as the interface is (per relayed chunk). */
  partial(fromClient: boolean, bytes: Uint8Array, comment?: string): void {
    this.channel.stats.partialBytes[fromClient ? "sent" : "received"] += bytes.length;
    this.host._offer(this, fromClient ? "toServer" : "toClient", bytes, comment);
  }
  /** See {@link ChannelConnection.skip}. */
  skip(fromClient: boolean, length: number): void {
    if (length > 0) {
      this.host._skip(this, { direction: fromClient ? "toServer" : "toClient", length });
    }
  }
  /** See {@link ChannelConnection.close}. */
  close(options: { resetBy?: Direction } = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.resetBy = options.resetBy;
    this.host._offer(this, options.resetBy ? "reset" : "close");
  }
}

/**
 * Bytes a channel file's writer gathers per write: a bulk channel then costs a quarter of the
 * system calls and thread wake-ups of 1 MiB writes (measured in `deno task bench --only
 * record`); the session's flush threshold is the same.
 */
export const CHUNK_BYTES = 4 << 20;

/** Where and how {@link openChannelFile} writes. */
export interface ChannelFileOptions {
  /** SPICE channel type. */
  type: number;
  /** SPICE channel id. */
  id: number;
  /** The session directory. */
  dir: string;
  /** Capture file format. */
  format: CaptureFormat;
  /** Timestamp resolution written. */
  tsResolution: TsResolution;
  /** Opens the file. */
  sinkFactory: (path: string) => WritableStream<Uint8Array>;
}

/** Opens a channel's file and its writer, with zero counters and no connection yet. */
export function openChannelFile(options: ChannelFileOptions): Channel {
  const { type, id, format, tsResolution, sinkFactory } = options;
  const file = channelFileName({ type, id }, format);
  const sink = sinkFactory(`${options.dir}/${file}`);
  const writer = createWriter(format, sink, {
    tsResolution,
    // A file sink is done with a chunk once its write resolves; other sinks may keep chunks.
    recycleChunks: releasesChunks(sinkFactory),
    chunkBytes: CHUNK_BYTES,
    interfaces: [{
      name: file,
      description: `SPICE ${channelName(type)} channel ${id}`,
      tsResolution,
    }],
  });
  return {
    type,
    id,
    file,
    writer,
    connections: [],
    failed: false,
    flushed: { packets: { sent: 0, received: 0 }, bytes: { sent: 0, received: 0 } },
    stats: {
      type,
      typeName: channelName(type),
      id,
      file,
      connections: 0,
      packets: { sent: 0, received: 0 },
      bytes: { sent: 0, received: 0 },
      dropped: 0,
      droppedBytes: { sent: 0, received: 0 },
      partialBytes: { sent: 0, received: 0 },
      errors: 0,
    },
  };
}

/**
 * Counts a write error of the channel's file. The first one fails the file: what was framed
 * after the last accepted flush may not be in it, so it is counted dropped.
 *
 * @returns the error line for the manifest on the first failure, else null
 */
export function failChannel(ch: Channel, e: unknown): string | null {
  ch.stats.errors++;
  if (ch.failed) return null;
  ch.failed = true;
  const s = ch.stats;
  for (const dir of ["sent", "received"] as const) {
    s.dropped += s.packets[dir] - ch.flushed.packets[dir];
    s.droppedBytes[dir] += s.bytes[dir] - ch.flushed.bytes[dir];
  }
  s.packets = { ...ch.flushed.packets };
  s.bytes = { ...ch.flushed.bytes };
  return `${ch.file}: ${e instanceof Error ? e.message : String(e)}`;
}
