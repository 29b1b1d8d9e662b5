/**
 * The replay's own server: QEMU started from the command line recorded in a session manifest
 * (ports replaced by free ones), or the default capture command line.
 */
import { EnvironmentError } from "./errors.ts";
import { freePort, startQemu, waitForPort } from "./qemu.ts";
import { requireTool } from "./tools.ts";

/** A server the replay started. */
export interface ReplayServer {
  port: number;
  pid: number;
  commandLine: string[];
  /** performance.now() just before the spawn (the capture measures its delay from there too). */
  spawnedAtMs: number;
  /** Resolves with the exit status once the process is gone. */
  exited: Promise<Deno.CommandStatus>;
  stderrTail(): string;
  /** SIGTERM, SIGKILL after 3 s; idempotent. */
  stop(): Promise<void>;
}

/**
 * The recorded command line with the SPICE `port=` (and `tls-port=`) replaced.
 *
 * @param recorded argv from the manifest, binary first
 * @param port new plain port
 * @param tlsPort new TLS port, used only when the line has one
 * @returns the new argv
 * @throws {EnvironmentError} when the line has no `-spice` option with a `port=`
 */
export function withPort(recorded: readonly string[], port: number, tlsPort?: number): string[] {
  const out = [...recorded];
  const i = out.indexOf("-spice");
  if (i < 0 || i + 1 >= out.length || !/(^|,)port=\d+/.test(out[i + 1])) {
    throw new EnvironmentError(
      `the recorded server command line has no '-spice port=N' option: ${recorded.join(" ")}`,
    );
  }
  out[i + 1] = out[i + 1]
    .replace(/(^|,)port=\d+/, `$1port=${port}`)
    .replace(/(^|,)tls-port=\d+/, `$1tls-port=${tlsPort ?? freePort()}`);
  return out;
}

const STOP_GRACE_MS = 3000;
const TAIL_CHARS = 4096;

/**
 * Starts QEMU from a recorded command line (or the default one) and waits for its port.
 *
 * @param recorded argv from the manifest; undefined → harness/qemu.ts defaults
 * @param timeoutMs how long the port may take to accept
 * @returns the running server
 * @throws {EnvironmentError} when QEMU is missing, exits early or never accepts
 */
export async function startReplayServer(
  recorded: readonly string[] | undefined,
  timeoutMs = 15_000,
): Promise<ReplayServer> {
  if (!recorded) {
    const spawnedAtMs = performance.now();
    const q = await startQemu({ startTimeoutMs: timeoutMs });
    return { ...q, spawnedAtMs };
  }
  requireTool(recorded[0]);
  const port = freePort();
  const commandLine = withPort(recorded, port);
  const spawnedAtMs = performance.now();
  const child = new Deno.Command(commandLine[0], {
    args: commandLine.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    detached: true,
  }).spawn();
  let tail = "";
  const stderrDone = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of child.stderr) {
        tail = (tail + decoder.decode(chunk, { stream: true })).slice(-TAIL_CHARS);
      }
    } catch {
      // stderr closed while the process was killed
    }
  })();
  let status: Deno.CommandStatus | undefined;
  const exited = child.status.then(async (s) => {
    status = s;
    await stderrDone;
    return s;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    stopping ??= (async () => {
      if (status === undefined) {
        try {
          child.kill("SIGTERM");
        } catch {
          // already gone
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = await Promise.race([
          exited.then(() => false),
          new Promise<boolean>((r) => timer = setTimeout(() => r(true), STOP_GRACE_MS)),
        ]);
        clearTimeout(timer);
        if (late) {
          try {
            child.kill("SIGKILL");
          } catch {
            // exited in between
          }
        }
      }
      await exited;
    })();
  try {
    await waitForPort(
      "127.0.0.1",
      port,
      timeoutMs,
      () =>
        status === undefined
          ? undefined
          : `QEMU exited (code ${status.code}) before port ${port} accepted: ${tail.trim()}`,
    );
  } catch (e) {
    await stop();
    throw e instanceof EnvironmentError
      ? new EnvironmentError(`${e.message}\n  command: ${commandLine.join(" ")}`)
      : e;
  }
  return {
    port,
    pid: child.pid,
    commandLine,
    spawnedAtMs,
    exited,
    stderrTail: () => tail.trim(),
    stop,
  };
}
