/** `deno task serve DIR`: play the recorded server side of a session to a real SPICE client. */
import { numberFlag, parseCommandArgs, parseSpeed } from "../args.ts";
import { ManifestError } from "../../lib/capture/manifest.ts";
import { prepareOutputDirFlag } from "../output_dir.ts";
import { ServePlanError } from "../../lib/serve/plan.ts";
import { EnvironmentError, InputError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { defaultReplayDir } from "../replay/driver.ts";
import { loadServePlan, type ServedSession, serveRecording } from "../serve/server.ts";

/** The `--help` text. */
export const SERVE_HELP = [
  "Usage: deno task serve [options] DIR",
  "Play the recorded server side of a session directory (or one channel file) to a real SPICE",
  "client, and record what the client does as a session directory.",
  "  --listen HOST:PORT   address to listen on (default: 127.0.0.1:0, a free port); the",
  "                       spice://HOST:PORT URL is printed on stderr. An address other than",
  "                       loopback gets a warning: anyone who reaches it sees the recording",
  "  --password TEXT      password the client's tickets must carry (default: any ticket);",
  "                       a wrong one gets PERMISSION_DENIED",
  "  --speed S            max (as fast as causality allows), realtime, or N (N× faster)",
  "                       (default: max); times anchored at the client's main link",
  "  --loop               serve one client session after another until interrupted",
  "  -o, --out DIR        where the client's behaviour is recorded (default:",
  "                       DIR-serve-<timestamp>); with --loop the next sessions go to",
  "                       DIR-2, DIR-3, …",
  "  --strict             stop at the first divergence (exit 1)",
  "  --timeout MS         a wait for the client longer than this ends the session (default:",
  "                       10000)",
  "  --idle MS            once everything was sent, how long a client that sent less than the",
  "                       recorded one is waited for (default: 1000)",
  "  --vv FILE            also write a remote-viewer connection file (0600, created new) with",
  "                       the address and --password: remote-viewer FILE keeps the password",
  "                       out of its argv",
  "  --json               print one JSON object per client session on stdout",
  "  -h, --help           show this help",
  "Link phase: a new RSA-1024 key per connection, the recorded capabilities, the ticket",
  "decrypted and checked against --password. MAIN_INIT goes out with a fresh session id that",
  "every secondary link must carry (else BAD_CONNECTION_ID); CHANNELS_LIST offers the",
  "recorded channels only (others get CHANNEL_NOT_AVAILABLE).",
  "Then each connection gets its recorded server messages in order, each once the client has",
  "sent, on that connection, as many messages as the recorded client had sent before it",
  "(PONG, ACK_SYNC and ACK are answers: never waited for), paced by --speed and held back",
  "while more than twice the SET_ACK window is unacknowledged. A client message whose type",
  "is not the recorded one at that position is a divergence (channel, index, both types).",
  "The session ends when the client closes main, or once every recorded message was sent,",
  "the client sent what the recorded one did (or was quiet for --idle) and no link came for",
  "1 s; serve then closes the channels, secondary ones first. Recorded channels the client",
  "did not open are reported as skipped.",
  "Exit status: 0 every session served to the end, 1 a divergence with --strict, a refused",
  "link, a client that left early or stalled, 2 usage, environment or unreadable recording",
  "Examples:",
  "  deno task serve fixtures/golden/screenshot -o /tmp/served",
  "  deno task serve fixtures/golden/password --password secret --listen 127.0.0.1:5930",
  "",
].join("\n");

function parse(args: string[]) {
  return parseCommandArgs(args, {
    command: "serve",
    flags: {
      listen: { type: "string" },
      password: { type: "string" },
      speed: { type: "string" },
      loop: { type: "boolean" },
      out: { type: "string", short: "o" },
      strict: { type: "boolean" },
      timeout: { type: "string" },
      idle: { type: "string" },
      vv: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

/** Parses `--listen HOST:PORT` (IPv6 in brackets; port 0 = a free one). */
export function parseListen(text: string): { hostname: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || !(port >= 0 && port < 65536)) {
    throw new UsageError(`--listen expects HOST:PORT, got '${text}'`);
  }
  return { hostname: m[1].replace(/^\[|\]$/g, ""), port };
}

/** Whether `hostname` is a loopback address. */
export function isLoopback(hostname: string): boolean {
  return /^127\./.test(hostname) || hostname === "::1" || hostname === "localhost";
}

/**
 * A remote-viewer connection file for `spice://host:port` (and the password, when there is
 * one), written new with mode 0600.
 *
 * @param path where to write it; an existing file is an error, never overwritten
 * @param where the listening address and the password
 */
export async function writeVvFile(
  path: string,
  where: { hostname: string; port: number; password?: string },
): Promise<void> {
  const lines = ["[virt-viewer]", "type=spice", `host=${where.hostname}`, `port=${where.port}`];
  if (where.password !== undefined) lines.push(`password=${where.password}`);
  await Deno.writeTextFile(path, lines.join("\n") + "\n", { createNew: true, mode: 0o600 });
}

/** `DIR-serve-YYYYMMDDTHHMMSSZ`. */
function defaultServeDir(source: string, now: Date): string {
  return defaultReplayDir(source, now).replace(/-replay-(\d{8}T\d{6}Z)$/, "-serve-$1");
}

function sessionLine(s: ServedSession): string {
  const o = s.outcome;
  const skipped = o.skipped.length > 0 ? `; skipped (not opened): ${o.skipped.join(", ")}` : "";
  const div = o.divergences.length > 0 ? `; ${o.divergences.length} divergences` : "";
  return `${o.status}: ${o.sent} server messages on ${o.channels.length} connections, ` +
    `recorded into ${s.outDir}${div}${skipped}${o.message ? ` (${o.message})` : ""}\n`;
}

function sessionJson(s: ServedSession): string {
  const o = s.outcome;
  return JSON.stringify({
    type: "session",
    dir: s.outDir,
    status: o.status,
    message: o.message ?? null,
    sent: o.sent,
    sessionId: o.sessionId,
    connectToLastMs: o.connectToLastMs,
    channels: o.channels,
    skipped: o.skipped,
    divergences: o.divergences,
  }) + "\n";
}

/**
 * Runs `deno task serve`.
 *
 * @returns 0 every session served to the end, 1 otherwise, 2 usage or environment
 */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    await io.out(SERVE_HELP);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `expected one session directory or channel file, got ${positionals.length}`,
    );
  }
  const source = positionals[0];
  const listen = parseListen(values.listen ?? "127.0.0.1:0");
  const err = (line: string) => void io.err(`spicecap serve: ${line}\n`).catch(() => {});
  if (!isLoopback(listen.hostname)) {
    err(`warning: listening on ${listen.hostname}, not loopback: anyone who reaches it is served`);
  }
  const speed = values.speed === undefined ? undefined : parseSpeed(values.speed);
  const timeoutMs = numberFlag(values.timeout, { flag: "timeout", kind: "positive integer" });
  const idleMs = numberFlag(values.idle, { flag: "idle", kind: "non-negative integer" });
  const plan = await loadServePlan(source).catch((e) => {
    if (e instanceof Deno.errors.NotFound) {
      throw new InputError(`${source}: no such file or directory`);
    }
    if (e instanceof ServePlanError || e instanceof ManifestError) {
      throw new InputError(`${source}: ${e.message}`);
    }
    throw e;
  });
  for (const line of plan.plan.unusable) err(`warning: not served: ${line}`);
  const outDir = values.out ?? defaultServeDir(source, new Date());
  await prepareOutputDirFlag(outDir, "--out");
  let printing = Promise.resolve();
  let vvWritten: Promise<void> = Promise.resolve();
  const sessions = await serveRecording({
    ...plan,
    ...listen,
    password: values.password,
    speed,
    strict: values.strict,
    loop: values.loop,
    outDir,
    timeoutMs,
    idleMs,
    onListening: (url, port) => {
      err(`serving ${source} on ${url}`);
      if (values.vv === undefined) return;
      vvWritten = writeVvFile(values.vv, { ...listen, port, password: values.password }).catch(
        (e) => err(`cannot write --vv ${values.vv}: ${(e as Error).message}`),
      );
    },
    onSession: (s) => {
      printing = printing.then(() => io.out(values.json ? sessionJson(s) : sessionLine(s)));
    },
    log: err,
    signal: io.signal,
  }).catch((e) => {
    if (e instanceof Deno.errors.AddrInUse || e instanceof Deno.errors.AddrNotAvailable) {
      throw new EnvironmentError(`cannot listen on ${values.listen}: ${e.message}`);
    }
    throw e;
  });
  await Promise.all([printing, vvWritten]);
  if (sessions.length === 0) {
    err("no client session was served");
    return 1;
  }
  return sessions.every((s) => s.outcome.status === "served") ? 0 : 1;
}
