/**
 * Splits both byte streams of one SPICE TCP connection into units: the link-phase pieces and then
 * whole messages (docs/protocol.md "Link phase"). Works on chunks of any size; a unit that lies
 * wholly inside one pushed chunk is returned as a subarray of it, only units spanning chunks are
 * copied.
 */
import {
  AUTH_MECHANISM_BYTES,
  AUTH_MECHANISM_SASL,
  AUTH_MECHANISM_SPICE,
  COMMON_CAP,
  FULL_HEADER_BYTES,
  hasCap,
  LINK_HEADER_BYTES,
  LINK_MESSAGE_FIXED_BYTES,
  LINK_REPLY_FIXED_BYTES,
  LINK_RESULT_BYTES,
  type LinkMessage,
  type LinkReply,
  MAX_LINK_SIZE,
  MINI_HEADER_BYTES,
  parseLinkMessage,
  parseLinkReply,
  SPICE_MAGIC,
  TICKET_BYTES,
} from "./link.ts";
import { u16le, u32le } from "../bytes.ts";
import { ChunkQueue } from "./_chunk_queue.ts";
import { unpackSubMessages } from "./_sub_messages.ts";
import { linkErrorName, messageName } from "./tables.ts";
import {
  SpiceFramingError,
  type SpiceLinkKind,
  type SpiceLinkUnit,
  type SpiceMessage,
  type SpiceUnit,
} from "./types.ts";

/** Options for {@link SpiceConnectionFramer}. */
export interface SpiceFramerOptions {
  /** Largest message body accepted, in bytes. @default 67108864 (64 MiB) */
  maxMessageBytes?: number;
  /**
   * Keep no reference to a pushed chunk after the push: the caller may reuse its memory once
   * it has used the units the push returned (a relay's buffer, a ring slot). Bytes still
   * pending are copied (each at most once). Units are then valid only until the caller reuses
   * the chunk or pushes the same direction again. @default false: chunks are kept by
   * reference, units stay valid
   */
  borrowChunks?: boolean;
}

/** Default {@link SpiceFramerOptions.maxMessageBytes}. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Common server message type of MSG_LIST. */
const MSG_LIST = 8;
const MAGIC_BYTES = 4;
const LINK_SIZE_FIELD = 12;
const FULL_SERIAL_HIGH = 4;
const MINI_SIZE_FIELD = 2;
const FULL_TYPE_FIELD = 8;
const FULL_SIZE_FIELD = 10;
const FULL_SUB_LIST_FIELD = 14;

type ClientState = "link" | "auth" | "ticket" | "messages" | "closed";
type ServerState = "reply" | "result" | "messages" | "closed";

/** Per-direction parsing state. */
interface Side {
  fromClient: boolean;
  queue: ChunkQueue;
  /** Stream offset of the queue's first byte. */
  consumed: number;
  messages: number;
  failed: boolean;
}

function newSide(o: { fromClient: boolean; borrowed: boolean }): Side {
  const queue = new ChunkQueue({ borrowed: o.borrowed });
  return { fromClient: o.fromClient, queue, consumed: 0, messages: 0, failed: false };
}

/**
 * Frames both directions of one SPICE TCP connection. The client's link message decides the
 * header format (mini iff common cap MINI_HEADER) and whether an auth mechanism word precedes the
 * ticket (iff common cap PROTOCOL_AUTH_SELECTION); a failed link reply or link result ends both
 * directions. Units come back in stream order, per direction, from the push of that direction.
 * Server messages pushed before the client link is known wait in the buffer until the next
 * `pushServer` (an empty chunk is fine).
 *
 * @example
 * const framer = new SpiceConnectionFramer();
 * for (const unit of framer.pushClient(chunk)) console.log(unit.kind, unit.name);
 */
export class SpiceConnectionFramer {
  #maxMessageBytes: number;
  #client: Side;
  #server: Side;
  #clientState: ClientState = "link";
  #serverState: ServerState = "reply";
  #clientClosedWhy = "";
  #serverClosedWhy = "";
  #link?: LinkMessage;
  #reply?: LinkReply;
  #linkResult?: number;
  #authMechanism?: number;
  #miniHeader?: boolean;

