/**
 * The synthetic TCP connection of one captured channel: sequence and acknowledgement numbers,
 * handshake, MSS splitting, receive-window acknowledgements and teardown, turned into frames.
 */
import {
  CLIENT_MAC,
  FRAME_HEADER_BYTES,
  MAX_FRAME_PAYLOAD_BYTES,
  SERVER_MAC,
  writeFrame,
} from "./frame.ts";
import { numberToIpv4 } from "./ipv4.ts";
import { type Direction, type FrameSpec, TCP_FLAGS } from "./types.ts";

/** Options of {@link TcpFlow}. */
export interface TcpFlowOptions {
  /** Client IPv4 address as an unsigned 32-bit number. */
  clientIp: number;
  /** Server IPv4 address as an unsigned 32-bit number. */
  serverIp: number;
  /** Client TCP port. */
  clientPort: number;
  /** Server TCP port. */
  serverPort: number;
  /** Initial sequence number of the client. @default 1000 */
  clientIsn?: number;
  /** Initial sequence number of the server. @default 1000 */
  serverIsn?: number;
  /** Largest payload per segment, 1..65495. @default 65495 (IPv4 total length 65535) */
  mss?: number;
  /** Client MAC address, 6 bytes. @default 02:00:00:00:00:01 */
  clientMac?: Uint8Array;
  /** Server MAC address, 6 bytes. @default 02:00:00:00:00:02 */
  serverMac?: Uint8Array;
  /** Receive window both sides advertise, 1..65535. @default 65535 */
  window?: number;
  /**
   * Let the receiver send a pure ACK before a segment that would fill its window, so bytes in
   * flight never reach `window` (as with a real TCP stack). Off gives exactly one frame per
   * segment; tshark 4.0 raises no warning either way, since no window scale is negotiated.
   * @default true
   */
  windowAcks?: boolean;
}

/** One frame produced by a {@link TcpFlow}. */
export interface FlowFrame {
  /**
   * The frame bytes, never written again by the flow. Small frames are views into a shared
   * slab (`frame.buffer` holds other frames too): copy or slice before transferring the buffer.
   */
  frame: Uint8Array;
  /** Sender: "toServer" for the client, "toClient" for the server. */
  direction: Direction;
  /** TCP payload bytes in the frame (0 for SYN, FIN and pure ACK frames). */
  payloadLength: number;
}

/**
 * Destination of the zero-copy methods ({@link TcpFlow.sendInto} and friends): the flow asks
 * for room, writes the frame straight into `buffer`, then calls `commit` (when present).
 */
export interface FrameSink {
  // Hot path (per packet): positional parameters, no options object.
  /**
   * Makes room for one frame and returns the offset in {@link FrameSink.buffer} where it goes.
   * The sink may replace `buffer` here (to grow it); the flow reads `buffer` after each call.
   */
  reserve(frameLength: number, direction: Direction, payloadLength: number): number;
  /** Buffer that the offsets returned by `reserve` refer to. */
  readonly buffer: Uint8Array;
  /**
   * Called right after the frame of the last `reserve` was written, before the next
   * `reserve`, e.g. to commit a record a capture writer opened in `reserve`.
   */
  commit?(): void;
}

/** Thrown when sending on a {@link TcpFlow} that was closed. */
export class FlowClosedError extends Error {
  /** Error name. */
  override name = "FlowClosedError";
  /** Direction of the rejected send. */
  readonly direction: Direction;
  /**
   * Creates the error.
   *
   * @param message what was refused on which connection
   * @param direction direction of the rejected send
   */
  constructor(message: string, direction: Direction) {
    super(message);
    this.direction = direction;
  }
}

const DEFAULT_ISN = 1000;
const DEFAULT_WINDOW = 0xffff;
const ACK = TCP_FLAGS.ACK;

interface Side {
  /** Frame fields reused for every frame this side sends. */
  spec: FrameSpec;
  /** Sequence number of the next byte (or SYN/FIN) this side sends. */
  next: number;
  /** Last acknowledgement number this side sent: what the peer knows is received. */
  acked: number;
}

