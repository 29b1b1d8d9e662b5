/**
 * One live SPICE connection of a replay: TCP connect, the link phase with a fresh ticket, the
 * protocol duties (PONG, ACK_SYNC, ACK, serials) and a reader that never stops, recording every
 * unit into the replay's capture until frozen.
 */
import { u32le, u32leBytes } from "../../lib/bytes.ts";
import type { ChannelConnection } from "../../lib/capture/session.ts";
import { SpiceConnectionFramer } from "../../lib/spice/framer.ts";
import { buildMessage, FULL_HEADER_BYTES, setConnectionId } from "../../lib/spice/link.ts";
import { channelName, linkErrorName } from "../../lib/spice/tables.ts";
import { makeTicket } from "../../lib/spice/ticket.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";
import { COMMON, isCounted, type PlannedConnection, SYNC_TYPES } from "../../lib/replay/plan.ts";

/** Why the replay stopped before the end: the CLI prints `message` and exits 1. */
export class ReplayDivergence extends Error {
  override name = "ReplayDivergence";
  constructor(
    message: string,
    readonly detail: { channel: string; index?: number; awaited?: string; linkError?: string },
  ) {
    super(message);
  }
}

/** Options of {@link LiveConnection.open}. */
export interface LiveConnectionOptions {
  plan: PlannedConnection;
  hostname: string;
  port: number;
  password: string;
  /** 0 for main, the live session id for secondary channels. */
  connectionId: number;
  /** Where units are recorded; null records nothing. */
  record: ChannelConnection | null;
  /** Called for every unit sent or received (verbose output, main's session id). */
  onUnit?: (conn: LiveConnection, unit: SpiceUnit) => void;
  /** Link-phase deadline. */
  timeoutMs: number;
}

/** Options of {@link LiveConnection.waitFor}. */
export interface WaitForOptions {
  /** Deadline, ms. */
  timeoutMs: number;
  /** What is awaited, for the error ("message 3 ATTACH_CHANNELS: server INIT"). */
  describe: () => { index?: number; awaited: string };
  /** Resolves the wait early (the replay stopped). */
  signal?: AbortSignal;
}

/** A linked connection. Counters are live; `changed` wakes waiters on every received unit. */
export class LiveConnection {
  readonly label: string;
  /** Counted server messages (see replay_plan.ts) and sync types seen. */
  counted = 0;
  readonly syncSeen = new Set<number>();
  /** Server messages other than PING. */
  nonPing = 0;
  /** Set when the server closed or the stream failed. */
  closedReason?: string;
  #tcp: Deno.TcpConn;
  #framer = new SpiceConnectionFramer();
  #opts: LiveConnectionOptions;
  #writing: Promise<void> = Promise.resolve();
  #serial = 0n;
  #window = 0;
  #unacked = 0;
  #frozen = false;
  #waiters = new Set<() => void>();
  #linkWaiter?: (u: SpiceUnit | undefined) => void;
  #reading: Promise<void>;
  #closed = false;

  private constructor(tcp: Deno.TcpConn, opts: LiveConnectionOptions) {
    this.#tcp = tcp;
    this.#opts = opts;
    const { channelType, channelId } = opts.plan;
    this.label = channelId === 0
      ? channelName(channelType)
      : `${channelName(channelType)}-${channelId}`;
    this.#reading = this.#readLoop();
  }

  /**
   * Connects and redoes the link phase live.
   *
   * @returns the linked connection
   * @throws {ReplayDivergence} when the server refuses the link or closes the connection
   */
  static async open(opts: LiveConnectionOptions): Promise<LiveConnection> {
    const tcp = await Deno.connect({ hostname: opts.hostname, port: opts.port });
    tcp.setNoDelay(true);
    const c = new LiveConnection(tcp, opts);
    try {
      await c.#link();
    } catch (e) {
      c.close();
      throw e;
    }
    return c;
  }