  /**
   * Creates a framer for one connection, expecting the client link message first.
   *
   * @param options limits; see {@link SpiceFramerOptions}
   */
  constructor(options: SpiceFramerOptions = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    const borrowed = options.borrowChunks ?? false;
    this.#client = newSide({ fromClient: true, borrowed });
    this.#server = newSide({ fromClient: false, borrowed });
  }

  /** The client link message, once framed. */
  get link(): LinkMessage | undefined {
    return this.#link;
  }
  /** The server link reply, once framed. */
  get reply(): LinkReply | undefined {
    return this.#reply;
  }
  /** The server's u32 link result, once framed (absent when the reply already failed). */
  get linkResult(): number | undefined {
    return this.#linkResult;
  }
  /** The client's auth mechanism word, when it sent one. */
  get authMechanism(): number | undefined {
    return this.#authMechanism;
  }
  /** Header format of this connection's messages, known once the client link is framed. */
  get miniHeader(): boolean | undefined {
    return this.#miniHeader;
  }
  /** Channel type from the client link. */
  get channelType(): number | undefined {
    return this.#link?.channelType;
  }
  /** Channel id from the client link. */
  get channelId(): number | undefined {
    return this.#link?.channelId;
  }

  /**
   * Frames client → server bytes.
   *
   * @param chunk the next bytes of the client stream; never modified, kept by reference unless
   *   {@link SpiceFramerOptions.borrowChunks}
   * @returns the units completed by this chunk, in stream order
   * @throws {SpiceFramingError} invalid data; the direction then refuses further input
   */
  pushClient(chunk: Uint8Array): SpiceUnit[] {
    return this.#push(this.#client, chunk);
  }

  /**
   * Frames server → client bytes.
   *
   * @param chunk the next bytes of the server stream; never modified, kept by reference unless
   *   {@link SpiceFramerOptions.borrowChunks}
   * @returns the units completed by this chunk, in stream order
   * @throws {SpiceFramingError} invalid data; the direction then refuses further input
   */
  pushServer(chunk: Uint8Array): SpiceUnit[] {
    return this.#push(this.#server, chunk);
  }

  /** Bytes received in a direction that do not yet form a whole unit. */
  pending(fromClient: boolean): number {
    return (fromClient ? this.#client : this.#server).queue.length;
  }

  /**
   * Removes and returns the bytes of a direction that do not yet form a whole unit, for a
   * stream that ended inside a unit.
   *
   * @param fromClient the direction
   * @returns the pending bytes (a copy when they span chunks; empty when none); with
   *   {@link SpiceFramerOptions.borrowChunks}, valid until the next push of the direction
   */
  takePending(fromClient: boolean): Uint8Array {
    const side = fromClient ? this.#client : this.#server;
    const n = side.queue.length;
    const bytes = n === 0 ? new Uint8Array(0) : side.queue.take(n);
    side.consumed += n;
    return bytes;
  }

  /** Whether a direction stopped at invalid data. */
  failed(fromClient: boolean): boolean {
    return (fromClient ? this.#client : this.#server).failed;
  }

  #push(side: Side, chunk: Uint8Array): SpiceUnit[] {
    if (side.failed) {
      throw new SpiceFramingError("no more input after the framing error reported earlier", {
        offset: side.consumed,
        fromClient: side.fromClient,
      });
    }
    side.queue.push(chunk);
    // Most chunks complete zero or one unit: size the array for that, grow it when needed.
    let units: SpiceUnit[] | undefined;
    try {
      for (;;) {
        const unit = side.fromClient ? this.#nextClient(side) : this.#nextServer(side);
        if (!unit) break;
        if (units === undefined) units = [unit];
        else units.push(unit);
      }
    } catch (e) {
      side.failed = true;
      throw e;
    }
    side.queue.settle();
    return units ?? [];
  }

  // Hot path (per message): positional parameters, no options object.
  #fail(side: Side, at: number, expected: string): never {
    throw new SpiceFramingError(expected, {
      offset: side.consumed + at,
      fromClient: side.fromClient,
    });
  }

