/**
 * Starting and stopping a QEMU with a SPICE server on loopback, for captures and tests.
 *
 * The guest has no disk: SeaBIOS' text screen is the display, which is enough to exercise the
 * main, display, inputs and cursor channels (plus playback, record and usbredir with
 * `channels: "all"`).
 */
import { trackChild } from "./children.ts";
import { staticGuestArgs, usesStaticGuest, withStaticGuest, writeStaticGuest } from "./guest.ts";
import { resolveLinuxGuest } from "./linux_guest.ts";
import { systemClock } from "../../lib/capture/clock.ts";
import { EnvironmentError } from "../errors.ts";
import { requireTool } from "./tools.ts";

/** The QEMU binary the harness runs. */
export const QEMU_BINARY = "qemu-system-x86_64";

/** TLS settings for QEMU's `tls-port` (SPICE over TLS). */
export interface QemuTlsOptions {
  /** Directory with `ca-cert.pem`, `server-cert.pem`, `server-key.pem` (QEMU's x509-dir). */
  x509Dir: string;
  /** TLS port; a free loopback port when absent. */
  port?: number;
  /**
   * Channels that must use TLS (`tls-channel=`): spice-server names (`main`, `display`,
   * `inputs`, `cursor`, `playback`, `record`, `usbredir`, …) or `default` for every channel not
   * named. A plain link for such a channel gets link error NEED_SECURED.
   */
  tlsChannels?: string[];
  /** Channels that must stay plain (`plaintext-channel=`), same names as `tlsChannels`. */
  plaintextChannels?: string[];
}

