/**
 * Starting and stopping a QEMU with a SPICE server on loopback, for captures and tests.
 *
 * The guest has no disk: SeaBIOS' text screen is the display, which is enough to exercise the
 * main, display, inputs and cursor channels (plus playback, record and usbredir with
 * `channels: "all"`).
 */
import { dieWithUs, trackChild } from "./children.ts";
import { makeLaunchDir, removeLaunchDir, secretsToFiles, waitUntilOpened } from "./launch_files.ts";
import { usesStaticGuest, withStaticGuest, writeStaticGuest } from "./guest.ts";
import { resolveLinuxGuest } from "./linux_guest.ts";
import { systemClock } from "../../lib/capture/clock.ts";
import { EnvironmentError } from "../errors.ts";
import { requireTool } from "./tools.ts";
import { freePort, waitForPort } from "./ports.ts";
import {
  hasSpiceTlsPort,
  QEMU_BINARY,
  qemuCommandLine,
  type QemuLaunch,
  type QemuLineOptions,
  redactSecrets,
  withSpicePort,
} from "./qemu_command_line.ts";

export { freePort, type PortAddress, waitForPort, type WaitForPortOptions } from "./ports.ts";
export {
  hasRedactedSecret,
  QEMU_BINARY,
  qemuCommandLine,
  type QemuLaunch,
  type QemuLineOptions,
  type QemuTlsOptions,
  REDACTED_SECRET,
  redactSecrets,
  restoreSecrets,
  type SpicePorts,
  withSpicePort,
} from "./qemu_command_line.ts";

/** How {@link startQemu} starts QEMU. */
export interface QemuOptions extends QemuLineOptions {
  /** Plain SPICE port; a free loopback port when absent. */
  port?: number;
  /**
   * A recorded command line to run instead of building one (the other options are then
   * ignored); its `-spice port=` and `tls-port=` are replaced by free ports.
   */
  commandLine?: readonly string[];
  /**
   * How long to wait for the SPICE port to accept connections.
   * @default 15000
   */
  startTimeoutMs?: number;
}

/** A running QEMU started by {@link startQemu}. */
export interface QemuServer {
  /** Plain SPICE port on 127.0.0.1. */
  port: number;
  /** TLS SPICE port, when started with `tls` or from a recorded line that has one. */
  tlsPort?: number;
  /** Process id (stop only by this id). */
  pid: number;
  /**
   * The command line, binary first, as built or recorded. A secret's `data=` value here is handed
   * to QEMU in a file instead (`file=`), so it is never in QEMU's own argv.
   */
  commandLine: string[];
  /** Wall time when the process was spawned, ns since the epoch. */
  startedAtNs: bigint;
  /** Resolves when the process has exited. */
  exited: Promise<Deno.CommandStatus>;
  /** The last few KiB QEMU wrote to stderr. */
  stderrTail(): string;
  /** SIGTERM, then SIGKILL after a deadline; resolves once the process is gone. Idempotent. */
  stop(): Promise<void>;
}

const STDERR_TAIL_CHARS = 4096;
const STOP_GRACE_MS = 3000;
/** Starts tried when a free port was taken by another process before QEMU could bind it. */
const PORT_RACE_ATTEMPTS = 3;
/** What spice-server prints when it cannot bind a port; QEMU then exits. */
const BIND_FAILED = /binding socket to \S+ failed|Failed to open SPICE sockets/;

/** A spawned QEMU whose ports may not accept yet. */
interface Spawned {
  server: QemuServer;
  /** The exit status, once it has exited. */
  status(): Deno.CommandStatus | undefined;
}

/** SIGTERM, then SIGKILL when the process outlives the grace period; resolves once it is gone. */
async function terminate(child: Deno.ChildProcess, exited: Promise<unknown>): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((r) => timer = setTimeout(() => r(true), STOP_GRACE_MS)),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited in between
    }
  }
}

/** One start of QEMU, ready to spawn. */
interface Prepared {
  /** The ports on the line, and the static guest's image. */
  launch: QemuLaunch;
  /** The command line as built or recorded (secrets in `data=`): the server's `commandLine`. */
  commandLine: string[];
  /** What is spawned: secrets handed over in files, under `setpriv --pdeathsig KILL`. */
  argv: string[];
  /** Private directory of the image and secret files; removed once QEMU listens or exits. */
  filesDir: string;
}

/**
 * Spawns QEMU in its own process group, dying with us, and keeps the tail of its stderr.
 *
 * @param prepared what {@link prepareLaunch} made
 */
function spawnQemu(prepared: Prepared): Spawned {
  const { launch, commandLine, argv, filesDir } = prepared;
  const startedAtNs = systemClock().nowNs();
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  trackChild(child);

  let tail = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of child.stderr) {
        tail = (tail + decoder.decode(chunk, { stream: true })).slice(-STDERR_TAIL_CHARS);
      }
    } catch {
      // stderr closed while the process was being killed: nothing more to keep
    }
  })();
  let status: Deno.CommandStatus | undefined;
  const exited = child.status.then(async (s) => {
    status = s;
    await stderrDone;
    await removeLaunchDir(filesDir);
    return s;
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (status === undefined) await terminate(child, exited);
      await exited;
    })();
    return stopping;
  };
  const server: QemuServer = {
    port: launch.port,
    tlsPort: launch.tlsPort,
    pid: child.pid,
    commandLine,
    startedAtNs,
    exited,
    stderrTail: () => tail.trim(),
    stop,
  };
  return { server, status: () => status };
}

