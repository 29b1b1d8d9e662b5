/**
 * One replay once its server is up, step by step ({@link ReplayRun}): link each recorded
 * connection when its turn comes, send its client messages as causality and the schedule allow,
 * wait for the server's recorded answers, then finish the capture.
 *
 * @module
 */
import { u32le } from "../../lib/bytes.ts";
import { CaptureSession } from "../../lib/capture/session.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import { CHANNEL_TYPES as CHANNEL } from "../../lib/spice/tables.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";
import {
  causalityMet,
  type PlannedConnection,
  type PlannedMessage,
  REPLAY_MESSAGES,
  type ReplayPlan,
} from "../../lib/replay/plan.ts";
import { type Speed, targetNs, type Timer, waitUntil } from "../../lib/replay/schedule.ts";
import { redactSecrets } from "../processes/qemu.ts";
import { LiveConnection, ReplayDivergence } from "./live_connection.ts";
import type { ScreenWatch } from "./screen_watch.ts";
import { abortableDelay } from "./abortable_delay.ts";
import { connLabel, verboseLine } from "./replay_text.ts";
import type { ReplayOptions, ReplayResult, ReplayServer } from "./types.ts";

/** Channels whose server messages a matching screen accounts for. */
const DRAWING_CHANNELS: ReadonlySet<number> = new Set([CHANNEL.display, CHANNEL.cursor]);

/** What a planned message still waits for, for a causality timeout's report. */
function awaited(m: PlannedMessage, on: { conn: LiveConnection; pc: PlannedConnection }) {
  const { conn, pc } = on;
  return {
    index: m.index,
    awaited: `${m.name}: ${
      causalityMet(m, { live: conn, channelType: pc.channelType }) ?? "nothing"
    }`,
  };
}

/** The server replayed against: `options.target`, else our QEMU on loopback. */
function serverAddress(ctx: ReplayRunContext): { hostname: string; port: number } {
  return {
    hostname: ctx.options.target?.hostname ?? "127.0.0.1",
    // No server: interrupted while QEMU started; nothing is linked then.
    port: ctx.options.target?.port ?? ctx.server?.port ?? 0,
  };
}

/** What a {@link ReplayRun} works from: the options, the plan and the server, settled. */
export interface ReplayRunContext {
  options: ReplayOptions;
  plan: ReplayPlan;
  manifest?: Manifest;
  /** Our own QEMU; absent with `options.target`. */
  server?: ReplayServer;
  /** Replay session directory. */
  outDir: string;
  timer: Timer;
  timeoutMs: number;
  speed: Speed;
  warnings: string[];
  warn: (w: string) => void;
  /** The screen gate (`--gate screen`); absent: inputs wait for causality and time only. */
  screens?: ScreenWatch;
}

/**
 * The replay proper: {@link ReplayRun.start} creates the capture, then {@link link} (which
 * starts each connection's sending), {@link wait} and {@link finish}.
 */
export class ReplayRun {
  readonly #ctx: ReplayRunContext;
  readonly #session: CaptureSession;
  readonly #hostname: string;
  readonly #port: number;
  readonly #startNs: bigint;
  readonly #abort = new AbortController();
  readonly #byLabel: Map<string, PlannedConnection>;
  /** `type:id` of the channels main's CHANNELS_LIST offered. */
  readonly #offered = new Set<string>();
  readonly #latenessNs: bigint[] = [];
  readonly #live: [PlannedConnection, LiveConnection][] = [];
  /** Each connection's sending, started by {@link link}. */
  readonly #tasks: Promise<void>[] = [];
  #mainConn?: LiveConnection;
  #sessionId?: number;
  #sent = 0;
  #divergence?: ReplayDivergence;
  #untilReached = false;
  #lastLinkMs: number;
  /** What the replay fell short of, one phrase each (short replays fail). */
  readonly #shortfalls: string[] = [];

