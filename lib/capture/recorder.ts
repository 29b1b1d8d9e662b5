/**
 * The recording side of one proxied SPICE connection: frames the bytes the relay forwarded
 * and records each SPICE unit (link piece or message) as one packet on its channel.
 *
 * Nothing here may break the relay: every entry point catches what it raises and counts it.
 */
import type { Direction } from "../net/types.ts";
import type { CaptureSession, ChannelConnection } from "./session.ts";
import { SpiceConnectionFramer } from "../spice/framer.ts";
import { CHANNEL_TYPES, channelName, linkErrorName, messageType } from "../spice/tables.ts";
import type { SpiceMessage, SpiceUnit } from "../spice/types.ts";

/**
 * What a recorder records into: a {@link CaptureSession} (files), or a flight ring
 * (`lib/capture/flight_ring.ts`, memory).
 */
export type RecorderTarget = Pick<CaptureSession, "openConnection" | "nowNs" | "noteUnrecorded">;

/** What the recorder of a connection does with what it sees. */
export interface RecorderOptions {
  /** Session that receives the packets. */
  session: RecorderTarget;
  /** Record the 128-byte ticket as sent; by default it is recorded as zeros. */
  keepTicket?: boolean;
  /** Zero key codes and mouse buttons of the inputs channel in the record. */
  redactInputs?: boolean;
  /** Attach a comment per packet (pcapng only: pcap has nowhere to put it). */
  comments?: boolean;
  /** Called with MAIN_INIT's session id. */
  onSessionId?: (sessionId: number) => void;
  /** Called once per problem (framing error, recorder bug); the relay goes on. */
  onError?: (message: string) => void;
}

const ARROW_TO_SERVER = "→";
const ARROW_TO_CLIENT = "←";

/** Link-phase unit kind → words used in packet comments. */
const LINK_LABELS: Readonly<Record<string, string>> = Object.freeze({
  link: "link",
  linkReply: "link reply",
  authMechanism: "auth mechanism",
  ticket: "ticket",
  linkResult: "link result",
});

/** Byte ranges of an inputs-channel client message body that `--redact-inputs` zeroes. */
interface RedactRule {
  name: string;
  /** [start, end) in the body; end undefined = to the end of the body. */
  ranges: readonly (readonly [number, number | undefined])[];
}

/**
 * Keys (scancodes) entirely; mouse: the button and button-mask fields (docs/protocol.md
 * "Inputs").
 */
const INPUT_REDACTIONS: readonly RedactRule[] = Object.freeze([
  { name: "KEY_DOWN", ranges: [[0, undefined]] },
  { name: "KEY_UP", ranges: [[0, undefined]] },
  { name: "KEY_SCANCODE", ranges: [[0, undefined]] },
  { name: "MOUSE_MOTION", ranges: [[8, 10]] }, // i32 dx, i32 dy, u16 buttons
  { name: "MOUSE_POSITION", ranges: [[8, 10]] }, // u32 x, u32 y, u16 buttons, u8 display
  { name: "MOUSE_PRESS", ranges: [[0, 3]] }, // u8 button, u16 buttons
  { name: "MOUSE_RELEASE", ranges: [[0, 3]] },
]);

const REDACT_BY_TYPE: ReadonlyMap<number, RedactRule> = new Map(
  INPUT_REDACTIONS.flatMap((r) => {
    const type = messageType(CHANNEL_TYPES.inputs, { fromClient: true, name: r.name });
    return type === undefined ? [] : [[type, r] as const];
  }),
);

const MAIN_INIT = messageType(CHANNEL_TYPES.main, { fromClient: false, name: "INIT" }) ?? 103;

