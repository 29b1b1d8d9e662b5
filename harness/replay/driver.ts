/**
 * Replay: re-drive the recorded client side of a session against a live server, recording the
 * new conversation as a session directory. See `deno task replay --help` for the rules.
 */
import { hasRedactedSecret, restoreSecrets, startQemu } from "../processes/qemu.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import { readCaptureFile } from "../../lib/pcap/reader.ts";
import { readSpiceMessages } from "../../lib/session/messages.ts";
import { openSession } from "../../lib/session/session_files.ts";
import { CHANNEL_TYPES as CHANNEL } from "../../lib/spice/tables.ts";
import { UsageError } from "../errors.ts";
import { PlanBuilder, type ReplayPlan } from "../../lib/replay/plan.ts";
import { realTimer } from "../../lib/replay/schedule.ts";
import { abortableDelay, connLabel, ReplayRun, type ReplayRunContext } from "./replay_run.ts";
import { ScreenWatch } from "./screen_watch.ts";
import type { ReplayOptions, ReplayResult, ReplayServer } from "./types.ts";

export type { ReplayOptions, ReplayResult, ReplayServer } from "./types.ts";

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

  const outDir = options.outDir ?? defaultReplayDir(options.source, new Date());
  // The recorded screens are rendered before QEMU starts, so the guest's timing is its own.
  const screens = options.gate === "none"
    ? undefined
    : await ScreenWatch.load(options.source, { plan, masks: options.screenMasks ?? [], outDir });
  let server: ReplayServer | undefined;
  if (!options.target) {
    server = await startOwnServer(options.serverCommandLine, {
      password: options.password,
      timeoutMs,
      signal: options.signal,
    });
    const delay = manifest?.server?.firstConnectionDelayMs;
    if (delay !== undefined && server) {
      const left = server.spawnedAtMs + delay - performance.now();
      if (left > 0) await abortableDelay(left, options.signal);
    }
  }
  try {
    // Interrupted before the first link (while QEMU started, during the recorded delay): the
    // run still writes its session, empty, with `replay.interrupted`, and stops our QEMU.
    return await drive({
      options,
      plan,
      manifest,
      server,
      outDir,
      timer,
      timeoutMs,
      speed,
      warnings,
      warn,
      screens,
    });
  } catch (e) {
    // Anything unexpected: never leave our QEMU behind.
    await server?.stop();
    throw e;
  }
}

/**
 * Starts our own QEMU from the vetted recorded command line (its password, which session.json
 * never holds, put back from `password`), or the capture default when nothing was recorded.
 */
async function startOwnServer(
  recorded: readonly string[] | undefined,
  { password, timeoutMs, signal }: { password?: string; timeoutMs: number; signal?: AbortSignal },
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
  const spawnedAtMs = performance.now();
  // The vetted line's serial file (moved into the replay directory by the policy) stays: the
  // Linux guest's resolution would otherwise send it to null.
  const serialIndex = commandLine?.findIndex((a, i) =>
    commandLine[i - 1] === "-serial" && a.startsWith("file:")
  ) ?? -1;
  const serialLog = serialIndex < 0 ? undefined : commandLine![serialIndex].slice("file:".length);
  const starting = startQemu({ commandLine, serialLog, startTimeoutMs: timeoutMs });
  if (!signal) return { ...await starting, spawnedAtMs };
  // An interrupt while QEMU boots: let the start settle (it is bounded by the timeout), then
  // stop what it started.
  const interrupted = new Promise<"interrupted">((resolve) => {
    if (signal.aborted) resolve("interrupted");
    signal.addEventListener("abort", () => resolve("interrupted"), { once: true });
  });
  const first = await Promise.race([starting, interrupted]);
  if (first !== "interrupted") return { ...first, spawnedAtMs };
  await starting.then((s) => s.stop(), () => {});
  return undefined;
}

/** The replay proper, once the server is up: link, wait, finish (only finish if interrupted). */
async function drive(ctx: ReplayRunContext): Promise<ReplayResult> {
  const run = await ReplayRun.start(ctx);
  if (!ctx.options.signal?.aborted) {
    await run.link();
    await run.wait();
  }
  return await run.finish();
}
