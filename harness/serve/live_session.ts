/**
 * One client session of `serve`: from the client's main link to the end. It hands each linking
 * connection its recorded counterpart, makes the session-level changes (a fresh session id in
 * MAIN_INIT, a CHANNELS_LIST of the recorded channels), paces the recorded messages and decides
 * when and how the session ended.
 */
import type { CaptureSession } from "../../lib/capture/session.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import { type Speed, targetNs, type Timer, waitUntil } from "../../lib/replay/schedule.ts";
import type { LinkMessage } from "../../lib/spice/link.ts";
import type { SpiceConnectionFramer } from "../../lib/spice/framer.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";
import { CHANNEL_TYPES as CHANNEL, linkErrorName } from "../../lib/spice/tables.ts";
import { checkLink, LINK_ERROR } from "../../lib/serve/link.ts";
import type { KeyPool } from "./key_pool.ts";
import {
  channelLabel,
  MAIN_CHANNELS_LIST,
  MAIN_INIT,
  type ServedConnectionPlan,
  type ServePlan,
  type ServerStep,
} from "../../lib/serve/plan.ts";
import type { ServeDivergence } from "../../lib/serve/progress.ts";
import { restrictChannelsList, withSessionId } from "../../lib/serve/rewrite.ts";
import { ServedConnection } from "./served_connection.ts";

/** How a session ended. */
export type SessionStatus = "served" | "refused" | "early" | "diverged" | "stalled" | "interrupted";

/** What {@link LiveSession.finished} resolves with. */
export interface SessionOutcome {
  /** How it ended; "served" alone means exit 0. */
  status: SessionStatus;
  /** One line saying why, for anything but "served". */
  message?: string;
  /** Every divergence seen. */
  divergences: ServeDivergence[];
  /** Per linked connection: label, refusal, and `where()`. */
  channels: { label: string; refused?: string; where: string; sent: number; total: number }[];
  /** Recorded channels the client did not open. */
  skipped: string[];
  /** The fresh session id. */
  sessionId: number;
  /** ms from the main link to the last recorded server message sent. */
  connectToLastMs: number;
  /** Server messages sent over all connections. */
  sent: number;
  /** Whether the client ended the session (closed main) rather than serve. */
  clientLeft: boolean;
  /** Per server message ("display MARK"): ms from when it could go to its bytes written. */
  added: { name: string; ms: number }[];
}

/** Settings of a session. */
export interface LiveSessionOptions {
  plan: ServePlan;
  capture: CaptureSession;
  /** Where the connections' key pairs come from. */
  keys: KeyPool;
  password?: string;
  speed: Speed;
  strict: boolean;
  /** A wait for the client longer than this ends the session as stalled. */
  timeoutMs: number;
  /** After everything was sent, how long a quiet client is waited for. */
  idleMs: number;
  /** After the last link, how long further links are waited for. */
  holdMs: number;
  timer: Timer;
  signal: AbortSignal;
  log: (line: string) => void;
}

const POLL_MS = 20;

/** One client session. */
export class LiveSession {
  readonly #o: LiveSessionOptions;
  readonly #left = new Map<string, ServedConnectionPlan[]>();
  readonly #conns: ServedConnection[] = [];
  readonly #divergences: ServeDivergence[] = [];
  readonly #stop = new AbortController();
  readonly sessionId = randomSessionId();
  #startNs = 0n;
  #lastLinkMs = performance.now();
  #lastSentMs = performance.now();
  #firstMs = performance.now();
  #sent = 0;
  #strictStop?: ServeDivergence;
  #clientLeft = false;
  readonly #refusedLinks: string[] = [];

