/**
 * A real Linux guest for QEMU: Debian's kernel plus a busybox initramfs, built on first use by
 * testing/guest/build_linux_guest.sh into `.tools/guest/` (ignored by git) and reused while that
 * script is unchanged. It boots to a shell in about 8 s under TCG, prints `GUEST READY` on the
 * screen and on its serial port, and takes keys typed in a SPICE client.
 */
import { EnvironmentError, UsageError } from "../errors.ts";
import { hasTool } from "./tools.ts";
import { createNewFile } from "../../lib/capture/file_sink.ts";

/** Marker in the guest's directory name, so a recorded command line can be pointed at the cache. */
export const LINUX_GUEST_MARKER = "spicecap-linux-guest";

/**
 * The kernel command line: VGA console only, quiet kernel, no uptime on screen and no blinking
 * cursor, so the screen is the same on every boot.
 */
export const LINUX_GUEST_APPEND =
  "console=tty0 loglevel=4 spicecap.quiet vt.global_cursor_default=0";

/**
 * The kernel command line of the framebuffer guest (`--guest linux-fb`): QEMU's loader sets VESA
 * mode 0x143 (800×600, 32 bits), so the console is on vesafb's /dev/fb0 and the guest's `photo`
 * and `motion` commands can draw pictures (testing/guest/build_linux_guest.sh).
 */
export const LINUX_GUEST_FB_APPEND = `${LINUX_GUEST_APPEND} vga=0x343`;

/** What the guest writes to its serial port (ttyS0) once its shell is about to start. */
export const LINUX_GUEST_READY = "GUEST READY";

/** A built guest: files for QEMU's `-kernel`, `-initrd` and the `-append` line. */
export interface LinuxGuest {
  kernel: string;
  initrd: string;
  append: string;
}

/** How {@link ensureLinuxGuest} finds or builds the guest. */
export interface EnsureLinuxGuestOptions {
  /** Cache directory. @default `.tools/guest` under the repository root */
  cacheDir?: string;
  /** Where the one "building…" line goes. @default stderr */
  log?: (line: string) => void;
}

const REPO_ROOT = new URL("../../", import.meta.url).pathname;
const BUILD_SCRIPT = new URL("../../testing/guest/build_linux_guest.sh", import.meta.url).pathname;
const KERNEL_FILE = "vmlinuz";
const INITRD_FILE = "initramfs.cpio.gz";
const NEEDED_TOOLS = ["apt-get", "apt-cache", "dpkg-deb", "gzip"];