/** `(seq + n) mod 2^32` for seq, n in 0..2^32-1 (`>>> 0` is that, without a float modulo). */
function addSeq(seq: number, n: number): number {
  return (seq + n) >>> 0;
}

/** Bytes per slab that the copying methods carve frames from. */
const SLAB_BYTES = 256 * 1024;
/** Frames larger than this get an array of their own. */
const SLAB_MAX_FRAME = SLAB_BYTES / 4;

/**
 * Sink of the copying methods. Small frames are views carved from a slab that is never reused
 * (allocating a typed array costs far more than a view: ~0.4 µs for 154 bytes, ~1.5 µs for
 * 1454, against ~0.05 µs), so a frame is never overwritten once returned.
 */
class FrameCollector implements FrameSink {
  buffer: Uint8Array = new Uint8Array(0);
  frames: FlowFrame[] = [];
  #slab: Uint8Array = new Uint8Array(0);
  #used = 0;

  // Hot path (per packet): positional parameters, no options object.
  reserve(frameLength: number, direction: Direction, payloadLength: number): number {
    let frame: Uint8Array;
    if (frameLength > SLAB_MAX_FRAME) {
      frame = new Uint8Array(frameLength);
    } else {
      if (this.#used + frameLength > this.#slab.length) {
        this.#slab = new Uint8Array(SLAB_BYTES);
        this.#used = 0;
      }
      frame = new Uint8Array(this.#slab.buffer, this.#used, frameLength);
      this.#used += frameLength;
    }
    this.buffer = frame;
    this.frames.push({ frame, direction, payloadLength });
    return 0;
  }

  /** The frames collected since the last call. */
  take(): FlowFrame[] {
    const frames = this.frames;
    this.frames = [];
    return frames;
  }
}

/**
 * One synthetic TCP connection between a client and a server, producing Ethernet/IPv4/TCP frames
 * that Wireshark follows without analysis warnings.
 *
 * - `open()` gives SYN, SYN-ACK, ACK; each side's sequence starts at its ISN and SYN counts one.
 * - `send()` splits a payload into segments of at most `mss` bytes; the last carries PSH|ACK,
 *   the others ACK; every segment acknowledges everything the peer sent. Before a segment that
 *   would fill the peer's receive window, the peer first sends a pure ACK, as a real receiver
 *   would; those frames are returned too (direction = the peer, payloadLength 0).
 * - `close()` gives FIN/ACK from the initiator, FIN/ACK from the other side, then the final ACK.
 * - `send()` or `close()` before `open()` open implicitly (handshake frames come first);
 *   `send()` after `close()` throws {@link FlowClosedError}; a second `close()` returns nothing.
 * - IPv4 identification counts frames per direction; sequence numbers wrap modulo 2^32.
 *
 * The `…Into` methods write the same frames into a {@link FrameSink} without allocating them.
 *
 * @example
 * ```ts
 * const flow = new TcpFlow({ clientIp: 0x0a000001, serverIp: 0x0a000002, clientPort: 10001, serverPort: 5930 });
 * const frames = [...flow.open(), ...flow.send("toServer", link), ...flow.close()];
 * ```
 */
export class TcpFlow {
  #client: Side;
  #server: Side;
  #mss: number;
  #window: number;
  #windowAcks: boolean;
  #opened = false;
  #closed = false;
  #name: string;
  #collector = new FrameCollector();

