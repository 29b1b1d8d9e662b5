/**
 * Replay: re-drive the recorded client side of a session against a live server, recording the
 * new conversation as a session directory. See `deno task replay --help` for the rules.
 */
import type { Manifest } from "../../lib/capture/manifest.ts";
import { openSession, readRecordedUnits } from "../../lib/session/session_files.ts";
import { CHANNEL_TYPES as CHANNEL } from "../../lib/spice/tables.ts";
import { UsageError } from "../errors.ts";
import { PlanBuilder, type ReplayPlan } from "../../lib/replay/plan.ts";
import { realTimer } from "../../lib/replay/schedule.ts";
import { ReplayRun, type ReplayRunContext } from "./replay_run.ts";
import { connLabel } from "./replay_text.ts";
import type { ReplayDivergence } from "./live_connection.ts";
import { type BootedServer, bootOwnServer } from "./own_server.ts";
import { ScreenWatch } from "./screen_watch.ts";
import type { ReplayOptions, ReplayResult } from "./types.ts";

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
  for await (const unit of readRecordedUnits(listing)) builder.add(unit);
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
  let booted: BootedServer = {};
  if (!options.target) {
    booted = await bootOwnServer({
      source: options.source,
      commandLine: options.serverCommandLine,
      password: options.password,
      timeoutMs,
      signal: options.signal,
      manifest,
      plan,
      screens,
      screenMasks: options.screenMasks ?? [],
      outDir,
      log: options.log,
    });
  }
  const { server, divergence: preLinkDivergence } = booted;
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
    }, preLinkDivergence);
  } catch (e) {
    // Anything unexpected: never leave our QEMU behind.
    await server?.stop();
    throw e;
  }
}

/**
 * The replay proper, once the server is up: link, wait, finish (only finish if interrupted, or
 * when the pre-link gate failed: nothing is linked then).
 */
async function drive(ctx: ReplayRunContext, preLink?: ReplayDivergence): Promise<ReplayResult> {
  const run = await ReplayRun.start(ctx);
  if (preLink) run.diverged(preLink);
  else if (!ctx.options.signal?.aborted) {
    await run.link();
    await run.wait();
  }
  return await run.finish();
}