/** How {@link startQemu} starts QEMU. */
export interface QemuOptions {
  /** SPICE password (ticketing on); absent → `disable-ticketing=on`. */
  password?: string;
  /** Arguments appended to the command line as they are. */
  extraArgs?: string[];
  /**
   * `"all"` adds audio (playback + record) and a usbredir channel.
   * @default "default"
   */
  channels?: "default" | "all";
  /** Adds `image-compression=off` (raw bitmaps, byte-stable display streams). */
  imageCompressionOff?: boolean;
  /**
   * `"static"` boots a tiny guest whose screen never changes (harness/guest.ts), so display
   * streams are byte-identical between runs; `"none"` leaves SeaBIOS with a blinking cursor;
   * `"linux"` boots the Linux test guest (harness/processes/linux_guest.ts; built on first use),
   * whose shell takes typed keys (startQemu adds its arguments, qemuCommandLine does not).
   * @default "none"
   */
  guest?: "none" | "static" | "linux";
  /**
   * With the Linux guest: file for its serial port (ttyS0), where it writes `GUEST READY`.
   * Without it a recorded line's `-serial file:` goes to `null`.
   */
  serialLog?: string;
  /** Adds a TLS port; the plain port stays open too. */
  tls?: QemuTlsOptions;
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
  /** TLS SPICE port, when started with `tls`. */
  tlsPort?: number;
  /** Process id (stop only by this id). */
  pid: number;
  /** The command line, binary first. */
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
const POLL_MS = 20;

/**
 * A TCP port on 127.0.0.1 that was free a moment ago.
 *
 * @returns the port number
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Polls until `host:port` accepts a TCP connection.
 *
 * @param host address to connect to
 * @param port port to connect to
 * @param timeoutMs deadline
 * @param stillAlive optional check between attempts; its error message (a string) aborts the wait
 * @throws {EnvironmentError} when the port never accepted within `timeoutMs`
 */
export async function waitForPort(
  host: string,
  port: number,
  timeoutMs: number,
  stillAlive?: () => string | undefined,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastError = "";
  while (true) {
    const dead = stillAlive?.();
    if (dead !== undefined) throw new EnvironmentError(dead);
    try {
      const conn = await Deno.connect({ hostname: host, port });
      conn.close();
      return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (performance.now() >= deadline) {
      throw new EnvironmentError(
        `${host}:${port} did not accept a TCP connection within ${timeoutMs} ms (${lastError})`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** QEMU option values separate by commas; a literal comma is written twice. */
function qemuEscape(value: string): string {
  return value.replaceAll(",", ",,");
}

/** What stands for a secret's value in a command line kept in a manifest. */
export const REDACTED_SECRET = "<redacted>";

/** Maps the `data=` value of each `-object secret,…` argument (values stay QEMU-escaped). */
function mapSecretData(
  commandLine: readonly string[],
  f: (escapedValue: string) => string,
): string[] {
  return commandLine.map((arg, i) => {
    if (commandLine[i - 1] !== "-object" || !arg.startsWith("secret,")) return arg;
    // split on single commas only: ",," is an escaped comma inside a value
    return arg.split(/(?<!,),(?!,)/)
      .map((part) => part.startsWith("data=") ? `data=${f(part.slice("data=".length))}` : part)
      .join(",");
  });
}

/**
 * The command line with every `-object secret,…,data=VALUE` value replaced by
 * {@link REDACTED_SECRET}, so a manifest never holds the SPICE password.
 *
 * @param commandLine argv
 * @returns a copy, redacted
 */
export function redactSecrets(commandLine: readonly string[]): string[] {
  return mapSecretData(commandLine, () => REDACTED_SECRET);
}

/**
 * Whether a (recorded) command line has a redacted secret that needs a password put back.
 *
 * @param commandLine argv
 */
export function hasRedactedSecret(commandLine: readonly string[]): boolean {
  let found = false;
  mapSecretData(commandLine, (v) => {
    found ||= v === REDACTED_SECRET;
    return v;
  });
  return found;
}

/**
 * Puts `password` back where {@link redactSecrets} left {@link REDACTED_SECRET}.
 *
 * @param commandLine a redacted argv
 * @param password the SPICE password
 * @returns a copy with the password in place
 */
export function restoreSecrets(commandLine: readonly string[], password: string): string[] {
  return mapSecretData(commandLine, (v) => v === REDACTED_SECRET ? qemuEscape(password) : v);
}

/**
 * A recorded command line with its SPICE `port=` (and `tls-port=`) replaced.
 *
 * @param recorded argv, binary first
 * @param port new plain port
 * @param tlsPort new TLS port, used only when the line has one
 * @returns the new argv
 * @throws {EnvironmentError} when the line has no `-spice` option with a `port=`
 */
export function withSpicePort(
  recorded: readonly string[],
  port: number,
  tlsPort?: number,
): string[] {
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

/**
 * The QEMU command line for `options` (binary first), with the ports already chosen.
 *
 * @param options how to start
 * @param port plain SPICE port
 * @param tlsPort TLS port, when `options.tls` is set
 * @returns argv
 */
export function qemuCommandLine(
  options: QemuOptions,
  port: number,
  tlsPort?: number,
  guestImage?: string,
): string[] {
  const spice = [`port=${port}`, "addr=127.0.0.1"];
  const args = [
    QEMU_BINARY,
    "-nodefaults",
    "-no-user-config",
    "-machine",
    "pc",
    "-accel",
    "tcg",
    "-m",
    "128",
    "-vga",
    "qxl",
    "-display",
    "none",
    "-nic",
    "none",
  ];
  if (options.password !== undefined) {
    args.push("-object", `secret,id=spsec,data=${qemuEscape(options.password)}`);
    spice.push("password-secret=spsec");
  } else {
    spice.push("disable-ticketing=on");
  }
  if (options.tls) {
    spice.push(`tls-port=${tlsPort}`, `x509-dir=${qemuEscape(options.tls.x509Dir)}`);
    for (const name of options.tls.tlsChannels ?? []) spice.push(`tls-channel=${qemuEscape(name)}`);
    for (const name of options.tls.plaintextChannels ?? []) {
      spice.push(`plaintext-channel=${qemuEscape(name)}`);
    }
  }
  if (options.imageCompressionOff) spice.push("image-compression=off");
  args.push("-spice", spice.join(","));
  if (options.channels === "all") {
    args.push(
      ...["-audiodev", "spice,id=a", "-device", "intel-hda", "-device", "hda-duplex,audiodev=a"],
      ...["-device", "qemu-xhci", "-chardev", "spicevmc,name=usbredir,id=u1"],
      ...["-device", "usb-redir,chardev=u1"],
    );
  }
  if (guestImage !== undefined) args.push(...staticGuestArgs(guestImage));
  args.push(...(options.extraArgs ?? []));
  return args;
}

/**
 * Starts QEMU with a SPICE server on 127.0.0.1 and waits until its port accepts.
 *
 * QEMU runs in its own process group, so a Ctrl-C in the terminal reaches spicecap first and
 * spicecap stops QEMU after it has closed its captures.
 *
 * @param options how to start
 * @returns the running server
 * @throws {EnvironmentError} when QEMU is not installed, exits early, or never accepts
 */
export async function startQemu(options: QemuOptions = {}): Promise<QemuServer> {
  requireTool(options.commandLine?.[0] ?? QEMU_BINARY);
  options = await resolveLinuxGuest(options);
  const port = options.port ?? freePort();
  const tlsPort = options.tls ? options.tls.port ?? freePort() : undefined;
  // The static guest's image is a temporary file, written afresh for a recorded line too.
  const wantsGuest = options.commandLine
    ? usesStaticGuest(options.commandLine)
    : options.guest === "static";
  const guestImage = wantsGuest ? await writeStaticGuest() : undefined;
  const commandLine = options.commandLine
    ? withSpicePort(
      guestImage ? withStaticGuest(options.commandLine, guestImage) : options.commandLine,
      port,
      tlsPort,
    )
    : qemuCommandLine(options, port, tlsPort, guestImage);
  const startedAtNs = systemClock().nowNs();
  const child = new Deno.Command(commandLine[0], {
    args: commandLine.slice(1),
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
    if (guestImage) await Deno.remove(guestImage).catch(() => {});
    return s;
  });
  const stderrTail = () => tail.trim();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (status === undefined) {
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
      await exited;
    })();
    return stopping;
  };

  const server: QemuServer = {
    port,
    tlsPort,
    pid: child.pid,
    commandLine,
    startedAtNs,
    exited,
    stderrTail,
    stop,
  };
  const timeoutMs = options.startTimeoutMs ?? 15_000;
  try {
    await waitForPort("127.0.0.1", port, timeoutMs, () => {
      if (status === undefined) return undefined;
      return `QEMU exited (code ${status.code}${
        status.signal ? `, ${status.signal}` : ""
      }) before its SPICE port ${port} accepted: ${stderrTail() || "(no stderr)"}`;
    });
  } catch (e) {
    await stop();
    if (!(e instanceof EnvironmentError)) throw e;
    const message = e.message.startsWith("QEMU exited")
      ? e.message
      : `QEMU's SPICE port never accepted: ${e.message}; QEMU stderr: ${stderrTail() || "(empty)"}`;
    throw new EnvironmentError(`${message}\n  command: ${commandLine.join(" ")}`);
  }
  return server;
}