  private constructor(ctx: ReplayRunContext, session: CaptureSession) {
    this.#ctx = ctx;
    this.#session = session;
    const { options, plan } = ctx;
    ({ hostname: this.#hostname, port: this.#port } = serverAddress(ctx));
    this.#byLabel = new Map(plan.connections.map((c) => [connLabel(c), c]));
    this.#startNs = ctx.timer.nowNs();
    options.signal?.addEventListener("abort", () => this.#abort.abort(), { once: true });
    this.#lastLinkMs = performance.now();
  }

  /** Whether the user interrupted the replay (SIGINT, SIGTERM: `options.signal`). */
  get #interrupted(): boolean {
    return this.#ctx.options.signal?.aborted === true;
  }

  /** host:port replayed against. */
  get #target(): string {
    return `${this.#hostname}:${this.#port}`;
  }

  /**
   * Creates the replay's capture session, noting what it replays.
   *
   * @param ctx the options, the plan and the server
   * @returns the run, nothing linked yet
   */
  static async start(ctx: ReplayRunContext): Promise<ReplayRun> {
    const { options, plan, manifest, server } = ctx;
    const { hostname, port } = serverAddress(ctx);
    const firstMs = performance.now();
    const session = await CaptureSession.create(ctx.outDir, {
      format: manifest?.captureFormat,
      target: options.target ? `${hostname}:${port}` : null,
      server: server
        ? {
          commandLine: redactSecrets(server.commandLine),
          firstConnectionDelayMs: Math.round((firstMs - server.spawnedAtMs) * 10) / 10,
        }
        : null,
    });
    session.setFacts({ replayOf: options.source, droppedFromReplay: plan.dropped });
    return new ReplayRun(ctx, session);
  }

  /**
   * Links the recorded connections in order, each at its scheduled time, a secondary channel
   * once main's CHANNELS_LIST offers it, and starts sending on each. Stops linking at a
   * divergence or an abort.
   */
  async link(): Promise<void> {
    try {
      for (const pc of this.#ctx.plan.connections) {
        if (this.#abort.signal.aborted) break;
        if (!await this.#linkOne(pc)) break;
      }
    } catch (e) {
      this.#fail(e);
    }
  }

  /** Links one connection; false when the run was aborted while it waited. */
  async #linkOne(pc: PlannedConnection): Promise<boolean> {
    const { options, timeoutMs, warn } = this.#ctx;
    const signal = this.#abort.signal;
    await this.#waitSchedule(pc.linkTsNs);
    const label = connLabel(pc);
    if (pc.channelType === CHANNEL.main) {
      if (this.#mainConn) {
        warn(`${pc.file}: a second main connection was recorded; it is not replayed`);
        return true;
      }
    } else {
      await this.#mainConn!.waitFor(
        () =>
          this.#sessionId !== undefined && this.#offered.has(`${pc.channelType}:${pc.channelId}`),
        {
          timeoutMs,
          describe: () => ({ awaited: `main CHANNELS_LIST offering ${label} before linking it` }),
          signal,
        },
      );
      if (signal.aborted) return false;
    }
    const conn = await LiveConnection.open({
      plan: pc,
      hostname: this.#hostname,
      port: this.#port,
      password: options.password ?? "",
      connectionId: pc.channelType === CHANNEL.main ? 0 : this.#sessionId!,
      record: this.#session.openConnection(pc.channelType, pc.channelId),
      onUnit: (c, u) => this.#onUnit(c, u),
      timeoutMs,
    });
    this.#lastLinkMs = performance.now();
    if (pc.channelType === CHANNEL.main) this.#mainConn = conn;
    this.#live.push([pc, conn]);
    this.#tasks.push(this.#send(pc, conn).catch((e) => this.#fail(e)));
    return true;
  }

  /** Sends one connection's client messages, each once causality and the schedule allow. */
  async #send(pc: PlannedConnection, conn: LiveConnection): Promise<void> {
    const { options, timeoutMs } = this.#ctx;
    const signal = this.#abort.signal;
    for (const [k, m] of pc.messages.entries()) {
      if (signal.aborted) return;
      // DISPLAY_INIT goes out right after the link result (docs/protocol.md "Live duties of a
      // replayer").
      const immediate = k === 0 && pc.channelType === CHANNEL.display &&
        m.type === REPLAY_MESSAGES.DISPLAY_INIT;
      if (!immediate) {
        await conn.waitFor(
          () => causalityMet(m, { live: conn, channelType: pc.channelType }) === undefined,
          {
            timeoutMs,
            describe: () => awaited(m, { conn, pc }),
            signal,
          },
        );
        if (this.#ctx.screens?.gates(pc.channelType, m)) {
          await this.#ctx.screens.waitFor(m, { label: conn.label, timeoutMs, signal });
        }
        await this.#waitSchedule(m.tsNs);
      }
      if (signal.aborted) return;
      conn.sendRecorded(m.bytes, m.headerSize);
      this.#sent++;
      const at = options.untilMessage;
      const reached = at !== undefined && at.index === m.index && at.channel === connLabel(pc);
      if (reached || (options.until !== undefined && this.#sent >= options.until)) {
        this.#untilReached = true;
        this.#abort.abort();
      }
    }
  }

  /** Waits until the recording's time `tNs` comes at the replay's speed (max: at once). */
  async #waitSchedule(tNs: bigint): Promise<void> {
    const { plan, speed, timer } = this.#ctx;
    const t = targetNs(tNs, { startNs: this.#startNs, t0Ns: plan.t0Ns, speed });
    if (t !== undefined) {
      this.#latenessNs.push(await waitUntil(timer, t, { signal: this.#abort.signal }));
    }
  }

  /** Every unit sent or received: main's session id and channel list, the verbose line. */
  #onUnit(conn: LiveConnection, u: SpiceUnit): void {
    const pc = this.#byLabel.get(conn.label)!;
    if (pc.channelType === CHANNEL.main && !u.fromClient && u.kind === "message") {
      const body = u.bytes.subarray(u.headerSize);
      if (u.type === REPLAY_MESSAGES.MAIN_INIT && body.length >= 4) {
        this.#sessionId = u32le(body, 0);
      }
      if (u.type === REPLAY_MESSAGES.MAIN_CHANNELS_LIST && body.length >= 4) {
        const n = u32le(body, 0);
        for (let i = 0; i < n && 4 + 2 * i + 1 < body.length; i++) {
          this.#offered.add(`${body[4 + 2 * i]}:${body[5 + 2 * i]}`);
        }
      }
    }
    this.#ctx.screens?.onUnit({ channelType: pc.channelType, label: conn.label }, u);
    const relNs = this.#ctx.timer.nowNs() - this.#startNs;
    this.#ctx.options.verbose?.(
      verboseLine(u, { relNs, label: conn.label, channelType: pc.channelType }),
    );
  }