  /**
   * Creates a flow in the closed-before-open state; no frames until the first call.
   *
   * @param options addresses, ports, ISNs, MSS and MACs
   * @throws {RangeError} when `mss` or `window` is out of range
   */
  constructor(options: TcpFlowOptions) {
    const mss = options.mss ?? MAX_FRAME_PAYLOAD_BYTES;
    if (!Number.isInteger(mss) || mss < 1 || mss > MAX_FRAME_PAYLOAD_BYTES) {
      throw new RangeError(`TcpFlow mss must be 1..${MAX_FRAME_PAYLOAD_BYTES}, got ${mss}`);
    }
    const window = options.window ?? DEFAULT_WINDOW;
    if (!Number.isInteger(window) || window < 1 || window > 0xffff) {
      throw new RangeError(`TcpFlow window must be 1..65535, got ${window}`);
    }
    this.#mss = mss;
    this.#window = window;
    this.#windowAcks = options.windowAcks ?? true;
    const clientMac = options.clientMac ?? CLIENT_MAC;
    const serverMac = options.serverMac ?? SERVER_MAC;
    const clientIsn = (options.clientIsn ?? DEFAULT_ISN) >>> 0;
    const serverIsn = (options.serverIsn ?? DEFAULT_ISN) >>> 0;
    const side = (src: "client" | "server", isn: number): Side => {
      const c = src === "client";
      return {
        spec: {
          srcMac: c ? clientMac : serverMac,
          dstMac: c ? serverMac : clientMac,
          srcIp: c ? options.clientIp : options.serverIp,
          dstIp: c ? options.serverIp : options.clientIp,
          srcPort: c ? options.clientPort : options.serverPort,
          dstPort: c ? options.serverPort : options.clientPort,
          seq: 0,
          ack: 0,
          flags: 0,
          window,
          ipId: 0,
          ttl: 64,
        },
        next: isn,
        acked: 0,
      };
    };
    this.#client = side("client", clientIsn);
    this.#server = side("server", serverIsn);
    this.#name = `${numberToIpv4(options.clientIp)}:${options.clientPort} ↔ ` +
      `${numberToIpv4(options.serverIp)}:${options.serverPort}`;
  }

  /** Whether the handshake frames have been produced. */
  get opened(): boolean {
    return this.#opened;
  }

  /** Whether the teardown frames have been produced. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sequence number of the next byte the sender of `direction` will send.
   *
   * @param direction "toServer" for the client's sequence, "toClient" for the server's
   */
  nextSeq(direction: Direction): number {
    return this.#sender(direction).next;
  }

