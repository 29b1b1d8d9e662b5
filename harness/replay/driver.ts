/**
 * Replay: re-drive the recorded client side of a session against a live server, recording the
 * new conversation as a session directory. See `deno task replay --help` for the rules.
 */
import {
  hasRedactedSecret,
  type QemuServer,
  redactSecrets,
  restoreSecrets,
  startQemu,
} from "../processes/qemu.ts";
import { CaptureSession } from "../../lib/capture/session.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import { readCaptureFile } from "../../lib/pcap/reader.ts";
import { readSpiceMessages } from "../../lib/session/messages.ts";
import { openSession } from "../../lib/session/session_files.ts";
import { decodeMessage, summarizeFields } from "../../lib/spice/messages.ts";
import { CHANNEL_TYPES as CHANNEL, channelName } from "../../lib/spice/tables.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";
import { UsageError } from "../errors.ts";
import { LiveConnection, ReplayDivergence } from "./live_connection.ts";
import {
  causalityMet,
  PlanBuilder,
  type PlannedConnection,
  type PlannedMessage,
  type ReplayPlan,
} from "../../lib/replay/plan.ts";
import {
  realTimer,
  type Speed,
  targetNs,
  type Timer,
  waitUntil,
} from "../../lib/replay/schedule.ts";

/** How {@link replaySession} runs. */
export interface ReplayOptions {
  /** Session directory or single channel file to replay. */
  source: string;
  /** Live server; absent → start QEMU (`serverCommandLine`, or the default). */
  target?: { hostname: string; port: number };
  /**
   * QEMU command line to start when there is no `target`, already vetted by the replay policy
   * (lib/replay/qemu_policy.ts, applied by harness/commands/replay.ts); absent → the capture
   * default. The manifest's recorded line is never run as it is.
   */
  serverCommandLine?: readonly string[];
  /** SPICE password for the fresh tickets. @default "" */
  password?: string;
  /** @default max */
  speed?: Speed;
  /** Causality and link deadline, ms. @default 10000 */
  timeoutMs?: number;
  /** Replay session directory. @default `<source>-replay-<timestamp>` */
  outDir?: string;
  /** Stop after this many client messages (1-based count over the session); keeps the server. */
  until?: number;
  /** Leave the started QEMU running (returned in the result). */
  keepServer?: boolean;
  /** Receives one line per message sent or received. */
  verbose?: (line: string) => void;
  /** Warnings and progress. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Channels stay open at least this long after the last link (docs/protocol.md "Live duties
   * of a replayer"). @default 1000
   */
  holdMs?: number;
  timer?: Timer;
}

/** What happened. */
export interface ReplayResult {
  outDir: string;
  manifest: Manifest;
  /** Client messages replayed (generated PONG/ACK_SYNC/ACK not counted). */
  sent: number;
  /** Set when the replay diverged or a link was refused (exit 1). */
  divergence?: ReplayDivergence;
  /** The started QEMU, when kept running (`--until`, `--keep-server`). */
  server?: ReplayServer;
  /** host:port replayed against. */
  target: string;
  warnings: string[];
  /** Lateness of each scheduled send, ns (realtime/×N only). */
  latenessNs: bigint[];
  plan: ReplayPlan;
}

/**
 * Reads the recording into a plan (client messages kept, server messages counted).
 *
 * @param source session directory or channel file
 * @returns the plan and, for a directory, its manifest
 */
export async function loadPlan(source: string): Promise<{ plan: ReplayPlan; manifest?: Manifest }> {
  const listing = await openSession(source);
  const builder = new PlanBuilder();
  for (const f of listing.files) {
    const events = readSpiceMessages(readCaptureFile(f.path, { file: f.file }), { file: f.file });
    for await (const ev of events) {
      builder.add({
        file: f.file,
        connection: ev.connection.index,
        channelType: ev.connection.channelType ?? f.channelType,
        channelId: ev.connection.channelId ?? f.channelId,
        unit: ev.unit,
        tsNs: ev.tsNs,
      });
    }
  }
  return { plan: builder.build(), manifest: listing.manifest };
}

/** `<source>-replay-YYYYMMDDTHHMMSSZ` (extension of a file source removed). */
export function defaultReplayDir(source: string, now: Date): string {
  const base = source.replace(/\/+$/, "").replace(/\.(pcap|pcapng)$/, "");
  const stamp = now.toISOString().slice(0, 19).replaceAll("-", "").replaceAll(":", "");
  return `${base}-replay-${stamp}Z`;
}

function u32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

function connLabel(c: { channelType: number; channelId: number }): string {
  return c.channelId === 0
    ? channelName(c.channelType)
    : `${channelName(c.channelType)}-${c.channelId}`;
}

