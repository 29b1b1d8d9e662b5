/** `deno task replay DIR`: re-drive a recorded client side against a live server. */
import { numberFlag, parseCommandArgs, parseSpeed } from "../args.ts";
import { ManifestError } from "../../lib/capture/manifest.ts";
import { refuseSnapshotReplay } from "./snapshot_refusal.ts";
import { channelFlag } from "../names.ts";
import { EnvironmentError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { defaultReplayDir, type ReplayResult, replaySession } from "../replay/driver.ts";
import { vetQemuCommandLine } from "../../lib/replay/qemu_policy.ts";
import { openSession } from "../../lib/session/session_files.ts";
import { prepareOutputDir } from "../../lib/capture/out_dir.ts";
import { prepareOutputDirFlag } from "../output_dir.ts";
import { parseScreenMasks, type ScreenMask, ScreenMaskError } from "../../lib/display/masks.ts";
import { pinnedCommandLine } from "../replay/environment.ts";

/** The `--help` text. */
export const REPLAY_HELP = [
  "Usage: deno task replay [options] DIR",
  "Re-drive the recorded client side of a session directory (or one channel file) against a",
  "live server and record the new conversation as a session directory.",
  "  --target HOST:PORT   server to replay against (default: start QEMU with the recorded",
  "                       command line on a free port, or the default capture command line,",
  "                       and wait the recorded delay, at most 60 s, before the first",
  "                       connection)",
  "  --trust              run the recorded QEMU command line as it is; without it, options",
  "                       that write, delete or listen on host resources, reach the network,",
  "                       pass host devices through or load other code are refused (exit 2;",
  "                       docs/replay_policy.md), and -serial/-parallel/-debugcon file:X",
  "                       writes go to OUT/qemu-X",
  "  --qemu PATH          run the recorded command line with this binary (named",
  "                       qemu-system-*) instead of the recorded one, found on PATH",
  '  --password TEXT      SPICE password for the fresh tickets (default: ""); also set on our',
  "                       QEMU when the recorded one had a password (never kept in",
  "                       session.json), and required then",
  "  --speed S            max (as fast as causality allows), realtime, or N (N× faster)",
  "                       (default: max); times anchored at the first recorded packet",
  "  --timeout MS         how long to wait for the server before a message (default: 10000);",
  "                       a screen may take the recorded time since the previous input",
  "                       plus this",
  "  --gate screen|none   screen (default): each input (inputs channel, main",
  "                       MOUSE_MODE_REQUEST and AGENT_DATA) also waits until the replayed",
  "                       screen has reached the one the recorded client saw then (masks:",
  "                       --rules' \"screen\" rules and the cursor's box); a screen never",
  "                       reached is a divergence, with expected.png, actual.png and",
  "                       diff.png in OUT. Before the first link to our own QEMU, its",
  "                       console (screendump over a QMP socket replay adds) must also show",
  "                       the recorded first screen within the recorded delay plus",
  "                       --timeout, else the same divergence (pre-link gate).",
  "                       none: causality and time only",
  '  --rules FILE         diff rules file; its "screen" rules mask screen areas',
  "  --allow-short        exit 0 when the replay ran to its end but a channel received",
  "                       fewer messages than recorded or inputs were not sent (else 1)",
  "  --ignore-env         replay even when a file QEMU reads (kernel, initrd, firmware, disk",
  "                       image) differs from the SHA-256 session.json pinned (else exit 2);",
  "                       files bundled in the session (capture --bundle) are used first",
  "  -o, --out DIR        new or empty replay session directory (default: DIR-replay-<timestamp>)",
  "  --until CHANNEL:#N   stop after the client message inspect --messages numbers #N on",
  "                       CHANNEL (main, display-1, …; per connection, client → server, from",
  "                       0) and keep the server running; its port is printed",
  "  --until N            the same after client message N counted over the whole session",
  "                       (from 1, in the order the replay sends)",
  "  --keep-server        leave the started QEMU running at the end; port and pid printed",
  "  --verbose            print each message sent or received (time, channel, direction,",
  "                       index, name, fields)",
  "  --json               print the result as one JSON object",
  "  -h, --help           show this help",
  "What is redone live: the link phase (fresh RSA ticket per connection; the auth mechanism",
  "word when the recorded client sent one; secondary links carry the live session id), PONG",
  "for each PING, ACK_SYNC for each SET_ACK, an ACK every window messages, full-header serials;",
  "the recorded PONG/ACK_SYNC/ACK are dropped (manifest 'droppedFromReplay'). DISPLAY_INIT",
  "goes out right after the display link result.",
  "Causality: before client message i the replay waits until the server has sent, on that",
  "connection, as many counted messages as the recording shows before it, and the same sync",
  "points (main INIT and CHANNELS_LIST, display SURFACE_CREATE, inputs/cursor INIT). Not",
  "counted (timing noise): PING, SET_ACK, MULTI_MEDIA_TIME, display drawing/stream/palette",
  "messages, cursor shapes and moves, playback DATA, inputs KEY_MODIFIERS. Secondary channels",
  "are linked in recorded order, each only after the live CHANNELS_LIST offers it. A wait",
  "longer than --timeout is a divergence (channel, message index and what was awaited).",
  "At the end the replay waits (up to --timeout) until each channel has received as many",
  "non-PING messages as recorded, stops recording, keeps the channels open ≥ 1 s after the",
  "last link, and closes secondary channels before main.",
  "Exit status: 0 replayed, 1 diverged or link refused, 2 usage/environment (an invalid",
  "session.json or a refused QEMU command line included), 130 interrupted (SIGINT/SIGTERM:",
  "the replay and its QEMU stop, session.json says replay.interrupted: true)",
  "Examples:",
  "  deno task replay fixtures/golden/screenshot --out /tmp/replay",
  "  deno task replay captures/x --target 127.0.0.1:5930 --password secret --speed realtime",
  "",
].join("\n");

function parse(args: string[]) {
  return parseCommandArgs(args, {
    command: "replay",
    flags: {
      target: { type: "string" },
      trust: { type: "boolean" },
      qemu: { type: "string" },
      password: { type: "string" },
      speed: { type: "string" },
      timeout: { type: "string" },
      gate: { type: "string" },
      rules: { type: "string" },
      "allow-short": { type: "boolean" },
      "ignore-env": { type: "boolean" },
      out: { type: "string", short: "o" },
      until: { type: "string" },
      "keep-server": { type: "boolean" },
      verbose: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** Parses `HOST:PORT` (IPv6 in brackets). */
export function parseTarget(text: string): { hostname: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw new UsageError(`--target expects HOST:PORT, got '${text}'`);
  }
  return { hostname: m[1].replace(/^\[|\]$/g, ""), port };
}

/**
 * The recorded QEMU command line of `source`, vetted by the replay policy
 * (lib/replay/qemu_policy.ts), ready for the driver; undefined when nothing was recorded.
 * Creates the output directory when the line writes files into it.
 *
 * @param source session directory or channel file
 * @param options `--trust`, `--qemu`, the replay's output directory and a log for rewrites
 * @throws {ManifestError} for an invalid manifest
 * @throws {QemuPolicyError} when the line runs something replay refuses
 * @throws {UsageError} for `--qemu` without a recorded command line
 */
export async function vettedServerCommandLine(
  source: string,
  options: {
    trust: boolean;
    qemu?: string;
    outDir: string;
    log?: (line: string) => void;
    ignoreEnv?: boolean;
  },
): Promise<string[] | undefined> {
  const { manifest, dir } = await openSession(source);
  const recorded = manifest?.server?.commandLine;
  if (recorded === undefined) {
    if (options.qemu === undefined) return undefined;
    throw new UsageError(
      `--qemu runs the recorded server command line, and ${source} has none ` +
        "(the capture did not start its QEMU)",
    );
  }
  const vetted = vetQemuCommandLine(recorded, { ...options, sessionDir: dir });
  if (vetted.rewrites.length > 0) {
    await prepareOutputDir(options.outDir);
    for (const note of vetted.rewrites) options.log?.(`QEMU output moved: ${note}`);
  }
  return await pinnedCommandLine(manifest, {
    commandLine: vetted.commandLine,
    sessionDir: dir,
    ignore: options.ignoreEnv === true,
    log: options.log ?? (() => {}),
  });
}

/**
 * Runs `deno task replay`.
 *
 * @returns 0 replayed, 1 diverged or refused, 2 usage or environment, 130 interrupted
 */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    await io.out(REPLAY_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `expected one session directory or channel file, got ${positionals.length}`,
    );
  }
  const source = positionals[0];
  if (values.qemu !== undefined && values.target !== undefined) {
    throw new UsageError("--qemu starts a server for the replay; it cannot go with --target");
  }
  const outDir = values.out ?? defaultReplayDir(source, new Date());
  const options = {
    source,
    target: values.target === undefined ? undefined : parseTarget(values.target),
    password: values.password,
    speed: values.speed === undefined ? undefined : parseSpeed(values.speed),
    timeoutMs: numberFlag(values.timeout, { flag: "timeout", kind: "positive integer" }),
    outDir,
    gate: parseGate(values.gate),
    screenMasks: values.rules === undefined ? undefined : await readScreenMasks(values.rules),
    ...parseUntil(values.until),
    keepServer: values["keep-server"],
  };
  try {
    await Deno.stat(source);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`${source}: no such file or directory`);
    }
    throw e;
  }
  await refuseSnapshotReplay(source);
  const err = (line: string) => void io.err(`spicecap replay: ${line}\n`).catch(() => {});
  const serverCommandLine = options.target ? undefined : await vettedServerCommandLine(source, {
    trust: values.trust === true,
    qemu: values.qemu,
    outDir,
    log: err,
    ignoreEnv: values["ignore-env"] === true,
  });
  // Refuse a used --out before anything starts (a vetted line has prepared it already).
  await prepareOutputDirFlag(outDir, "--out");
  let result;
  try {
    result = await replaySession({
      ...options,
      serverCommandLine,
      verbose: values.verbose ? (line) => void io.out(line).catch(() => {}) : undefined,
      log: err,
      signal: io.signal,
    });
  } catch (e) {
    if (e instanceof ManifestError) throw new UsageError(e.message);
    if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory) {
      throw new UsageError(`${e.message} (--out)`);
    }
    if (e instanceof Deno.errors.ConnectionRefused) {
      throw new EnvironmentError(`cannot connect to ${values.target}: ${e.message}`);
    }
    throw e;
  }
  return await report(result, {
    json: values.json === true,
    allowShort: values["allow-short"] === true,
    io,
    err,
  });
}