  // Hot path (per message): positional parameters, no options object.
  #take(side: Side, kind: SpiceLinkKind, length: number): SpiceLinkUnit {
    const offset = side.consumed;
    const bytes = side.queue.take(length);
    side.consumed += length;
    return { kind, fromClient: side.fromClient, bytes, offset };
  }

  // Hot path (per message): positional parameters, no options object.
  /** Length of a link header + body at the queue head, validated, or undefined if unknown yet. */
  #linkLength(side: Side, minSize: number, what: string): number | undefined {
    const q = side.queue;
    if (q.length < LINK_HEADER_BYTES) {
      if (q.length >= MAGIC_BYTES) this.#checkMagic(side);
      return undefined;
    }
    this.#checkMagic(side);
    const b = q.peek(LINK_HEADER_BYTES);
    const i = q.peeked;
    const size = u32le(b, i + LINK_SIZE_FIELD);
    if (size < minSize || size > MAX_LINK_SIZE) {
      this.#fail(
        side,
        LINK_SIZE_FIELD,
        `${what} size between ${minSize} and ${MAX_LINK_SIZE}, found ${size}`,
      );
    }
    return LINK_HEADER_BYTES + size;
  }

  #checkMagic(side: Side): void {
    const b = side.queue.peek(MAGIC_BYTES);
    const i = side.queue.peeked;
    const magic = u32le(b, i);
    if (magic !== SPICE_MAGIC) {
      this.#fail(side, 0, `link magic "REDQ", found 0x${magic.toString(16).padStart(8, "0")}`);
    }
  }

  // Hot path (per message): positional parameters, no options object.
  /** Parses a link-phase unit, moving parser errors to stream offsets. */
  #parseAt<T>(side: Side, offset: number, parse: () => T): T {
    try {
      return parse();
    } catch (e) {
      if (!(e instanceof SpiceFramingError)) throw e;
      throw new SpiceFramingError(e.expected, {
        offset: offset + e.offset,
        fromClient: side.fromClient,
      });
    }
  }

  #nextClient(side: Side): SpiceUnit | undefined {
    const q = side.queue;
    switch (this.#clientState) {
      case "link": {
        const length = this.#linkLength(side, LINK_MESSAGE_FIXED_BYTES, "link message");
        if (length === undefined || q.length < length) return undefined;
        const unit = this.#take(side, "link", length);
        const link = this.#parseAt(side, unit.offset, () => parseLinkMessage(unit.bytes));
        this.#link = link;
        this.#miniHeader = hasCap(link.commonCaps, COMMON_CAP.MINI_HEADER);
        this.#clientState = hasCap(link.commonCaps, COMMON_CAP.AUTH_SELECTION) ? "auth" : "ticket";
        return unit;
      }
      case "auth": {
        if (q.length < AUTH_MECHANISM_BYTES) return undefined;
        const b = q.peek(AUTH_MECHANISM_BYTES);
        const i = q.peeked;
        const mechanism = u32le(b, i);
        if (mechanism === AUTH_MECHANISM_SASL) {
          this.#fail(
            side,
            0,
            "auth mechanism 1 (SPICE ticket): SASL authentication is not supported",
          );
        }
        const unit = this.#take(side, "authMechanism", AUTH_MECHANISM_BYTES);
        this.#authMechanism = mechanism;
        if (mechanism === AUTH_MECHANISM_SPICE) {
          this.#clientState = "ticket";
        } else {
          this.#closeClient(`the unknown auth mechanism ${mechanism}`);
        }
        return unit;
      }
      case "ticket": {
        if (q.length < TICKET_BYTES) return undefined;
        const unit = this.#take(side, "ticket", TICKET_BYTES);
        if (this.#serverState === "closed") this.#closeClient(this.#serverClosedWhy);
        else this.#clientState = "messages";
        return unit;
      }
      case "messages":
        return this.#nextMessage(side);
      case "closed":
        if (q.length > 0) this.#fail(side, 0, `no data after ${this.#clientClosedWhy}`);
        return undefined;
    }
  }

  #nextServer(side: Side): SpiceUnit | undefined {
    const q = side.queue;
    switch (this.#serverState) {
      case "reply": {
        const length = this.#linkLength(side, LINK_REPLY_FIXED_BYTES, "link reply");
        if (length === undefined || q.length < length) return undefined;
        const unit = this.#take(side, "linkReply", length);
        const reply = this.#parseAt(side, unit.offset, () => parseLinkReply(unit.bytes));
        if (this.#reply === undefined) this.#reply = reply;
        if (reply.error !== 0) {
          this.#closeBoth(`link reply error ${reply.error} (${linkErrorName(reply.error)})`, false);
        } else this.#serverState = "result";
        return unit;
      }
      case "result": {
        if (q.length < LINK_RESULT_BYTES) return undefined;
        const b = q.peek(LINK_RESULT_BYTES);
        const i = q.peeked;
        if (u32le(b, i) === SPICE_MAGIC) {
          // spice-server answers an unknown auth mechanism with a second, failing link reply.
          this.#serverState = "reply";
          return this.#nextServer(side);
        }
        const unit = this.#take(side, "linkResult", LINK_RESULT_BYTES);
        const result = u32le(unit.bytes, 0);
        this.#linkResult = result;
        if (result !== 0) this.#closeBoth(`link result ${result} (${linkErrorName(result)})`, true);
        else this.#serverState = "messages";
        return unit;
      }
      case "messages":
        return this.#miniHeader === undefined ? undefined : this.#nextMessage(side);
      case "closed":
        if (q.length > 0) this.#fail(side, 0, `no data after ${this.#serverClosedWhy}`);
        return undefined;
    }
  }

  #closeClient(why: string): void {
    this.#clientState = "closed";
    this.#clientClosedWhy = why;
  }

  /** The server failed the link: it sends nothing more, and neither does the client. */
  #closeBoth(why: string, afterTicket: boolean): void {
    this.#serverState = "closed";
    this.#serverClosedWhy = why;
    // Only close what the client cannot have sent yet; bytes already framed stay framed.
    const notYetSent = afterTicket
      ? this.#clientState === "messages" && this.#client.messages === 0
      : this.#clientState === "auth" || this.#clientState === "ticket";
    if (notYetSent) this.#closeClient(why);
  }

  #nextMessage(side: Side): SpiceMessage | undefined {
    const q = side.queue;
    const mini = this.#miniHeader!;
    const headerSize = mini ? MINI_HEADER_BYTES : FULL_HEADER_BYTES;
    if (q.length < headerSize) return undefined;
    const h = q.peek(headerSize);
    const i = q.peeked;
    const size = u32le(h, i + (mini ? MINI_SIZE_FIELD : FULL_SIZE_FIELD));
    if (size > this.#maxMessageBytes) {
      this.#fail(
        side,
        mini ? MINI_SIZE_FIELD : FULL_SIZE_FIELD,
        `message size ≤ ${this.#maxMessageBytes} (maxMessageBytes), found ${size}`,
      );
    }
    const type = u16le(h, i + (mini ? 0 : FULL_TYPE_FIELD));
    const serial = mini
      ? undefined
      : BigInt(u32le(h, i)) + (BigInt(u32le(h, i + FULL_SERIAL_HIGH)) << 32n);
    const subList = mini ? 0 : u32le(h, i + FULL_SUB_LIST_FIELD);
    if (q.length < headerSize + size) return undefined;
    const offset = side.consumed;
    const bytes = q.take(headerSize + size);
    side.consumed += headerSize + size;
    const channel = this.#link?.channelType ?? 0;
    // One literal with every field, so all messages share one object shape.
    const unit: SpiceMessage = {
      kind: "message",
      fromClient: side.fromClient,
      bytes,
      offset,
      index: side.messages++,
      type,
      name: messageName(channel, { fromClient: side.fromClient, type }),
      headerSize,
      serial,
      subMessages: undefined,
    };
    const listAt = subList !== 0 ? subList : (!side.fromClient && type === MSG_LIST ? 0 : -1);
    if (listAt >= 0) {
      unit.subMessages = unpackSubMessages(unit, { channel, listAt });
    }
    return unit;
  }
}