  /** SYN, SYN-ACK, ACK (nothing when already open). */
  open(): FlowFrame[] {
    this.openInto(this.#collector);
    return this.#collector.take();
  }

  /**
   * Frames carrying `payload` from the sender of `direction` (handshake first if not open).
   * An empty payload gives no data frame.
   *
   * @throws {FlowClosedError} after {@link TcpFlow.close}
   */
  send(direction: Direction, payload: Uint8Array): FlowFrame[] {
    this.sendInto(direction, payload, this.#collector);
    return this.#collector.take();
  }

  /**
   * FIN/ACK from `initiator`'s sender, FIN/ACK back, final ACK (handshake first if not open;
   * nothing when already closed).
   *
   * @param initiator direction of the first FIN @default "toServer"
   */
  close(initiator: Direction = "toServer"): FlowFrame[] {
    this.closeInto(this.#collector, initiator);
    return this.#collector.take();
  }

  /**
   * Zero-copy {@link TcpFlow.open}.
   *
   * @returns frames written
   */
  openInto(sink: FrameSink): number {
    if (this.#opened) return 0;
    this.#opened = true;
    const client = this.#client, server = this.#server;
    this.#emit(client, "toServer", TCP_FLAGS.SYN, 0, undefined, sink);
    client.next = addSeq(client.next, 1);
    this.#emit(server, "toClient", TCP_FLAGS.SYN | ACK, client.next, undefined, sink);
    server.next = addSeq(server.next, 1);
    this.#emit(client, "toServer", ACK, server.next, undefined, sink);
    return 3;
  }

  // Hot path (per packet): positional parameters, no options object.
  /**
   * Zero-copy {@link TcpFlow.send}: the frames go straight into `sink`.
   *
   * @returns frames written
   * @throws {FlowClosedError} after {@link TcpFlow.close}
   */
  sendInto(direction: Direction, payload: Uint8Array, sink: FrameSink): number {
    if (this.#closed) {
      throw new FlowClosedError(
        `Cannot send ${payload.length} bytes ${direction} on ${this.#name}: the connection is closed`,
        direction,
      );
    }
    const count = this.openInto(sink);
    const sender = this.#sender(direction);
    const receiver = this.#receiver(direction);
    const back: Direction = direction === "toServer" ? "toClient" : "toServer";
    const mss = this.#mss;
    const length = payload.length;
    let frames = count;
    for (let start = 0; start < length; start += mss) {
      const end = Math.min(length, start + mss);
      const segment = end - start;
      const inFlight = (sender.next - receiver.acked) >>> 0; // mod 2^32
      // Never fill the peer's window (Wireshark flags "window full"): the peer ACKs first.
      if (this.#windowAcks && inFlight > 0 && inFlight + segment >= this.#window) {
        this.#emit(receiver, back, ACK, sender.next, undefined, sink);
        frames++;
      }
      const flags = end === length ? TCP_FLAGS.PSH | ACK : ACK;
      const part = start === 0 && end === length ? payload : payload.subarray(start, end);
      this.#emit(sender, direction, flags, receiver.next, part, sink);
      sender.next = addSeq(sender.next, segment);
      frames++;
    }
    return frames;
  }

  /**
   * Zero-copy {@link TcpFlow.close}.
   *
   * @returns frames written
   */
  closeInto(sink: FrameSink, initiator: Direction = "toServer"): number {
    if (this.#closed) return 0;
    const count = this.openInto(sink);
    this.#closed = true;
    const first = this.#sender(initiator);
    const second = this.#receiver(initiator);
    const back: Direction = initiator === "toServer" ? "toClient" : "toServer";
    this.#emit(first, initiator, TCP_FLAGS.FIN | ACK, second.next, undefined, sink);
    first.next = addSeq(first.next, 1);
    this.#emit(second, back, TCP_FLAGS.FIN | ACK, first.next, undefined, sink);
    second.next = addSeq(second.next, 1);
    this.#emit(first, initiator, ACK, second.next, undefined, sink);
    return count + 3;
  }

  /**
   * Ends the connection with one RST/ACK from the sender of `direction`, as when a socket is
   * reset (handshake first if not open; nothing when already closed). No FIN exchange follows.
   *
   * @param sink where the frame goes
   * @param direction "toServer": the client resets; "toClient": the server does
   * @returns frames written
   */
  resetInto(sink: FrameSink, direction: Direction): number {
    if (this.#closed) return 0;
    const count = this.openInto(sink);
    this.#closed = true;
    const sender = this.#sender(direction);
    const receiver = this.#receiver(direction);
    this.#emit(sender, direction, TCP_FLAGS.RST | ACK, receiver.next, undefined, sink);
    return count + 1;
  }

  // Hot path (per packet): positional parameters, no options object.
  /**
   * Bytes the sender of `direction` sent that the capture does not hold: its sequence number
   * jumps by `length`, and the receiver's pure ACK of them marks the gap (readers resume there
   * at once; Wireshark shows "ACKed unseen segment"). Handshake first if not open.
   *
   * @param direction whose bytes are missing
   * @param length bytes missing, > 0 (0 writes nothing)
   * @param sink where the ACK frame goes
   * @returns frames written
   */
  skipInto(direction: Direction, length: number, sink: FrameSink): number {
    if (this.#closed || length <= 0) return 0;
    const count = this.openInto(sink);
    const sender = this.#sender(direction);
    sender.next = addSeq(sender.next, length % 0x1_0000_0000);
    const back: Direction = direction === "toServer" ? "toClient" : "toServer";
    this.#emit(this.#receiver(direction), back, ACK, sender.next, undefined, sink);
    return count + 1;
  }

  #sender(direction: Direction): Side {
    return direction === "toServer" ? this.#client : this.#server;
  }

  #receiver(direction: Direction): Side {
    return direction === "toServer" ? this.#server : this.#client;
  }

  // Hot path (per packet): positional parameters, no options object.
  #emit(
    side: Side,
    direction: Direction,
    flags: number,
    ack: number,
    payload: Uint8Array | undefined,
    sink: FrameSink,
  ): void {
    const data = payload ?? EMPTY;
    const spec = side.spec;
    spec.seq = side.next;
    spec.ack = ack;
    spec.flags = flags;
    const offset = sink.reserve(FRAME_HEADER_BYTES + data.length, direction, data.length);
    writeFrame(spec, data, sink.buffer, offset);
    sink.commit?.();
    spec.ipId = ((spec.ipId ?? 0) + 1) & 0xffff;
    if (flags & ACK) side.acked = ack;
  }
}

const EMPTY = new Uint8Array(0);
