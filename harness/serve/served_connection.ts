/**
 * One live client connection of `serve`: the server's half of the link phase (fresh key,
 * recorded capabilities, ticket checked), then the recorded server messages in order, each once
 * the client has sent what the recording shows before it, within the SET_ACK window. Every unit
 * either way is recorded into the serve's session directory (the ticket as zeros).
 */
import { u32leBytes } from "../../lib/bytes.ts";
import type { ChannelConnection } from "../../lib/capture/session.ts";
import { TICKET_BYTES } from "../../lib/spice/link.ts";
import type { SpiceConnectionFramer } from "../../lib/spice/framer.ts";
import { linkErrorName } from "../../lib/spice/tables.ts";
import type { SpiceMessage, SpiceUnit } from "../../lib/spice/types.ts";
import { COMMON } from "../../lib/replay/plan.ts";
import type { ServedConnectionPlan, ServerStep } from "../../lib/serve/plan.ts";
import { AckWindow, ConnectionProgress, type ServeDivergence } from "../../lib/serve/progress.ts";
import {
  decryptTicket,
  LINK_ERROR,
  linkReplyFor,
  type ServerKey,
  ticketAccepted,
} from "../../lib/serve/link.ts";
import { reframe } from "../../lib/serve/rewrite.ts";

/** What a served connection needs from its session. */
export interface ServedConnectionOptions {
  /** The recorded connection to play. */
  plan: ServedConnectionPlan;
  /** Where the units are recorded; null records nothing. */
  record: ChannelConnection | null;
  /** This connection's key pair. */
  key: ServerKey;
  /** Required password; undefined accepts any ticket. */
  password?: string;
  /** Session-level changes to a step before it goes out (session id, channel list). */
  prepare: (step: ServerStep) => Uint8Array;
  /** Waits until the step's scheduled time; true when it waited (false at max speed). */
  schedule: (step: ServerStep, signal: AbortSignal) => Promise<boolean>;
  /** A live client message the recording does not have there. */
  onDivergence: (conn: ServedConnection, d: ServeDivergence) => void;
  /** Any change worth re-checking the session's end for. */
  onChange: () => void;
  /** Stops waiting and sending. */
  signal: AbortSignal;
}

/** One linked (or linking) client connection. */
export class ServedConnection {
  /** Where the connection stands. */
  readonly progress: ConnectionProgress;
  /** Set when the client closed the connection or the socket failed. */
  closedReason?: string;
  /** The link result sent: 0 when linked, else the refusal code. */
  linkResult?: number;
  /** Whether serve closed the connection itself. */
  closedByServe = false;
  /**
   * Per server message sent: ms from the moment it could go (the client message it waited for
   * arrived, or its scheduled time came) to its bytes handed to the socket, recorded.
   */
  readonly added: { name: string; ms: number }[] = [];
  #lastClientMs = performance.now();
  /** performance.now() of the last unit either way. */
  lastActivityMs = performance.now();
  readonly #tcp: Deno.TcpConn;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #framer: SpiceConnectionFramer;
  readonly #opts: ServedConnectionOptions;
  readonly #ack = new AckWindow();
  #serial = 0n;
  #writing: Promise<void> = Promise.resolve();
  #waiters = new Set<() => void>();
  #ticket?: (u: SpiceUnit | undefined) => void;
  #reading?: Promise<void>;
  #closed = false;

  /**
   * Takes over a connection whose link message was already framed.
   *
   * @param socket the accepted socket and the reader the link message was read with
   * @param framer the connection's framer, past the client link message
   * @param opts the session's part
   */
  constructor(
    socket: { tcp: Deno.TcpConn; reader: ReadableStreamDefaultReader<Uint8Array> },
    framer: SpiceConnectionFramer,
    opts: ServedConnectionOptions,
  ) {
    this.#tcp = socket.tcp;
    this.#reader = socket.reader;
    this.#framer = framer;
    this.#opts = opts;
    this.progress = new ConnectionProgress(opts.plan);
  }

  /** "display", "display-1". */
  get label(): string {
    return this.progress.label;
  }

