/**
 * QEMU command lines: the one `startQemu` (harness/processes/qemu.ts) builds from options, a
 * recorded one given fresh ports, and the SPICE password's secret object redacted for the
 * manifest and put back for a replay.
 *
 * @module
 */
import { staticGuestArgs } from "./guest.ts";
import { freePort } from "./ports.ts";
import { EnvironmentError } from "../errors.ts";
import type { DisplayCompression } from "../../lib/capture/manifest_types.ts";

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

/** What {@link qemuCommandLine} builds a command line from. */
export interface QemuLineOptions {
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
   * Display compression settings, each added as its `-spice` option (`image-compression=`,
   * `jpeg-wan-compression=`, `zlib-glz-wan-compression=`, `streaming-video=`) when set.
   */
  displayCompression?: DisplayCompression;
  /**
   * `"static"` boots a tiny guest whose screen never changes (harness/processes/guest.ts), so display
   * streams are byte-identical between runs; `"none"` leaves SeaBIOS with a blinking cursor;
   * `"linux"` boots the Linux test guest (harness/processes/linux_guest.ts; built on first use),
   * whose shell takes typed keys (startQemu adds its arguments, qemuCommandLine does not);
   * `"linux-fb"` boots it on an 800×600 framebuffer with its `photo` and `motion` commands.
   * @default "none"
   */
  guest?: "none" | "static" | "linux" | "linux-fb";
  /**
   * With the Linux guest: file for its serial port (ttyS0), where it writes `GUEST READY`.
   * Without it a recorded line's `-serial file:` goes to `null`.
   */
  serialLog?: string;
  /** Adds a TLS port; the plain port stays open too. */
  tls?: QemuTlsOptions;
}

/** A SPICE server's ports on 127.0.0.1. */
export interface SpicePorts {
  /** Plain SPICE port. */
  port: number;
  /** TLS SPICE port, when there is one. */
  tlsPort?: number;
}

/** What one start of QEMU uses besides the options: its ports and the static guest's image. */
export interface QemuLaunch extends SpicePorts {
  /** The static guest's image file, when it boots one (harness/processes/guest.ts). */
  guestImage?: string;
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
 * Whether a recorded command line's `-spice` option has a `tls-port=`.
 *
 * @param recorded argv, binary first
 */
export function hasSpiceTlsPort(recorded: readonly string[]): boolean {
  const i = recorded.indexOf("-spice");
  return i >= 0 && /(^|,)tls-port=\d+/.test(recorded[i + 1] ?? "");
}

/**
 * A recorded command line with its SPICE `port=` (and `tls-port=`) replaced.
 *
 * @param recorded argv, binary first
 * @param ports the new plain port, and the new TLS port (used only when the line has one; a
 *   free port when absent)
 * @returns the new argv
 * @throws {EnvironmentError} when the line has no `-spice` option with a `port=`
 */
export function withSpicePort(recorded: readonly string[], ports: SpicePorts): string[] {
  const { port, tlsPort } = ports;
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

/** `-spice` options for display compression settings, in a fixed order. */
export function displayCompressionOptions(c: DisplayCompression): string[] {
  const out: string[] = [];
  if (c.imageCompression) out.push(`image-compression=${c.imageCompression}`);
  if (c.jpegWan) out.push(`jpeg-wan-compression=${c.jpegWan}`);
  if (c.zlibGlzWan) out.push(`zlib-glz-wan-compression=${c.zlibGlzWan}`);
  if (c.streamingVideo) out.push(`streaming-video=${c.streamingVideo}`);
  return out;
}

/**
 * What every QEMU of ours runs with, before the SPICE options: a plain PC under TCG with 128 MiB,
 * a QXL card, no local display, no network and no default devices or config files.
 */
export const QEMU_BASE_ARGS: readonly string[] = Object.freeze([
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
]);

/**
 * The QEMU command line for `options` (binary first), with the ports already chosen.
 *
 * @param options how to start
 * @param launch the plain SPICE port, the TLS port (when `options.tls` is set) and the static
 *   guest's image (when it boots one)
 * @returns argv
 */
export function qemuCommandLine(options: QemuLineOptions, launch: QemuLaunch): string[] {
  const { port, tlsPort, guestImage } = launch;
  const spice = [`port=${port}`, "addr=127.0.0.1"];
  const args = [QEMU_BINARY, ...QEMU_BASE_ARGS];
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
  spice.push(...displayCompressionOptions(options.displayCompression ?? {}));
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