  /** Starts a session for a client whose main link just arrived. */
  constructor(options: LiveSessionOptions) {
    this.#o = options;
    for (const c of options.plan.connections) {
      const key = `${c.channelType}:${c.channelId}`;
      this.#left.set(key, [...(this.#left.get(key) ?? []), c]);
    }
    options.signal.addEventListener("abort", () => this.#stop.abort(), { once: true });
    this.#startNs = options.timer.nowNs();
  }

  /**
   * Takes a connection whose link message was framed: refuses it as spice-server would, or
   * serves its recorded counterpart.
   *
   * @param socket the accepted socket and its reader
   * @param linked its framer, past the link message, and the link unit with whatever was
   *   framed with it
   */
  async link(
    socket: { tcp: Deno.TcpConn; reader: ReadableStreamDefaultReader<Uint8Array> },
    linked: { framer: SpiceConnectionFramer; units: SpiceUnit[] },
  ): Promise<number> {
    const { framer, units } = linked;
    const link = framer.link as LinkMessage;
    const error = this.#stop.signal.aborted ? LINK_ERROR.ERROR : checkLink(link, {
      sessionId: this.#main ? this.sessionId : undefined,
      available: (t, i) => (this.#left.get(`${t}:${i}`)?.length ?? 0) > 0,
    });
    if (error !== LINK_ERROR.OK) {
      this.#refusedLinks.push(`${channelLabel(link)}: link refused: ${linkErrorName(error)}`);
      return error;
    }
    const plan = this.#left.get(`${link.channelType}:${link.channelId}`)!.shift()!;
    let key;
    try {
      key = await this.#o.keys.take();
    } catch (e) {
      this.#refusedLinks.push(`${channelLabel(link)}: no key pair: ${(e as Error).message}`);
      return LINK_ERROR.ERROR;
    }
    const conn = new ServedConnection(socket, framer, {
      plan,
      record: this.#o.capture.openConnection(plan.channelType, plan.channelId),
      key,
      password: this.#o.password,
      prepare: (step) => this.#prepare(plan, step),
      schedule: (step, signal) => this.#schedule(step, signal),
      onDivergence: (_c, d) => this.#onDivergence(d),
      onChange: () => {},
      signal: this.#stop.signal,
    });
    this.#conns.push(conn);
    this.#lastLinkMs = performance.now();
    void conn.serve(units[0], units.slice(1)).catch((e) => {
      conn.closedReason ??= `serve failed: ${(e as Error).message}`;
    });
    return LINK_ERROR.OK;
  }