/** One line per unit, like `inspect --messages`: time, channel, direction, index, name, fields. */
function verboseLine(relNs: bigint, label: string, channelType: number, u: SpiceUnit): string {
  const t = (Number(relNs) / 1e9).toFixed(6);
  const dir = u.fromClient ? "C→S" : "S→C";
  if (u.kind !== "message") return `${t} ${label} ${dir} ${u.kind} ${u.bytes.length}B\n`;
  const body = u.bytes.subarray(u.headerSize);
  const fields = decodeMessage(channelType, u.fromClient, u.type, body);
  const summary = fields ? ` ${summarizeFields(fields)}` : "";
  return `${t} ${label} ${dir} #${u.index} ${u.name} ${body.length}B${summary}\n`;
}

/**
 * Replays a recorded session against a live server.
 *
 * @param options see {@link ReplayOptions}
 * @returns the result; a divergence is reported in it, not thrown
 * @throws {UsageError} when the recording has no main link
 * @throws {EnvironmentError} when QEMU cannot be started
 */
export async function replaySession(options: ReplayOptions): Promise<ReplayResult> {
  const { plan, manifest } = await loadPlan(options.source);
  const main = plan.connections[0];
  if (!main || main.channelType !== CHANNEL.main) {
    throw new UsageError(
      `${options.source}: no main channel link phase to start from (found ${
        plan.connections.map(connLabel).join(", ") || "no linked connections"
      })`,
    );
  }
  const timer = options.timer ?? realTimer();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const speed = options.speed ?? { kind: "max" };
  const warnings: string[] = [];
  const warn = (w: string) => {
    warnings.push(w);
    options.log?.(`warning: ${w}`);
  };

  let server: ReplayServer | undefined;
  if (!options.target) {
    server = await startOwnServer(options.serverCommandLine, options.password, timeoutMs);
    const delay = manifest?.server?.firstConnectionDelayMs;
    if (delay !== undefined) {
      const left = server.spawnedAtMs + delay - performance.now();
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
  }
  try {
    return await drive({
      options,
      plan,
      manifest,
      server,
      timer,
      timeoutMs,
      speed,
      warnings,
      warn,
    });
  } catch (e) {
    // Anything unexpected: never leave our QEMU behind.
    await server?.stop();
    throw e;
  }
}

/** The replay's own QEMU, and when it was spawned (performance.now()). */
type ReplayServer = QemuServer & { spawnedAtMs: number };

/**
 * Starts our own QEMU from the vetted recorded command line (its password, which session.json
 * never holds, put back from `password`), or the capture default when nothing was recorded.
 */
async function startOwnServer(
  recorded: readonly string[] | undefined,
  password: string | undefined,
  timeoutMs: number,
): Promise<ReplayServer> {
  let commandLine = recorded;
  if (commandLine && hasRedactedSecret(commandLine)) {
    if (password === undefined) {
      throw new UsageError(
        "the recorded server had a SPICE password, which session.json does not keep: " +
          "pass it with --password",
      );
    }
    commandLine = restoreSecrets(commandLine, password);
  }
  const spawnedAtMs = performance.now();
  return { ...await startQemu({ commandLine, startTimeoutMs: timeoutMs }), spawnedAtMs };
}

interface DriveContext {
  options: ReplayOptions;
  plan: ReplayPlan;
  manifest?: Manifest;
  server?: ReplayServer;
  timer: Timer;
  timeoutMs: number;
  speed: Speed;
  warnings: string[];
  warn: (w: string) => void;
}

/** The replay proper, once the server is up. */
async function drive(ctx: DriveContext): Promise<ReplayResult> {
  const { options, plan, manifest, server, timer, timeoutMs, speed, warnings, warn } = ctx;
  const hostname = options.target?.hostname ?? "127.0.0.1";
  const port = options.target?.port ?? server!.port;
  const target = `${hostname}:${port}`;
  const outDir = options.outDir ?? defaultReplayDir(options.source, new Date());
  const firstMs = performance.now();
  const session = await CaptureSession.create(outDir, {
    format: manifest?.captureFormat,
    target: options.target ? target : null,
    server: server
      ? {
        commandLine: redactSecrets(server.commandLine),
        firstConnectionDelayMs: Math.round((firstMs - server.spawnedAtMs) * 10) / 10,
      }
      : null,
  });
  session.setFacts({ replayOf: options.source, droppedFromReplay: plan.dropped });

  const startNs = timer.nowNs();
  const abort = new AbortController();
  options.signal?.addEventListener("abort", () => abort.abort(), { once: true });
  let divergence: ReplayDivergence | undefined;
  let untilReached = false;
  const fail = (e: unknown) => {
    if (!(e instanceof ReplayDivergence)) throw e;
    divergence ??= e;
    abort.abort();
  };
  let sessionId: number | undefined;
  const offered = new Set<string>();
  const onUnit = (conn: LiveConnection, u: SpiceUnit) => {
    const pc = byLabel.get(conn.label)!;
    if (pc.channelType === CHANNEL.main && !u.fromClient && u.kind === "message") {
      const body = u.bytes.subarray(u.headerSize);
      if (u.type === 103 && body.length >= 4) sessionId = u32(body, 0);
      if (u.type === 104 && body.length >= 4) {
        const n = u32(body, 0);
        for (let i = 0; i < n && 4 + 2 * i + 1 < body.length; i++) {
          offered.add(`${body[4 + 2 * i]}:${body[5 + 2 * i]}`);
        }
      }
    }
    options.verbose?.(verboseLine(timer.nowNs() - startNs, conn.label, pc.channelType, u));
  };
  const byLabel = new Map(plan.connections.map((c) => [connLabel(c), c]));

  let sent = 0;
  const latenessNs: bigint[] = [];
  const live: [PlannedConnection, LiveConnection][] = [];
  let lastLinkMs = performance.now();

  const waitSchedule = async (tNs: bigint) => {
    const t = targetNs(startNs, plan.t0Ns, tNs, speed);
    if (t !== undefined) latenessNs.push(await waitUntil(timer, t, abort.signal));
  };

  const sendLoop = async (pc: PlannedConnection, conn: LiveConnection) => {
    for (const [k, m] of pc.messages.entries()) {
      if (abort.signal.aborted) return;
      // DISPLAY_INIT goes out right after the link result (docs/protocol.md "Live duties of a
      // replayer").
      const immediate = k === 0 && pc.channelType === CHANNEL.display && m.type === 101;
      if (!immediate) {
        await conn.waitFor(
          () => causalityMet(m, conn, pc.channelType) === undefined,
          timeoutMs,
          () => awaited(m, conn, pc),
          abort.signal,
        );
        await waitSchedule(m.tsNs);
      }
      if (abort.signal.aborted) return;
      conn.sendRecorded(m.bytes, m.headerSize);
      sent++;
      if (options.until !== undefined && sent >= options.until) {
        untilReached = true;
        abort.abort();
      }
    }
  };

  const tasks: Promise<void>[] = [];
  let mainConn: LiveConnection | undefined;
  try {
    for (const pc of plan.connections) {
      if (abort.signal.aborted) break;
      await waitSchedule(pc.linkTsNs);
      const label = connLabel(pc);
      if (pc.channelType === CHANNEL.main) {
        if (mainConn) {
          warn(`${pc.file}: a second main connection was recorded; it is not replayed`);
          continue;
        }
      } else {
        await mainConn!.waitFor(
          () => sessionId !== undefined && offered.has(`${pc.channelType}:${pc.channelId}`),
          timeoutMs,
          () => ({ awaited: `main CHANNELS_LIST offering ${label} before linking it` }),
          abort.signal,
        );
        if (abort.signal.aborted) break;
      }
      const conn = await LiveConnection.open({
        plan: pc,
        hostname,
        port,
        password: options.password ?? "",
        connectionId: pc.channelType === CHANNEL.main ? 0 : sessionId!,
        record: session.openConnection(pc.channelType, pc.channelId),
        onUnit,
        timeoutMs,
      });
      lastLinkMs = performance.now();
      if (pc.channelType === CHANNEL.main) mainConn = conn;
      live.push([pc, conn]);
      tasks.push(sendLoop(pc, conn).catch(fail));
    }
  } catch (e) {
    fail(e);
  }
  await Promise.all(tasks);

  if (!abort.signal.aborted) {
    // Let the server finish what it sent in the recording before the capture stops.
    await Promise.all(
      live.map(([pc, conn]) =>
        conn.waitFor(() => conn.nonPing >= pc.serverNonPing, timeoutMs, () => ({
          awaited: `${pc.serverNonPing} server messages`,
        })).catch(() =>
          warn(
            `${conn.label}: the server sent ${conn.nonPing} of the ${pc.serverNonPing} recorded ` +
              `messages (PING not counted) within ${timeoutMs} ms`,
          )
        )
      ),
    );
    await waitSchedule(plan.endNs);
  }
  for (const [, conn] of live) conn.freeze();
  const holdMs = options.holdMs ?? 1000;
  const left = lastLinkMs + holdMs - performance.now();
  if (left > 0) await new Promise((r) => setTimeout(r, left));
  for (const [, conn] of [...live].reverse()) await conn.closeGracefully();

  if (untilReached) divergence = undefined;
  session.setFacts({
    replay: {
      source: options.source,
      speed: speed.kind === "max" ? "max" : speed.factor,
      sent,
      until: options.until ?? null,
      diverged: divergence?.message ?? null,
    },
  });
  const closed = await session.close();
  const keep = options.keepServer || options.until !== undefined;
  if (server && !keep) await server.stop();
  return {
    outDir,
    manifest: closed,
    sent,
    divergence,
    server: keep ? server : undefined,
    target,
    warnings,
    latenessNs,
    plan,
  };
}

function awaited(m: PlannedMessage, conn: LiveConnection, pc: PlannedConnection) {
  return {
    index: m.index,
    awaited: `${m.name}: ${causalityMet(m, conn, pc.channelType) ?? "nothing"}`,
  };
}