  /** Stops the run at a divergence found before it linked anything (the pre-link gate). */
  diverged(e: ReplayDivergence): void {
    this.#fail(e);
  }

  /**
   * A divergence stops the run (the first one is reported); anything else is rethrown. After
   * an interrupt nothing counts as a divergence: the run was stopped, not refused.
   */
  #fail(e: unknown): void {
    if (!(e instanceof ReplayDivergence)) throw e;
    if (this.#interrupted) return;
    this.#divergence ??= e;
    this.#abort.abort();
  }

  /**
   * Waits for every connection's sending to end, then, unless the run stopped early, for the
   * server's recorded answers (a shortfall when they fall short) and the recording's end time.
   * With the screen gate, a replayed screen that reached the recorded last one proves the
   * display and cursor channels: there only counted messages must match (drawing is timing
   * noise, such as a cursor's blinks); on every other channel every non-PING message must.
   */
  async wait(): Promise<void> {
    const { plan, timeoutMs, screens } = this.#ctx;
    await Promise.all(this.#tasks);
    if (this.#abort.signal.aborted) return;
    const shown = screens
      ? await screens.waitFinal({ timeoutMs, signal: this.#abort.signal })
      : false;
    if (screens && !shown) {
      this.#shortfalls.push("the replayed screen never reached the last recorded one");
    }
    // Let the server finish what it sent in the recording before the capture stops.
    await Promise.all(
      this.#live.map(([pc, conn]) => {
        // A screen that reached the last recorded one vouches only for what draws it.
        const drawn = shown && DRAWING_CHANNELS.has(pc.channelType);
        const done = () =>
          conn.counted >= pc.serverCounted && (drawn || conn.nonPing >= pc.serverNonPing);
        return conn.waitFor(done, {
          timeoutMs,
          describe: () => ({ awaited: `${pc.serverNonPing} server messages` }),
        }).catch(() =>
          this.#shortfalls.push(
            drawn
              ? `${conn.label} received ${conn.counted} of ${pc.serverCounted} recorded counted messages`
              : `${conn.label} received ${conn.nonPing} of ${pc.serverNonPing} recorded messages`,
          )
        );
      }),
    );
    const planned = plan.connections.reduce((n, c) => n + c.messages.length, 0);
    if (this.#sent < planned) this.#shortfalls.push(`${this.#sent} of ${planned} inputs sent`);
    await this.#waitSchedule(plan.endNs);
  }

  /**
   * Stops recording, holds the channels open for `holdMs` after the last link (not when
   * interrupted), closes them, writes the manifest and stops our QEMU unless it is kept (an
   * interrupt stops it always).
   *
   * @returns the replay's result
   */
  async finish(): Promise<ReplayResult> {
    const { options, plan, server, speed } = this.#ctx;
    for (const [, conn] of this.#live) conn.freeze();
    const left = this.#lastLinkMs + (options.holdMs ?? 1000) - performance.now();
    if (left > 0) await abortableDelay(left, options.signal);
    for (const [, conn] of [...this.#live].reverse()) await conn.closeGracefully();
    const interrupted = this.#interrupted;

    if (this.#untilReached) this.#divergence = undefined;
    this.#session.setFacts({
      replay: {
        source: options.source,
        speed: speed.kind === "max" ? "max" : speed.factor,
        sent: this.#sent,
        until: options.until ?? null,
        diverged: this.#divergence?.message ?? null,
        interrupted,
        gate: this.#ctx.screens ? "screen" : "none",
        short: this.#short() ?? null,
      },
    });
    const closed = await this.#session.close();
    const stopsEarly = options.until !== undefined || options.untilMessage !== undefined;
    const keep = !interrupted && (options.keepServer || stopsEarly);
    if (server && !keep) await server.stop();
    return {
      outDir: this.#ctx.outDir,
      manifest: closed,
      sent: this.#sent,
      divergence: this.#divergence,
      interrupted,
      server: keep ? server : undefined,
      target: this.#target,
      warnings: this.#ctx.warnings,
      latenessNs: this.#latenessNs,
      plan,
      short: this.#short(),
      gate: this.#ctx.screens?.stats,
    };
  }

  /** The one line saying what a replay that ran to its end fell short of, if anything. */
  #short(): string | undefined {
    if (this.#shortfalls.length === 0 || this.#divergence || this.#interrupted) return undefined;
    return `short replay: ${this.#shortfalls.join("; ")} (within ${this.#ctx.timeoutMs} ms)`;
  }
}