  async #link(): Promise<void> {
    const { plan, password, connectionId, timeoutMs } = this.#opts;
    const link = setConnectionId(plan.link, connectionId);
    const reply = this.#nextLinkUnit(timeoutMs, "link reply");
    this.#send(link);
    const r = await reply;
    const error = u32le(r.bytes, 16);
    if (error !== 0) this.#refused(linkErrorName(error), "link reply");
    const result = this.#nextLinkUnit(timeoutMs, "link result");
    if (plan.authMechanism) this.#send(plan.authMechanism);
    this.#send(await makeTicket(r.bytes.subarray(20, 182), password));
    const code = u32le((await result).bytes, 0);
    if (code !== 0) this.#refused(linkErrorName(code), "link result");
  }

  #refused(name: string, where: string): never {
    throw new ReplayDivergence(`${this.label}: server refused the link (${where}): ${name}`, {
      channel: this.label,
      linkError: name,
    });
  }

  #nextLinkUnit(timeoutMs: number, what: string): Promise<SpiceUnit> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#linkWaiter = undefined;
        reject(
          new ReplayDivergence(`${this.label}: no ${what} within ${timeoutMs} ms`, {
            channel: this.label,
            awaited: what,
          }),
        );
      }, timeoutMs);
      this.#linkWaiter = (u) => {
        clearTimeout(timer);
        this.#linkWaiter = undefined;
        if (u) resolve(u);
        else {
          reject(
            new ReplayDivergence(
              `${this.label}: server closed the connection before the ${what}` +
                (this.closedReason ? ` (${this.closedReason})` : ""),
              { channel: this.label, awaited: what },
            ),
          );
        }
      };
    });
  }

  /** Sends a recorded client message, with a fresh serial when the header is full. */
  sendRecorded(bytes: Uint8Array, headerSize: number): Uint8Array {
    let out = bytes;
    if (headerSize === FULL_HEADER_BYTES) {
      out = bytes.slice();
      new DataView(out.buffer).setBigUint64(0, ++this.#serial, true);
    }
    this.#send(out);
    return out;
  }

  #sendGenerated(type: number, body: Uint8Array): void {
    const mini = this.#framer.miniHeader ?? true;
    this.#send(
      buildMessage(type, body, { miniHeader: mini, serial: mini ? undefined : ++this.#serial }),
    );
  }

  #send(bytes: Uint8Array): void {
    for (const u of this.#framer.pushClient(bytes)) this.#opts.onUnit?.(this, u);
    if (!this.#frozen) this.#opts.record?.sent(bytes);
    this.#writing = this.#writing.then(async () => {
      if (this.#closed) return;
      let off = 0;
      while (off < bytes.length) off += await this.#tcp.write(bytes.subarray(off));
    }).catch((e) => {
      this.closedReason ??= `write failed: ${(e as Error).message}`;
    });
  }

  async #readLoop(): Promise<void> {
    try {
      for await (const chunk of this.#tcp.readable) {
        for (const u of this.#framer.pushServer(chunk)) this.#onServerUnit(u);
      }
      this.closedReason ??= "server closed the connection";
    } catch (e) {
      this.closedReason ??= e instanceof Error ? e.message : String(e);
    }
    this.#linkWaiter?.(undefined);
    this.#wake();
  }

  #onServerUnit(u: SpiceUnit): void {
    if (!this.#frozen) this.#opts.record?.received(u.bytes);
    this.#opts.onUnit?.(this, u);
    if (u.kind !== "message") {
      this.#linkWaiter?.(u);
      return;
    }
    const type = u.type;
    const body = u.bytes.subarray(u.headerSize);
    const channelType = this.#opts.plan.channelType;
    if (type === COMMON.PING) {
      this.#sendGenerated(COMMON.PONG, body.slice(0, 12));
    } else {
      this.nonPing++;
    }
    if (type === COMMON.SET_ACK) {
      this.#window = u32le(body, 4);
      this.#unacked = 0;
      this.#sendGenerated(COMMON.ACK_SYNC, u32leBytes(u32le(body, 0)));
    } else if (this.#window > 0 && ++this.#unacked >= this.#window) {
      this.#unacked -= this.#window;
      this.#sendGenerated(COMMON.ACK, new Uint8Array(0));
    }
    if (isCounted(channelType, type)) this.counted++;
    if (SYNC_TYPES.get(channelType)?.has(type)) this.syncSeen.add(type);
    this.#wake();
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /**
   * Resolves once `ready()` returns true, or at once when `signal` fires; rejects with a
   * divergence after `timeoutMs` or when the connection closes first.
   *
   * @param ready condition over this connection's counters (checked on every received unit)
   * @param options the deadline, what is awaited (for the error) and the abort signal
   */
  waitFor(ready: () => boolean, options: WaitForOptions): Promise<void> {
    const { timeoutMs, describe, signal } = options;
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        cleanup();
        const d = describe();
        reject(
          new ReplayDivergence(
            `${this.label}: ${d.index !== undefined ? `client message #${d.index}: ` : ""}` +
              `waited for ${d.awaited} ${why}`,
            { channel: this.label, index: d.index, awaited: d.awaited },
          ),
        );
      };
      const check = () => {
        if (ready()) {
          cleanup();
          resolve();
        } else if (this.closedReason) fail(`but ${this.closedReason}`);
      };
      const onAbort = () => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => fail(`for ${timeoutMs} ms in vain`), timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        signal?.removeEventListener("abort", onAbort);
      };
      this.#waiters.add(check);
      signal?.addEventListener("abort", onAbort, { once: true });
      check();
    });
  }

  /** Stops recording (traffic is still read and answered). */
  freeze(): void {
    this.#frozen = true;
  }

  /** Sends FIN after pending writes, waits (bounded) for the server to close, then closes. */
  async closeGracefully(graceMs = 1000): Promise<void> {
    await this.#writing;
    try {
      await this.#tcp.closeWrite();
    } catch {
      // already closed by the server
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#reading,
      new Promise((r) => timer = setTimeout(r, graceMs)),
    ]);
    clearTimeout(timer);
    this.close();
    await this.#reading;
  }

  /** Closes the socket at once. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#tcp.close();
    } catch {
      // already closed
    }
  }
}