/** Builds in flight in this process, by cache directory (the file lock covers other processes). */
const inFlight = new Map<string, Promise<LinuxGuest>>();

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** First 16 hex digits of the SHA-256 of the build script: a changed recipe builds afresh. */
async function recipeHash(): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(BUILD_SCRIPT));
  return Array.from(new Uint8Array(digest).slice(0, 8), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

function guestIn(dir: string): LinuxGuest {
  return {
    kernel: `${dir}/${KERNEL_FILE}`,
    initrd: `${dir}/${INITRD_FILE}`,
    append: LINUX_GUEST_APPEND,
  };
}

/**
 * The Linux test guest, built into the cache on first use (one line on stderr; downloads about
 * 70 MB of Debian packages) and reused afterwards. Concurrent callers, in this process or in
 * others, wait for one build.
 *
 * @param options cache directory and log
 * @returns paths for `-kernel` and `-initrd`, and the `-append` line
 * @throws {EnvironmentError} when apt-get or dpkg-deb is missing, or the build fails
 */
export function ensureLinuxGuest(options: EnsureLinuxGuestOptions = {}): Promise<LinuxGuest> {
  const cacheDir = options.cacheDir ?? `${REPO_ROOT}.tools/guest`;
  let pending = inFlight.get(cacheDir);
  if (!pending) {
    pending = findOrBuild(cacheDir, options.log ?? ((line) => console.error(line)));
    inFlight.set(cacheDir, pending);
    pending.catch(() => inFlight.delete(cacheDir));
  }
  return pending;
}

async function findOrBuild(cacheDir: string, log: (line: string) => void): Promise<LinuxGuest> {
  const dir = `${cacheDir}/${LINUX_GUEST_MARKER}-${await recipeHash()}`;
  if (exists(`${dir}/${KERNEL_FILE}`)) return guestIn(dir);
  const missing = NEEDED_TOOLS.filter((t) => !hasTool(t));
  if (missing.length > 0) {
    throw new EnvironmentError(
      `the Linux test guest is built from Debian packages, but ${missing.join(", ")} ` +
        `${missing.length > 1 ? "are" : "is"} not installed: run on Debian or Ubuntu (apt and ` +
        "dpkg), or build it elsewhere with testing/guest/build_linux_guest.sh and copy the " +
        `result to ${dir}/`,
    );
  }
  await Deno.mkdir(cacheDir, { recursive: true });
  // flock: released by the kernel if this process dies, so a crashed build never blocks others.
  const lock = await Deno.open(`${cacheDir}/build.lock`, { create: true, write: true });
  try {
    await lock.lock(true);
    if (exists(`${dir}/${KERNEL_FILE}`)) return guestIn(dir); // another process built it
    log(`spicecap: building the Linux test guest into ${dir} (once; ~70 MB of Debian packages)`);
    await build(cacheDir, dir);
    return guestIn(dir);
  } finally {
    lock.close(); // closing the file releases the lock
  }
}

/** Runs the script into a scratch directory, then renames it into place (holding the lock). */
async function build(cacheDir: string, dir: string): Promise<void> {
  for (const e of Deno.readDirSync(cacheDir)) {
    // leftovers of a killed build, and guests of older recipes
    if (e.isDirectory && (e.name.startsWith("build-") || e.name.startsWith(LINUX_GUEST_MARKER))) {
      Deno.removeSync(`${cacheDir}/${e.name}`, { recursive: true });
    }
  }
  const scratch = `${cacheDir}/build-${Deno.pid}`;
  const out = await new Deno.Command("sh", {
    args: [BUILD_SCRIPT, scratch],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    const tail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join(" | ");
    throw new EnvironmentError(
      `building the Linux test guest failed (exit ${out.code}): ${tail || "(no output)"}; ` +
        "if apt-get could not find a package, run apt-get update",
    );
  }
  await Deno.rename(scratch, dir);
}

/**
 * QEMU arguments that boot `guest`, its serial port written to `serialLog` when given.
 *
 * @param guest from {@link ensureLinuxGuest}
 * @param serialLog file for the guest's ttyS0 (created or truncated by QEMU)
 */
export function linuxGuestArgs(guest: LinuxGuest, serialLog?: string): string[] {
  const args = ["-kernel", guest.kernel, "-initrd", guest.initrd, "-append", guest.append];
  if (serialLog !== undefined) args.push("-serial", `file:${serialLog}`);
  return args;
}

/**
 * Whether a (recorded) command line boots the Linux test guest.
 *
 * @param commandLine argv
 */
export function usesLinuxGuest(commandLine: readonly string[]): boolean {
  return commandLine.some((arg, i) =>
    commandLine[i - 1] === "-kernel" && arg.includes(LINUX_GUEST_MARKER)
  );
}

/**
 * A recorded command line pointed at `guest` (this machine's cache), with its first `-serial
 * file:` going to `serialLog`, or to `null` when absent so a replay never writes into the
 * recorded session's serial.log.
 *
 * @param commandLine argv that boots the Linux test guest
 * @param guest from {@link ensureLinuxGuest}
 * @param options `serialLog`: where the guest's ttyS0 goes now
 * @returns the new argv
 */
export function withLinuxGuest(
  commandLine: readonly string[],
  guest: LinuxGuest,
  options: { serialLog?: string } = {},
): string[] {
  const { serialLog } = options;
  let serialSeen = false;
  return commandLine.map((arg, i) => {
    const option = commandLine[i - 1];
    if (option === "-kernel" && arg.includes(LINUX_GUEST_MARKER)) return guest.kernel;
    if (option === "-initrd" && arg.includes(LINUX_GUEST_MARKER)) return guest.initrd;
    if (option === "-serial" && arg.startsWith("file:") && !serialSeen) {
      serialSeen = true;
      return serialLog === undefined ? "null" : `file:${serialLog}`;
    }
    return arg;
  });
}

/** The parts of startQemu's options the Linux guest reads and sets. */
export interface LinuxGuestQemuOptions {
  guest?: string;
  serialLog?: string;
  commandLine?: readonly string[];
  extraArgs?: string[];
}

/**
 * startQemu's options with the Linux guest in place: a recorded command line that boots it is
 * pointed at this machine's cache (see {@link withLinuxGuest}); `guest: "linux"` (or
 * `"linux-fb"`, with {@link LINUX_GUEST_FB_APPEND}) puts {@link linuxGuestArgs} before the
 * `extraArgs`. Other options come back unchanged.
 *
 * @param options startQemu's options
 * @returns a copy, or `options` itself when there is no Linux guest
 */
export async function resolveLinuxGuest<T extends LinuxGuestQemuOptions>(options: T): Promise<T> {
  if (options.commandLine) {
    if (!usesLinuxGuest(options.commandLine)) return options;
    const guest = await ensureLinuxGuest();
    const commandLine = withLinuxGuest(options.commandLine, guest, options);
    return { ...options, commandLine };
  }
  if (options.guest !== "linux" && options.guest !== "linux-fb") return options;
  const guest = await ensureLinuxGuest();
  const append = options.guest === "linux-fb" ? LINUX_GUEST_FB_APPEND : guest.append;
  const args = linuxGuestArgs({ ...guest, append }, options.serialLog);
  return { ...options, extraArgs: [...args, ...(options.extraArgs ?? [])] };
}

/**
 * Creates the empty serial log of a session (new, mode 0600) for QEMU to write into.
 *
 * @param dir session directory, which exists
 * @returns `<dir>/serial.log`
 * @throws {UsageError} when anything is at that path already (a file or a planted link)
 */
export async function sessionSerialLog(dir: string): Promise<string> {
  const path = `${dir}/serial.log`;
  try {
    (await createNewFile(path)).close();
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) throw new UsageError(e.message);
    throw e;
  }
  return path;
}
