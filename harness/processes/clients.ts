/**
 * Running real SPICE clients (spice-gtk's `spicy-screenshot` and `spicy`, virt-viewer's
 * `remote-viewer`) against a host and port, headless.
 */
import { dieWithUs, trackChild } from "./children.ts";
import { makeLaunchDir, removeLaunchDir, writeVvFile } from "./launch_files.ts";
import { reserveXServerNumber, type XServerNumber } from "./x_server.ts";
import { requireTool } from "./tools.ts";

/** The real clients the harness can drive. */
export type ClientKind = "spicy-screenshot" | "spicy" | "remote-viewer";

/** Every {@link ClientKind}, for option validation. */
export const CLIENT_KINDS: readonly ClientKind[] = Object.freeze([
  "spicy-screenshot",
  "spicy",
  "remote-viewer",
]);

/** How {@link runClient} starts a client. */
export interface ClientOptions {
  /** Server (or proxy) address. */
  host: string;
  /** Plain SPICE port. */
  port: number;
  /** SPICE password. */
  password?: string;
  /** Stop the client (SIGTERM) after this long; absent → it runs until it exits or stop(). */
  durationMs?: number;
  /** Screenshot file for `spicy-screenshot` (PPM). @default "spicy-screenshot.ppm" in the cwd */
  outFile?: string;
  /** TLS port (spice-gtk `-s`); channels then go over TLS when the server asks for it. */
  tlsPort?: number;
  /** CA certificate file that signs the TLS server's certificate (`--spice-ca-file`). */
  caFile?: string;
  /** Extra arguments appended to the client's own arguments. */
  extraArgs?: string[];
}

/** A client started by {@link runClient}. */
export interface ClientRun {
  kind: ClientKind;
  /** The command line, binary first (`xvfb-run` when wrapped). */
  commandLine: string[];
  /** Process id of the started process (`xvfb-run` when wrapped). */
  pid: number;
  child: Deno.ChildProcess;
  /** Resolves when the client (and its Xvfb) has exited. */
  exited: Promise<Deno.CommandStatus>;
  /** Everything the client wrote to stderr (and stdout) so far, last 16 KiB. */
  stderrText(): string;
  /** Whether the harness stopped the client (duration elapsed or stop()). */
  readonly stoppedByHarness: boolean;
  /** SIGTERM to the client, SIGKILL to its process group after a deadline; idempotent. */
  stop(): Promise<void>;
  /**
   * Sends `signal` to the client program itself (under xvfb-run: its child, so xvfb-run still
   * cleans up its Xvfb). Does nothing once it has exited.
   */
  kill(signal: Deno.Signal): void;
}

const OUTPUT_TAIL_CHARS = 16_384;
const STOP_GRACE_MS = 3000;

/**
 * The client's arguments. remote-viewer gets a `.vv` connection file (address, password, CA) in
 * `filesDir`, so its password is not in its argv; spicy and spicy-screenshot take a password only
 * as `-w` (or in a `--uri`), so theirs is.
 */
async function clientArgs(
  kind: ClientKind,
  { options: o, filesDir }: { options: ClientOptions; filesDir: string },
): Promise<string[]> {
  if (kind === "remote-viewer") {
    return [await writeVvFile(filesDir, o), ...(o.extraArgs ?? [])];
  }
  const args = ["-h", o.host, "-p", String(o.port)];
  if (o.tlsPort !== undefined) args.push("-s", String(o.tlsPort));
  if (o.password !== undefined) args.push("-w", o.password);
  if (kind === "spicy-screenshot") args.push("-o", o.outFile ?? "spicy-screenshot.ppm");
  if (kind === "spicy" && o.caFile) args.push(`--spice-ca-file=${o.caFile}`);
  return [...args, ...(o.extraArgs ?? [])];
}

/** Child pids of `pid` (Linux /proc), or [] when unknown. */
function childPids(pid: number): number[] {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`);
    return text.trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function processName(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/comm`).trim();
  } catch {
    return "";
  }
}