  /**
   * Runs the link phase from the reply on, then serves the recorded messages until they are
   * all sent, the connection closes or the session stops.
   *
   * @param linkUnit the client's link message unit, recorded first
   * @param rest client units framed with it (read in the same chunk)
   */
  async serve(linkUnit: SpiceUnit, rest: SpiceUnit[]): Promise<void> {
    this.#opts.record?.sent(linkUnit.bytes);
    const ticket = new Promise<SpiceUnit | undefined>((r) => this.#ticket = r);
    this.#send(linkReplyFor(this.#opts.plan.linkReply, this.#opts.key.spki));
    this.#reading = this.#readLoop(rest);
    const t = await ticket;
    if (!t) return;
    const password = await decryptTicket(this.#opts.key.privateKey, t.bytes);
    const ok = ticketAccepted(password, this.#opts.password);
    this.linkResult = ok ? LINK_ERROR.OK : LINK_ERROR.PERMISSION_DENIED;
    this.#send(u32leBytes(this.linkResult));
    this.#opts.onChange();
    if (!ok) {
      await this.close();
      return;
    }
    await this.#serveMessages();
  }

  /** Why the link was refused, e.g. "PERMISSION_DENIED", or undefined. */
  get refusal(): string | undefined {
    return this.linkResult ? linkErrorName(this.linkResult) : undefined;
  }

  async #serveMessages(): Promise<void> {
    const { signal } = this.#opts;
    for (let step = this.progress.next(); step; step = this.progress.next()) {
      let readyMs = performance.now();
      if (this.progress.waitingFor() !== undefined || this.#ack.blocked) {
        await this.#until(() => this.progress.waitingFor() === undefined && !this.#ack.blocked);
        readyMs = Math.max(readyMs, this.#lastClientMs);
      }
      if (this.#stopped) return;
      if (await this.#opts.schedule(step, signal)) readyMs = performance.now();
      if (this.#stopped) return;
      const prepared = this.#opts.prepare(step);
      const mini = this.#framer.miniHeader ?? true;
      const bytes = reframe({ bytes: prepared, headerSize: step.headerSize }, {
        miniHeader: mini,
        serial: ++this.#serial,
      });
      this.#send(bytes);
      this.#ack.onSent(step.type, bytes.subarray(mini ? 6 : 18));
      this.progress.markSent();
      this.#opts.onChange();
      this.added.push({ name: `${this.label} ${step.name}`, ms: performance.now() - readyMs });
    }
  }

  get #stopped(): boolean {
    return this.#opts.signal.aborted || this.#closed || this.closedReason !== undefined;
  }

  /** Resolves when `ready()` holds, the connection closes or the session stops. */
  #until(ready: () => boolean): Promise<void> {
    const { signal } = this.#opts;
    return new Promise((resolve) => {
      const check = () => {
        if (ready() || this.#stopped) {
          this.#waiters.delete(check);
          signal.removeEventListener("abort", check);
          resolve();
        }
      };
      this.#waiters.add(check);
      signal.addEventListener("abort", check, { once: true });
      check();
    });
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  #send(bytes: Uint8Array): void {
    if (this.#closed) return;
    for (const u of this.#framer.pushServer(bytes)) this.#opts.record?.received(u.bytes);
    this.lastActivityMs = performance.now();
    this.#writing = this.#writing.then(async () => {
      if (this.#closed) return;
      let off = 0;
      while (off < bytes.length) off += await this.#tcp.write(bytes.subarray(off));
    }).catch((e) => {
      this.closedReason ??= `write failed: ${(e as Error).message}`;
    });
  }

  async #readLoop(rest: SpiceUnit[]): Promise<void> {
    try {
      this.#onClientUnits(rest);
      while (true) {
        const { value, done } = await this.#reader.read();
        if (done) break;
        this.lastActivityMs = performance.now();
        this.#onClientUnits(this.#framer.pushClient(value));
      }
      this.closedReason ??= "the client closed the connection";
    } catch (e) {
      this.closedReason ??= this.#closed ? "closed by serve" : (e as Error).message;
    }
    const pending = this.#framer.takePending(true);
    if (pending.length > 0) this.#opts.record?.partial(true, pending);
    this.#ticket?.(undefined);
    this.#wake();
    this.#opts.onChange();
  }

  #onClientUnits(units: SpiceUnit[]): void {
    for (const u of units) {
      if (u.kind === "ticket") {
        this.#opts.record?.sent(new Uint8Array(TICKET_BYTES));
        this.#ticket?.(u);
        this.#ticket = undefined;
        continue;
      }
      this.#opts.record?.sent(u.bytes);
      if (u.kind === "message") this.#onClientMessage(u);
    }
  }

  #onClientMessage(u: SpiceMessage): void {
    this.#lastClientMs = performance.now();
    const verdict = this.progress.onClient(u);
    if (verdict.kind === "divergence") this.#opts.onDivergence(this, verdict.divergence);
    const body = u.bytes.subarray(u.headerSize);
    if (u.type === COMMON.ACK_SYNC && body.length >= 4) {
      this.#ack.onAckSync(new DataView(body.buffer, body.byteOffset).getUint32(0, true));
    } else if (u.type === COMMON.ACK) this.#ack.onAck();
    this.#wake();
    this.#opts.onChange();
  }

  /**
   * Ends the connection: pending writes out, FIN, a short wait for the client's close, then the
   * socket closed and the end recorded. Idempotent.
   *
   * @param graceMs how long to wait for the client to close its side
   */
  async close(graceMs = 500): Promise<void> {
    if (this.#closed) return;
    if (!this.closedReason) this.closedByServe = true;
    await this.#writing;
    try {
      await this.#tcp.closeWrite();
    } catch {
      // the client is gone already
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#reading ?? Promise.resolve(),
      new Promise((r) => timer = setTimeout(r, graceMs)),
    ]);
    clearTimeout(timer);
    this.#closed = true;
    try {
      this.#tcp.close();
    } catch {
      // already closed
    }
    await this.#reading;
    this.#opts.record?.close();
    this.#wake();
  }

  /** Whether {@link close} has run. */
  get closed(): boolean {
    return this.#closed;
  }
}