/**
 * This start's ports and static guest image, the command line that uses them, and what is
 * spawned: the image and the secrets' values go in a private temporary directory, never in argv.
 */
async function prepareLaunch(options: QemuOptions): Promise<Prepared> {
  const recorded = options.commandLine;
  const port = options.port ?? freePort();
  const tlsPort = options.tls
    ? options.tls.port ?? freePort()
    : recorded && hasSpiceTlsPort(recorded)
    ? freePort()
    : undefined;
  const filesDir = await makeLaunchDir("spicecap-qemu-");
  try {
    // The static guest's image is a temporary file, written afresh for a recorded line too.
    const wantsGuest = recorded ? usesStaticGuest(recorded) : options.guest === "static";
    const guestImage = wantsGuest ? await writeStaticGuest(filesDir) : undefined;
    const launch: QemuLaunch = { port, tlsPort, guestImage };
    const commandLine = recorded
      ? withSpicePort(guestImage ? withStaticGuest(recorded, guestImage) : recorded, launch)
      : qemuCommandLine(options, launch);
    const argv = dieWithUs(await secretsToFiles(commandLine, filesDir));
    return { launch, commandLine, argv, filesDir };
  } catch (e) {
    await removeLaunchDir(filesDir);
    throw e;
  }
}

/**
 * Waits until the plain SPICE port and then the TLS port (when there is one) accept: spice-server
 * binds them one after the other, and a QEMU that could not bind the second has already opened
 * the first when it exits.
 *
 * @throws {EnvironmentError} when QEMU exits first or a port never accepts within `timeoutMs`
 */
async function waitUntilListening(spawned: Spawned, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  const { port, tlsPort } = spawned.server;
  const ports: [string, number | undefined][] = [["SPICE port", port], ["SPICE TLS port", tlsPort]];
  for (const [what, p] of ports) {
    if (p === undefined) continue;
    await waitForPort({ hostname: "127.0.0.1", port: p }, {
      timeoutMs: Math.max(0, deadline - performance.now()),
      stillAlive: () => {
        const status = spawned.status();
        if (status === undefined) return undefined;
        return `QEMU exited (code ${status.code}${
          status.signal ? `, ${status.signal}` : ""
        }) before its ${what} ${p} accepted: ${spawned.server.stderrTail() || "(no stderr)"}`;
      },
    });
  }
}

/** The error for a QEMU that did not come up, with its stderr and command line. */
function startFailure(e: unknown, server: QemuServer): unknown {
  if (!(e instanceof EnvironmentError)) return e;
  const stderr = server.stderrTail();
  const message = e.message.startsWith("QEMU exited")
    ? e.message
    : `QEMU's SPICE port never accepted: ${e.message}; QEMU stderr: ${stderr || "(empty)"}`;
  const command = redactSecrets(server.commandLine).join(" ");
  return new EnvironmentError(`${message}\n  command: ${command}`);
}

/**
 * Starts QEMU with a SPICE server on 127.0.0.1 and waits until its ports accept.
 *
 * QEMU runs in its own process group, so a Ctrl-C in the terminal reaches spicecap first and
 * spicecap stops QEMU after it has closed its captures; and under `setpriv --pdeathsig KILL`, so
 * it dies with spicecap even when spicecap is killed (call this from the main thread only). Its
 * secrets and the static guest's image are files in a private temporary directory, removed once
 * QEMU listens. Ports are picked free just before QEMU
 * starts; when another process takes one in between, QEMU cannot bind it and is started again
 * on fresh ports.
 *
 * @param options how to start
 * @returns the running server
 * @throws {EnvironmentError} when QEMU is not installed, exits early, or never accepts
 */
export async function startQemu(options: QemuOptions = {}): Promise<QemuServer> {
  requireTool(options.commandLine?.[0] ?? QEMU_BINARY);
  options = await resolveLinuxGuest(options);
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  const portsPicked = options.port === undefined && options.tls?.port === undefined;
  for (let attempt = 1;; attempt++) {
    const prepared = await prepareLaunch(options);
    const spawned = spawnQemu(prepared);
    try {
      await waitUntilListening(spawned, timeoutMs);
      // Listening, QEMU has read its secrets; once it holds the image open too, nothing of this
      // start needs to stay on disk (a kill of spicecap then leaves no file behind).
      const image = prepared.launch.guestImage;
      const opened = await waitUntilOpened(spawned.server.pid, image ? [image] : [], {
        timeoutMs,
        stillRunning: () => spawned.status() === undefined,
      });
      if (opened) await removeLaunchDir(prepared.filesDir);
      return spawned.server;
    } catch (e) {
      await spawned.server.stop();
      const lostPort = BIND_FAILED.test(spawned.server.stderrTail());
      if (!(portsPicked && lostPort && attempt < PORT_RACE_ATTEMPTS)) {
        throw startFailure(e, spawned.server);
      }
    }
  }
}