function trySignal(pid: number, signal: Deno.Signal): void {
  try {
    Deno.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** A client started by {@link spawnClient}. */
interface SpawnedClient {
  /** The child: the client, or xvfb-run around it. */
  child: Deno.ChildProcess;
  /** What was run. */
  commandLine: string[];
  /** The private directory of its launch files. */
  filesDir: string;
  /** Whether it runs under xvfb-run. */
  needsX: boolean;
  /** The X server number reserved for it (under xvfb-run). */
  xServer?: XServerNumber;
}

/** Starts the client process (under xvfb-run when it needs an X display and there is none). */
async function spawnClient(kind: ClientKind, options: ClientOptions): Promise<SpawnedClient> {
  requireTool(kind);
  const needsX = kind !== "spicy-screenshot" && !Deno.env.get("DISPLAY");
  if (needsX) requireTool("xvfb-run");
  const filesDir = await makeLaunchDir("spicecap-client-");
  let own: string[];
  try {
    // The client dies with us (parent-death signal); under xvfb-run, xvfb-run does too.
    own = dieWithUs([kind, ...await clientArgs(kind, { options, filesDir })]);
  } catch (e) {
    await removeLaunchDir(filesDir);
    throw e;
  }
  // Our own server number, not `xvfb-run -a`: two clients started together could share one.
  const xServer = needsX ? await reserveXServerNumber() : undefined;
  const commandLine = xServer
    ? dieWithUs(["xvfb-run", `--server-num=${xServer.number}`, ...own])
    : own;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(commandLine[0], {
      args: commandLine.slice(1),
      // spicy-screenshot has no CA option: OpenSSL's SSL_CERT_FILE is how it trusts a CA.
      env: kind === "spicy-screenshot" && options.caFile
        ? { SSL_CERT_FILE: options.caFile }
        : undefined,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      detached: true,
    }).spawn();
  } catch (e) {
    await xServer?.release();
    throw e;
  }
  trackChild(child);
  return { child, commandLine, filesDir, needsX, xServer };
}

/** Reads the child's stdout and stderr to their end, keeping the last 16 KiB of both. */
function collectOutput(
  child: Deno.ChildProcess,
): { drained: Promise<unknown>; text: () => string } {
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of stream) {
        output = (output + decoder.decode(chunk, { stream: true })).slice(-OUTPUT_TAIL_CHARS);
      }
    } catch {
      // the pipe broke while the client was killed
    }
  };
  const drained = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return { drained, text: () => output };
}

/**
 * Starts a real SPICE client. `spicy` and `remote-viewer` run under `xvfb-run` (on an X server number of their own) when
 * `DISPLAY` is unset. The client gets its own process group so a terminal Ctrl-C reaches
 * spicecap first, and runs under `setpriv --pdeathsig KILL` (xvfb-run too) so it dies with
 * spicecap. remote-viewer reads its address and password from a `.vv` file (0600, removed once
 * read); spicy and spicy-screenshot have no way but `-w`, so their password is in their argv.
 *
 * @param kind which client
 * @param options where it connects and for how long
 * @returns the running client
 * @throws {EnvironmentError} when the client (or xvfb-run) is not installed
 */
export async function runClient(kind: ClientKind, options: ClientOptions): Promise<ClientRun> {
  const { child, commandLine, filesDir, needsX, xServer } = await spawnClient(kind, options);
  const output = collectOutput(child);
  let status: Deno.CommandStatus | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = child.status.then(async (s) => {
    status = s;
    clearTimeout(timer);
    await output.drained;
    await removeLaunchDir(filesDir);
    await xServer?.release();
    return s;
  });
  // remote-viewer removes its .vv file once read (delete-this-file=1); then so does the dir.
  void waitUntilGone(`${filesDir}/connection.vv`, () => status === undefined)
    .then(() => removeLaunchDir(filesDir));

  /** The client program: xvfb-run's children other than Xvfb, or the child itself. */
  const clientPids = () => {
    if (!needsX) return [child.pid];
    return childPids(child.pid).filter((p) => processName(p) !== "Xvfb");
  };
  let stoppedByHarness = false;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    if (status === undefined) stoppedByHarness = true;
    stopping ??= (async () => {
      if (status !== undefined) return;
      // Under xvfb-run, end the client itself so xvfb-run stops its Xvfb and removes its files.
      const targets = clientPids();
      for (const pid of targets.length > 0 ? targets : [child.pid]) trySignal(pid, "SIGTERM");
      let grace: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((r) => grace = setTimeout(() => r(true), STOP_GRACE_MS)),
      ]);
      clearTimeout(grace);
      if (timedOut) trySignal(-child.pid, "SIGKILL"); // its own group: client, Xvfb, shell
      await exited;
    })();
    return stopping;
  };
  if (options.durationMs !== undefined) {
    timer = setTimeout(() => void stop(), options.durationMs);
  }

  return {
    kind,
    commandLine,
    pid: child.pid,
    child,
    exited,
    stderrText: output.text,
    get stoppedByHarness() {
      return stoppedByHarness;
    },
    stop,
    kill: (signal) => {
      if (status === undefined) { for (const pid of clientPids()) trySignal(pid, signal); }
    },
  };
}

/** Polls until `path` no longer exists or `waiting` says stop (the client exited). */
async function waitUntilGone(path: string, waiting: () => boolean): Promise<void> {
  while (waiting()) {
    try {
      await Deno.lstat(path);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Reads a binary PPM (P6, maxval < 256) and reports its size and whether any pixel is non-black.
 *
 * @param bytes the file's bytes
 * @returns width, height and whether some byte of the pixel data is non-zero
 * @throws {Error} when the bytes are not a P6 PPM
 */
export function ppmInfo(bytes: Uint8Array): { width: number; height: number; nonBlack: boolean } {
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 64)));
  const m = /^P6\s+(?:#[^\n]*\n\s*)*(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
  if (!m) throw new Error(`Cannot read PPM: expected a "P6 width height maxval" header`);
  const [width, height] = [Number(m[1]), Number(m[2])];
  const pixels = bytes.subarray(m[0].length);
  if (pixels.length < width * height * 3) {
    throw new Error(
      `Cannot read PPM: need ${width * height * 3} pixel bytes, found ${pixels.length}`,
    );
  }
  return { width, height, nonBlack: pixels.some((b) => b !== 0) };
}