/**
 * `--until`: `N` (client message N of the session, from 1) or `CHANNEL:#N` (inspect's `#N`
 * on that channel's client → server direction).
 *
 * @throws {UsageError} for anything else, an unknown channel with the nearest name
 */
export function parseUntil(
  text: string | undefined,
): { until?: number; untilMessage?: { channel: string; index: number } } {
  if (text === undefined) return {};
  const m = /^(.+?):?#(\d+)$/.exec(text);
  if (m) return { untilMessage: { channel: channelFlag("until", m[1]), index: Number(m[2]) } };
  if (/^\d+$/.test(text) && Number(text) > 0) return { until: Number(text) };
  throw new UsageError(
    `--until expects CHANNEL:#N (inspect's numbering, e.g. main:#3) or N (from 1), got ${text}`,
  );
}

function parseGate(text: string | undefined): "screen" | "none" {
  if (text === undefined || text === "screen" || text === "none") return text ?? "screen";
  throw new UsageError(`--gate expects screen or none, got '${text}'`);
}

/** The `"screen"` rules of a `--rules` file. */
async function readScreenMasks(file: string): Promise<ScreenMask[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(`--rules ${file}: ${(e as Error).message}`);
  }
  try {
    return parseScreenMasks(text, file);
  } catch (e) {
    if (e instanceof ScreenMaskError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Prints the replay's outcome.
 *
 * @returns 130 interrupted, 1 diverged or short (without `allowShort`), 0 replayed
 */
async function report(
  result: ReplayResult,
  { json, allowShort, io, err }: {
    json: boolean;
    allowShort: boolean;
    io: Io;
    err: (line: string) => void;
  },
): Promise<number> {
  const { divergence, server, interrupted, short } = result;
  if (interrupted) err(`interrupted after ${result.sent} client messages; ${result.outDir} kept`);
  if (divergence) err(`diverged: ${divergence.message}`);
  if (short) err(allowShort ? `warning: ${short} (--allow-short)` : short);
  if (server) {
    err(`server kept running on 127.0.0.1:${server.port} (QEMU pid ${server.pid})`);
  }
  if (json) {
    await io.out(
      JSON.stringify({
        type: "summary",
        dir: result.outDir,
        target: result.target,
        sent: result.sent,
        interrupted,
        diverged: divergence ? { message: divergence.message, ...divergence.detail } : null,
        server: server ? { port: server.port, pid: server.pid } : null,
        droppedFromReplay: result.plan.dropped,
        warnings: result.warnings,
        short: short ?? null,
        gate: result.gate ?? null,
      }) + "\n",
    );
  } else {
    await io.out(
      `replayed ${result.sent} client messages against ${result.target} into ${result.outDir}` +
        `${
          interrupted ? " (interrupted)" : divergence ? " (diverged)" : short ? " (short)" : ""
        }\n`,
    );
  }
  return interrupted ? 130 : divergence || (short && !allowShort) ? 1 : 0;
}