  get #main(): ServedConnection | undefined {
    return this.#conns.find((c) => c.progress.plan.channelType === CHANNEL.main);
  }

  #prepare(plan: ServedConnectionPlan, step: ServerStep): Uint8Array {
    this.#sent++;
    this.#lastSentMs = performance.now();
    if (plan.channelType !== CHANNEL.main) return step.bytes;
    if (step.type === MAIN_INIT) return withSessionId(step, this.sessionId);
    if (step.type !== MAIN_CHANNELS_LIST) return step.bytes;
    const recorded = new Set(
      this.#o.plan.connections.map((c) => `${c.channelType}:${c.channelId}`),
    );
    const r = restrictChannelsList(step, (t, i) => recorded.has(`${t}:${i}`));
    if (r.left.length > 0) {
      const names = r.left.map(([t, i]) => channelLabel({ channelType: t, channelId: i }));
      this.#o.log(`not offered (the recording has no connection of them): ${names.join(", ")}`);
    }
    return r.bytes;
  }

  async #schedule(step: ServerStep, signal: AbortSignal): Promise<boolean> {
    const t = targetNs(step.tsNs, {
      startNs: this.#startNs,
      t0Ns: this.#o.plan.t0Ns,
      speed: this.#o.speed,
    });
    if (t === undefined || t <= this.#o.timer.nowNs()) return false;
    await waitUntil(this.#o.timer, t, { signal });
    return true;
  }

  #onDivergence(d: ServeDivergence): void {
    this.#divergences.push(d);
    this.#o.log(`divergence: ${d.message}`);
    if (this.#o.strict && !this.#strictStop) {
      this.#strictStop = d;
      this.#stop.abort();
    }
  }

  /**
   * Waits for the end of the session, closes what is still open (secondary channels first),
   * and says how it ended.
   */
  async finished(): Promise<SessionOutcome> {
    let verdict: { status: SessionStatus; message?: string } | undefined;
    while (!(verdict = this.#verdict())) await new Promise((r) => setTimeout(r, POLL_MS));
    this.#stop.abort();
    const main = this.#main;
    for (const c of this.#conns) if (c !== main) await c.close();
    await main?.close();
    return {
      ...verdict,
      divergences: this.#divergences,
      channels: this.#conns.map((c) => ({
        label: c.label,
        refused: c.refusal,
        where: c.progress.where(),
        sent: c.progress.sent,
        total: c.progress.plan.server.length,
      })),
      skipped: [...this.#left.values()].flat().map(channelLabel),
      sessionId: this.sessionId,
      connectToLastMs: this.#lastSentMs - this.#firstMs,
      sent: this.#sent,
      clientLeft: this.#clientLeft,
      added: this.#conns.flatMap((c) => c.added),
    };
  }

  #verdict(): { status: SessionStatus; message?: string } | undefined {
    if (this.#strictStop) return { status: "diverged", message: this.#strictStop.message };
    if (this.#o.signal.aborted) {
      return { status: "interrupted", message: `interrupted: ${this.#whereAll() || "no link"}` };
    }
    const refused = this.#conns.find((c) => c.refusal);
    const main = this.#main;
    if (!main) {
      const why = this.#refusedLinks[0];
      if (why !== undefined) return { status: "refused", message: why };
      const late = performance.now() - this.#firstMs > this.#o.timeoutMs;
      return late ? { status: "refused", message: "the main channel never linked" } : undefined;
    }
    const mainGone = !main || main.closed || main.closedReason !== undefined;
    if (refused && mainGone) {
      return { status: "refused", message: `${refused.label}: link refused: ${refused.refusal}` };
    }
    if (mainGone) return this.#leftVerdict();
    const now = performance.now();
    const stalled = this.#conns.find((c) =>
      !c.closedReason && c.progress.waitingFor() && now - c.lastActivityMs > this.#o.timeoutMs
    );
    if (stalled) {
      return {
        status: "stalled",
        message:
          `${stalled.label}: waited ${this.#o.timeoutMs} ms for ${stalled.progress.waitingFor()}; ${stalled.progress.where()}`,
      };
    }
    const settled = this.#conns.every((c) =>
      c.closedReason !== undefined ||
      (c.progress.drained && (c.progress.clientComplete || now - c.lastActivityMs > this.#o.idleMs))
    );
    if (!settled || now - this.#lastLinkMs < this.#o.holdMs) return undefined;
    const end = targetNs(this.#o.plan.endNs, {
      startNs: this.#startNs,
      t0Ns: this.#o.plan.t0Ns,
      speed: this.#o.speed,
    });
    if (end !== undefined && this.#o.timer.nowNs() < end) return undefined;
    return { status: "served" };
  }

  /** The client closed main: served when everything was sent and received, else early. */
  #leftVerdict(): { status: SessionStatus; message?: string } {
    this.#clientLeft = true;
    const short = this.#conns.filter((c) => !c.progress.drained || !c.progress.clientComplete);
    if (short.length === 0) return { status: "served" };
    return {
      status: "early",
      message: "client disconnected early: " +
        short.map((c) => `${c.label} ${c.progress.where()}`).join("; "),
    };
  }

  #whereAll(): string {
    return this.#conns.map((c) => `${c.label} ${c.progress.where()}`).join("; ");
  }

  /** Whether the session is still taking links. */
  get open(): boolean {
    return !this.#stop.signal.aborted;
  }
}

/** A random non-zero u32 session id, as spice-server draws one. */
export function randomSessionId(): number {
  const b = new Uint32Array(1);
  do crypto.getRandomValues(b); while (b[0] === 0);
  return b[0];
}

/** The capture's manifest facts for a finished session. */
export function outcomeFacts(o: SessionOutcome): Partial<Manifest> {
  return {
    sessionId: o.sessionId,
    scrubbed: ["ticket"],
    stoppedBy: o.status === "interrupted" ? "signal" : o.clientLeft ? "client-exit" : "server-exit",
  };
}