/** A copy of a message with the rule's body ranges zeroed. */
function redact(unit: SpiceMessage, rule: RedactRule): Uint8Array {
  const copy = unit.bytes.slice();
  const bodyStart = unit.headerSize;
  for (const [start, end] of rule.ranges) {
    const from = Math.min(copy.length, bodyStart + start);
    const to = end === undefined ? copy.length : Math.min(copy.length, bodyStart + end);
    copy.fill(0, from, to);
  }
  return copy;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Leading bytes of each direction kept for the manifest's `unrecorded` entries. */
const FIRST_BYTES = 16;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What one direction of a connection carried: its byte count and first bytes. */
class Relayed {
  bytes = 0;
  readonly first = new Uint8Array(FIRST_BYTES);

  add(chunk: Uint8Array): void {
    if (this.bytes < FIRST_BYTES) {
      this.first.set(chunk.subarray(0, FIRST_BYTES - this.bytes), this.bytes);
    }
    this.bytes += chunk.length;
  }

  hex(): string {
    return hex(this.first.subarray(0, Math.min(this.bytes, FIRST_BYTES)));
  }
}

/**
 * Frames and records one proxied TCP connection. Feed it the chunks the relay forwarded, in
 * order per direction; it opens the channel connection once the client link is framed.
 */
export class ConnectionRecorder {
  readonly #o: RecorderOptions;
  readonly #framer = new SpiceConnectionFramer({ borrowChunks: true });
  /** undefined until the client link is framed; null when the channel is not recorded. */
  #conn: ChannelConnection | null | undefined;
  #name = "?";
  #type = 0;
  /** Server chunks that arrived before the client link was framed (should not happen). */
  #early: Uint8Array[] = [];
  /** Per direction (client, server): once framing failed, record chunks as they come. */
  #raw = [false, false];
  #closed = false;
  /** Client, server: what the relay handed over, for a connection no channel file holds. */
  readonly #relayed = [new Relayed(), new Relayed()];
  readonly #openedNs: bigint;
  /** Why the connection is not recorded, once known. */
  #unrecordedWhy = "closed before its link named a channel";
  /** Problems seen on this connection. */
  errors = 0;

  constructor(options: RecorderOptions) {
    this.#o = options;
    this.#openedNs = options.session.nowNs();
  }

  /** Channel type once linked. */
  get channelType(): number | undefined {
    return this.#framer.channelType;
  }

  /** Channel id once linked. */
  get channelId(): number | undefined {
    return this.#framer.channelId ?? this.#framer.link?.channelId;
  }

  /** Synthetic client port of the recorded connection; undefined before the link or when not recorded. */
  get clientPort(): number | undefined {
    return this.#conn?.clientPort;
  }

  /** Channel name as in messages, e.g. `display` or `display-1`; "?" before the link. */
  get name(): string {
    return this.#name;
  }

  /**
   * Client → server bytes, already forwarded. Read during the call only: the caller may reuse
   * the memory at once (what is pending of an incomplete unit is copied).
   */
  client(chunk: Uint8Array): void {
    this.#relayed[0].add(chunk);
    this.#clientChunk(chunk);
  }

  /** Server → client bytes, already forwarded; see {@link client}. */
  server(chunk: Uint8Array): void {
    this.#relayed[1].add(chunk);
    this.#serverChunk(chunk);
  }

  #clientChunk(chunk: Uint8Array): void {
    if (this.#closed || this.#conn === null) return;
    try {
      if (this.#raw[0]) return void this.#conn?.sent(chunk, this.#comment(true, "raw"));
      const units = this.#framer.pushClient(chunk);
      for (const u of units) {
        if (this.#conn === undefined) this.#open();
        this.#record(u);
      }
      if (this.#conn !== undefined && this.#early.length > 0) {
        const early = this.#early;
        this.#early = [];
        for (const c of early) this.#serverChunk(c);
      }
    } catch (e) {
      this.#failed(chunk, { fromClient: true, error: e });
    }
  }

  #serverChunk(chunk: Uint8Array): void {
    if (this.#closed || this.#conn === null) return;
    try {
      if (this.#conn === undefined) {
        this.#early.push(chunk.slice()); // the caller reuses the chunk's memory
        return;
      }
      if (this.#raw[1]) return void this.#conn.received(chunk, this.#comment(false, "raw"));
      for (const u of this.#framer.pushServer(chunk)) this.#record(u);
    } catch (e) {
      this.#failed(chunk, { fromClient: false, error: e });
    }
  }

  /**
   * The TCP connection ended: records what is left of a unit cut short in each direction as
   * that direction's last segment, then the FIN exchange, or one RST with `resetBy`. A
   * connection in no channel file is noted in the manifest's `unrecorded` instead. Idempotent.
   *
   * @param options `resetBy`: the direction of the RST when a socket was reset
   */
  close(options: { resetBy?: Direction } = {}): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      const conn = this.#conn;
      if (!conn) return this.#noteUnrecorded();
      for (const fromClient of [true, false]) this.#partial(conn, fromClient);
      conn.close(options);
    } catch (e) {
      this.#error(`closing the ${this.#name} capture: ${describe(e)}`);
    }
  }

  /** Records the bytes of a unit the connection ended inside, marked in the packet comment. */
  #partial(conn: ChannelConnection, fromClient: boolean): void {
    const f = this.#framer;
    if (this.#raw[fromClient ? 0 : 1] || f.failed(fromClient) || f.pending(fromClient) === 0) {
      return;
    }
    const bytes = f.takePending(fromClient);
    const arrow = fromClient ? ARROW_TO_SERVER : ARROW_TO_CLIENT;
    conn.partial(
      fromClient,
      bytes,
      `${this.#name} ${arrow} partial: ${bytes.length} bytes, the connection ended inside a unit`,
    );
  }

  #noteUnrecorded(): void {
    const [c, s] = this.#relayed;
    const type = this.#framer.link?.channelType;
    this.#o.session.noteUnrecorded({
      reason: this.#unrecordedWhy,
      channel: type === undefined ? null : this.#name,
      openedNs: String(this.#openedNs),
      closedNs: String(this.#o.session.nowNs()),
      bytes: { sent: c.bytes, received: s.bytes },
      firstBytes: { sent: c.hex(), received: s.hex() },
    });
  }

  #open(): void {
    const type = this.#framer.channelType ?? this.#framer.link?.channelType;
    const id = this.#framer.channelId ?? this.#framer.link?.channelId ?? 0;
    if (type === undefined) throw new Error("framer returned a unit before the client link");
    this.#type = type;
    this.#name = id === 0 ? channelName(type) : `${channelName(type)}-${id}`;
    this.#conn = this.#o.session.openConnection(type, id);
    if (this.#conn === null) {
      this.#unrecordedWhy = `channel type ${type} is not recorded (outside the tables, or the ` +
        "capture was closing)";
    }
  }

  #comment(fromClient: boolean, what: string): string | undefined {
    if (!this.#o.comments) return undefined;
    return `${this.#name} ${fromClient ? ARROW_TO_SERVER : ARROW_TO_CLIENT} ${what}`;
  }

  #record(u: SpiceUnit): void {
    const conn = this.#conn;
    if (!conn) return;
    let bytes = u.bytes;
    let what: string | undefined;
    if (u.kind === "message") {
      if (u.fromClient && this.#o.redactInputs && this.#type === CHANNEL_TYPES.inputs) {
        const rule = REDACT_BY_TYPE.get(u.type);
        if (rule) bytes = redact(u, rule);
      } else if (!u.fromClient && this.#type === CHANNEL_TYPES.main && u.type === MAIN_INIT) {
        this.#sessionId(u);
      }
      if (this.#o.comments) what = u.name;
    } else {
      if (u.kind === "ticket" && !this.#o.keepTicket) bytes = new Uint8Array(u.bytes.length);
      if (this.#o.comments) {
        what = LINK_LABELS[u.kind] ?? u.kind;
        if (u.kind === "linkResult" || u.kind === "linkReply") {
          const code = u.kind === "linkResult"
            ? this.#framer.linkResult
            : this.#framer.reply?.error;
          if (code !== undefined && code !== 0) what += ` ${code} ${linkErrorName(code)}`;
        }
      }
    }
    const comment = what === undefined ? undefined : this.#comment(u.fromClient, what);
    if (u.fromClient) conn.sent(bytes, comment, u);
    else conn.received(bytes, comment, u);
  }

  #sessionId(u: SpiceMessage): void {
    const body = u.bytes.subarray(u.headerSize);
    if (body.length < 4) return;
    const id = new DataView(body.buffer, body.byteOffset, 4).getUint32(0, true);
    this.#o.onSessionId?.(id);
  }

  #failed(chunk: Uint8Array, how: { fromClient: boolean; error: unknown }): void {
    const { fromClient, error: e } = how;
    this.#raw[fromClient ? 0 : 1] = true;
    const where = this.#conn ? `${this.#name} channel` : "a connection before its link";
    this.#error(`${where}: not SPICE, recording the rest unframed: ${describe(e)}`);
    if (!this.#conn) {
      this.#conn = null; // no channel known: nothing to record into
      this.#unrecordedWhy = `not SPICE: ${describe(e)}`;
      return;
    }
    try {
      const comment = this.#comment(fromClient, "raw");
      if (fromClient) this.#conn.sent(chunk, comment);
      else this.#conn.received(chunk, comment);
    } catch (e2) {
      this.#error(`${this.#name} channel: ${describe(e2)}`);
    }
  }

  #error(message: string): void {
    this.errors++;
    try {
      this.#o.onError?.(message);
    } catch {
      // a logger must not break the relay either
    }
  }
}
