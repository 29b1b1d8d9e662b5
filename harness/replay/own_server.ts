/**
 * The replay's own QEMU ({@link bootOwnServer}): started from the vetted recorded command line
 * plus a QMP socket of ours, held by the pre-link gate until its console shows the recorded
 * first screen (harness/replay/first_screen_watch.ts), then the rest of the recorded delay.
 *
 * @module
 */
import type { Manifest } from "../../lib/capture/manifest.ts";
import type { ScreenMask } from "../../lib/display/masks.ts";
import type { ReplayPlan } from "../../lib/replay/plan.ts";
import { qmpSocketArgs, withoutQmpSocket } from "../../lib/replay/qmp.ts";
import { UsageError } from "../errors.ts";
import { hasRedactedSecret, restoreSecrets, startQemu } from "../processes/qemu.ts";
import { FirstScreenWatch, type PreLinkStats } from "./first_screen_watch.ts";
import { ReplayDivergence } from "./live_connection.ts";
import { QmpClient } from "./qmp_client.ts";
import { abortableDelay } from "./abortable_delay.ts";
import type { ScreenWatch } from "./screen_watch.ts";
import type { ReplayServer } from "./types.ts";

/** What {@link bootOwnServer} works from. */
export interface OwnServerOptions {
  /** The session directory or channel file replayed. */
  source: string;
  /** The vetted recorded command line; absent: the capture default (no gate then). */
  commandLine?: readonly string[];
  password?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  manifest?: Manifest;
  plan: ReplayPlan;
  /** The screen gate; absent (`--gate none`): no pre-link gate either. */
  screens?: ScreenWatch;
  screenMasks: readonly ScreenMask[];
  /** The replay directory (pictures of a failed pre-link gate). */
  outDir: string;
  log?: (line: string) => void;
}

/** Our QEMU, ready for the first link, or why the replay must not link. */
export interface BootedServer {
  /** Absent when interrupted while QEMU started. */
  server?: ReplayServer;
  /** The pre-link gate failed: the replay links nothing and reports this. */
  divergence?: ReplayDivergence;
  /** The pre-link gate's work, when it ran and passed. */
  preLink?: PreLinkStats;
}

/**
 * Starts our QEMU and waits until the first link may go: the guest's console shows the
 * recorded first screen (with a recorded command line and a display, unless `--gate none`),
 * and the recorded first-connection delay has passed since the spawn.
 *
 * @param options the line, the gate's inputs, the deadline and the stop signal
 * @throws {EnvironmentError} when QEMU cannot be started or its QMP socket used
 */
export async function bootOwnServer(options: OwnServerOptions): Promise<BootedServer> {
  const { commandLine, manifest, plan, screens, signal } = options;
  const watch = screens && commandLine
    ? await FirstScreenWatch.load(options.source, {
      masks: options.screenMasks,
      t0Ns: plan.t0Ns,
      later: screens.recordedScreens,
    })
    : undefined;
  const scratch = watch ? await Deno.makeTempDir({ prefix: "spicecap-qmp-" }) : undefined;
  const socket = scratch && `${scratch}/qmp.sock`;
  try {
    const server = await startOwnServer(commandLine, { ...options, qmpSocket: socket });
    if (!server) return {};
    const delay = manifest?.server?.firstConnectionDelayMs ?? 0;
    let booted: BootedServer = { server };
    if (watch) {
      try {
        booted = await preLinkGate(watch, server, {
          socket: socket!,
          scratch: scratch!,
          deadlineMs: server.spawnedAtMs + delay + options.timeoutMs,
          ...options,
        });
      } catch (e) {
        await server.stop();
        throw e;
      }
      const p = booted.preLink;
      if (p) {
        options.log?.(
          `pre-link gate: the console showed the ${
            p.shown === "first" ? "recorded first" : "a later recorded"
          } screen ` +
            `after ${p.polls} screendumps, ${
              Math.round(performance.now() - server.spawnedAtMs)
            } ms after QEMU started`,
        );
      }
    }
    const left = server.spawnedAtMs + delay - performance.now();
    if (!booted.divergence && left > 0) await abortableDelay(left, signal);
    return booted;
  } finally {
    if (scratch) await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
}

async function preLinkGate(
  watch: FirstScreenWatch,
  server: ReplayServer,
  o: OwnServerOptions & { socket: string; scratch: string; deadlineMs: number },
): Promise<BootedServer> {
  const qmp = await QmpClient.connect(o.socket, { timeoutMs: o.timeoutMs, signal: o.signal });
  try {
    const preLink = await watch.wait({
      qmp,
      deadlineMs: o.deadlineMs,
      scratchDir: o.scratch,
      outDir: o.outDir,
      signal: o.signal,
    });
    return { server, preLink };
  } catch (e) {
    if (e instanceof ReplayDivergence) return { server, divergence: e };
    throw e;
  } finally {
    qmp.close();
  }
}

/**
 * Starts our own QEMU from the vetted recorded command line (its password, which session.json
 * never holds, put back from `password`), or the capture default when nothing was recorded;
 * with `qmpSocket`, our QMP server is added after the line was vetted, and left out of the
 * line the replay records.
 */
async function startOwnServer(
  recorded: readonly string[] | undefined,
  { password, timeoutMs, signal, qmpSocket }: {
    password?: string;
    timeoutMs: number;
    signal?: AbortSignal;
    qmpSocket?: string;
  },
): Promise<ReplayServer | undefined> {
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
  if (commandLine && qmpSocket) commandLine = [...commandLine, ...qmpSocketArgs(qmpSocket)];
  const spawnedAtMs = performance.now();
  // The vetted line's serial file (moved into the replay directory by the policy) stays: the
  // Linux guest's resolution would otherwise send it to null.
  const serialIndex =
    commandLine?.findIndex((a, i) => commandLine[i - 1] === "-serial" && a.startsWith("file:")) ??
      -1;
  const serialLog = serialIndex < 0 ? undefined : commandLine![serialIndex].slice("file:".length);
  const starting = startQemu({ commandLine, serialLog, startTimeoutMs: timeoutMs });
  const ours = (s: Awaited<typeof starting>): ReplayServer => ({
    ...s,
    commandLine: qmpSocket ? withoutQmpSocket(s.commandLine, qmpSocket) : s.commandLine,
    spawnedAtMs,
  });
  if (!signal) return ours(await starting);
  // An interrupt while QEMU boots: let the start settle (it is bounded by the timeout), then
  // stop what it started.
  const interrupted = new Promise<"interrupted">((resolve) => {
    if (signal.aborted) resolve("interrupted");
    signal.addEventListener("abort", () => resolve("interrupted"), { once: true });
  });
  const first = await Promise.race([starting, interrupted]);
  if (first !== "interrupted") return ours(first);
  await starting.then((s) => s.stop(), () => {});
  return undefined;
}
