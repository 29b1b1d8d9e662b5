/**
 * The data path of a `CaptureSession`: frames each packet of a connection straight into its
 * channel's writer, or queues it (bounded) while that writer's sink is backed up, or drops and
 * counts it when the queue is full or the file has failed. It never blocks and never throws.
 */
import type { Direction } from "../net/types.ts";
import {
  type Channel,
  type Connection,
  type ConnectionHost,
  countsOf,
  type OpKind,
  type Skip,
} from "./_channel_file.ts";
import { WriterFrameSink } from "./_writer_frame_sink.ts";

const NS_PER_SECOND = 1_000_000_000n;

/** One operation waiting in the session's queue while a file's sink is backed up. */
interface Op {
  /** The connection it belongs to. */
  conn: Connection;
  /** What it does. */
  kind: OpKind;
  /** When it was offered, ns since the epoch. */
  tsNs: bigint;
  /** The payload of a data operation (a copy). */
  bytes?: Uint8Array;
  /** The packet comment, when the format keeps one. */
  comment?: string;
  /** The gap of a "skip". */
  skip?: Skip;
}

/** Limits and time of a {@link PacketQueue}. */
export interface PacketQueueOptions {
  /** Operations queued at most while a sink is backed up; further data packets are dropped. */
  queueLength: number;
  /** Buffered bytes per file above which the sink counts as backed up. */
  maxBufferedBytes: number;
  /** Buffered bytes per file that start a write at once. */
  flushThresholdBytes: number;
  /** Timestamps written as time since `startNs`. */
  relativeTime: boolean;
  /** When the session started, ns since the epoch. */
  startNs: bigint;
  /** The session's clock, never going back. */
  now: () => bigint;
  /** Called when a file's write fails. */
  fail: (ch: Channel, e: unknown) => void;
}

/** Frames the operations of every connection of a session, in the order they were offered. */
export class PacketQueue implements ConnectionHost {
  /** The session is closing: data and gaps offered from now on are not written. */
  closing = false;
  readonly #opts: PacketQueueOptions;
  readonly #queue: Op[] = [];
  #draining?: Promise<void>;
  readonly #sink = new WriterFrameSink();
  // [#secBase, #secEnd): the whole second of the last packet written, in ns (empty at first)
  #secBase = 1n;
  #secEnd = 0n;
  #secNumber = 0;

  /** An empty queue. */
  constructor(options: PacketQueueOptions) {
    this.#opts = options;
  }

  /** Operations waiting. */
  get length(): number {
    return this.#queue.length;
  }

  /** Nothing is waiting and no drain is in progress. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#draining;
  }

  /**
   * @internal Entry of the data path; called by connections. Positional parameters: this runs
   * for every relayed chunk.
   */
  _offer(conn: Connection, kind: OpKind, bytes?: Uint8Array, comment?: string): void {
    const ch = conn.channel;
    const isData = kind === "toServer" || kind === "toClient";
    if (ch.failed || (this.closing && isData)) {
      if (isData) this.#drop(ch, kind, bytes!);
      return;
    }
    const tsNs = this.#opts.now();
    if (this.#queue.length === 0 && !this.#busy(ch)) {
      this.#encode(conn, kind, tsNs, bytes, comment);
      return;
    }
    if (isData && this.#queue.length >= this.#opts.queueLength) {
      this.#drop(ch, kind, bytes!);
      return;
    }
    this.#queue.push({ conn, kind, tsNs, bytes: bytes?.slice(), comment });
    void this.drain();
  }

  /** @internal A gap in a connection's byte stream; called by connections. */
  _skip(conn: Connection, skip: Skip): void {
    if (conn.channel.failed || this.closing) return;
    const tsNs = this.#opts.now();
    if (this.#queue.length > 0 || this.#busy(conn.channel)) {
      this.#queue.push({ conn, kind: "skip", tsNs, skip });
      return void this.drain();
    }
    this.#encode(conn, "skip", tsNs, undefined, undefined, skip);
  }

  /** Works the queue off in order; concurrent callers share the one drain in progress. */
  drain(): Promise<void> {
    this.#draining ??= this.#work().finally(() => {
      this.#draining = undefined;
      if (this.#queue.length > 0) void this.drain();
    });
    return this.#draining;
  }

  /** Writes out what the channel's writer buffers; concurrent callers share the one flush. */
  flush(ch: Channel): Promise<void> {
    const counts = countsOf(ch.stats);
    ch.flushing ??= ch.writer.flush()
      .then(() => void (ch.flushed = counts))
      .catch((e) => this.#opts.fail(ch, e))
      .finally(() => ch.flushing = undefined);
    return ch.flushing;
  }

  #busy(ch: Channel): boolean {
    return ch.writer.bufferedBytes > this.#opts.maxBufferedBytes;
  }

  /**
   * Frames one packet (or the handshake / teardown / gap) straight into the channel's writer.
   * Positional parameters: this runs for every packet.
   */
  #encode(
    conn: Connection,
    kind: OpKind,
    tsNs: bigint,
    bytes: Uint8Array | undefined,
    comment: string | undefined,
    skip?: Skip,
  ): void {
    const ch = conn.channel;
    const isData = kind === "toServer" || kind === "toClient";
    if (ch.failed || (isData && conn.flow.closed)) {
      if (isData) this.#drop(ch, kind, bytes!);
      return;
    }
    const flow = conn.flow;
    const ts = this.#opts.relativeTime ? tsNs - this.#opts.startNs : tsNs;
    if (ts < this.#secBase || ts >= this.#secEnd) {
      this.#secNumber = Number(ts / NS_PER_SECOND);
      this.#secBase = BigInt(this.#secNumber) * NS_PER_SECOND;
      this.#secEnd = this.#secBase + NS_PER_SECOND;
    }
    const sink = this.#sink;
    sink.writer = ch.writer;
    sink.seconds = this.#secNumber;
    sink.nanoseconds = Number(ts - this.#secBase);
    sink.comment = comment;
    sink.dataFrames = 0;
    if (kind === "open") flow.openInto(sink);
    else if (kind === "skip") flow.skipInto(skip!.direction, skip!.length, sink);
    else if (kind === "close" || kind === "reset") {
      conn.closedNs = tsNs;
      if (conn.resetBy) flow.resetInto(sink, conn.resetBy);
      else flow.closeInto(sink);
    } else {
      flow.sendInto(kind, bytes!, sink);
      const dir = kind === "toServer" ? "sent" : "received";
      ch.stats.packets[dir] += sink.dataFrames;
      ch.stats.bytes[dir] += bytes!.length;
    }
    sink.comment = undefined;
    if (ch.writer.bufferedBytes >= this.#opts.flushThresholdBytes) void this.flush(ch);
  }

  async #work(): Promise<void> {
    while (this.#queue.length > 0) {
      const ch = this.#queue[0].conn.channel;
      if (!ch.failed && this.#busy(ch)) {
        await this.flush(ch);
        continue;
      }
      const op = this.#queue.shift()!;
      this.#encode(op.conn, op.kind, op.tsNs, op.bytes, op.comment, op.skip);
    }
  }

  /** Counts a data packet that is not written, and its bytes; positional: per dropped packet. */
  #drop(ch: Channel, direction: Direction, bytes: Uint8Array): void {
    ch.stats.dropped++;
    ch.stats.droppedBytes[direction === "toServer" ? "sent" : "received"] += bytes.length;
  }
}
