/**
 * Pinning the files QEMU reads: capture hashes (and with `--bundle` copies) every kernel,
 * initrd, firmware and disk image of its QEMU command line into the manifest's `qemuFiles`;
 * replay hashes what it would give QEMU now and refuses a difference.
 *
 * Our own guests: the static guest's image is generated in memory (harness/processes/guest.ts),
 * so its hash is the same everywhere; the Linux guest is this machine's build
 * (harness/processes/linux_guest.ts), reproducible for one kernel package version (fixed
 * mtimes, renumbered inodes and `gzip -n` in its initramfs), so a machine with another kernel
 * package gets a different hash and replay says so.
 *
 * @module
 */
import type { Manifest, QemuFileHash } from "../../lib/capture/manifest.ts";
import { baseName } from "../../lib/replay/qemu_options.ts";
import { type QemuInputFile, qemuInputFiles, withInputFile } from "../../lib/replay/qemu_files.ts";
import { STATIC_GUEST_MARKER, staticGuestImage } from "../processes/guest.ts";
import { ensureLinuxGuest, LINUX_GUEST_MARKER } from "../processes/linux_guest.ts";
import { EnvironmentError } from "../errors.ts";

/** Subdirectory of a session directory holding `capture --bundle`'s copies. */
export const BUNDLE_DIR = "bundle";

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The bytes QEMU gets for `file` on this machine: our generated static guest, or the file. */
async function contents(file: { path: string }): Promise<Uint8Array<ArrayBuffer>> {
  if (baseName(file.path).includes(STATIC_GUEST_MARKER)) return staticGuestImage().slice();
  return await Deno.readFile(file.path);
}

/**
 * Hashes every file `commandLine` gives QEMU to read; with `bundleDir`, copies each into
 * `<bundleDir>/bundle/` (0600) and notes the copy's name.
 *
 * @param commandLine the command line QEMU was started with
 * @param options `bundleDir`: the session directory to copy the files into
 * @returns the `qemuFiles` fact
 */
export async function pinQemuFiles(
  commandLine: readonly string[],
  options: { bundleDir?: string } = {},
): Promise<QemuFileHash[]> {
  const out: QemuFileHash[] = [];
  const names = new Set<string>();
  for (const file of qemuInputFiles(commandLine)) {
    const bytes = await contents(file);
    const pinned: QemuFileHash = {
      option: file.option,
      path: file.path,
      sha256: await sha256Hex(bytes),
      size: bytes.length,
    };
    if (options.bundleDir !== undefined) {
      let name = baseName(file.path).replace(/[^A-Za-z0-9._+-]/g, "_").slice(0, 180) || "file";
      for (let n = 2; names.has(name) || /^\.\.?$/.test(name); n++) name = `${n}-${name}`;
      names.add(name);
      await Deno.mkdir(`${options.bundleDir}/${BUNDLE_DIR}`, { recursive: true, mode: 0o700 });
      await Deno.writeFile(`${options.bundleDir}/${BUNDLE_DIR}/${name}`, bytes, {
        mode: 0o600,
        createNew: true,
      });
      pinned.bundled = name;
    }
    out.push(pinned);
  }
  return out;
}

/** Where this machine finds the file a recorded path names: the bundle, our guests, the path. */
async function localPath(
  pinned: QemuFileHash,
  sessionDir: string | undefined,
): Promise<{ path: string; bundled: boolean }> {
  if (pinned.bundled !== undefined && sessionDir !== undefined) {
    const path = `${sessionDir}/${BUNDLE_DIR}/${pinned.bundled}`;
    try {
      if ((await Deno.stat(path)).isFile) return { path, bundled: true };
    } catch { /* not bundled here: fall back */ }
  }
  if (pinned.path.includes(LINUX_GUEST_MARKER)) {
    const guest = await ensureLinuxGuest();
    if (pinned.option === "-kernel") return { path: guest.kernel, bundled: false };
    if (pinned.option === "-initrd") return { path: guest.initrd, bundled: false };
  }
  return { path: pinned.path, bundled: false };
}

/** What {@link checkQemuFiles} found. */
export interface QemuFilesCheck {
  /** The command line to run: bundled copies in place of the recorded paths. */
  commandLine: string[];
  /** One line per file that differs or is missing (refused unless ignored). */
  mismatches: string[];
}

/**
 * Compares the files a replay would give QEMU with the hashes the recording pinned, using the
 * session's bundled copies where there are some.
 *
 * @param manifest the recording's manifest
 * @param options the vetted command line and the session directory
 * @returns the command line to run and the differences
 */
export async function checkQemuFiles(
  manifest: Manifest | undefined,
  options: { commandLine: readonly string[]; sessionDir?: string },
): Promise<QemuFilesCheck> {
  let commandLine = [...options.commandLine];
  const mismatches: string[] = [];
  const files = qemuInputFiles(commandLine);
  const used = new Set<QemuInputFile>();
  for (const pinned of manifest?.qemuFiles ?? []) {
    const file = files.find((f) =>
      !used.has(f) && f.option === pinned.option && f.path === pinned.path
    );
    if (!file) continue; // an edited command line no longer gives it: nothing to check
    used.add(file);
    const local = await localPath(pinned, options.sessionDir);
    let sha256: string;
    try {
      sha256 = await sha256Hex(await contents(local));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied)) {
        throw e;
      }
      mismatches.push(`${pinned.option} ${local.path}: missing (recorded sha256 ${pinned.sha256})`);
      continue;
    }
    if (sha256 !== pinned.sha256) {
      mismatches.push(
        `${pinned.option} ${local.path}: sha256 ${sha256}, recorded ${pinned.sha256}`,
      );
    }
    if (local.bundled) commandLine = withInputFile(commandLine, { file, path: local.path });
  }
  return { commandLine, mismatches };
}

/**
 * {@link checkQemuFiles} for the replay command: refuses a difference unless `ignore`.
 *
 * @param manifest the recording's manifest
 * @param options the vetted command line, the session directory, `--ignore-env` and a log
 * @returns the command line to run
 * @throws {EnvironmentError} naming each differing file with both hashes
 */
export async function pinnedCommandLine(
  manifest: Manifest | undefined,
  options: {
    commandLine: readonly string[];
    sessionDir?: string;
    ignore: boolean;
    log: (line: string) => void;
  },
): Promise<string[]> {
  if (!manifest?.qemuFiles) {
    options.log(
      "session.json pins no QEMU files (recorded without their hashes): nothing to check",
    );
    return [...options.commandLine];
  }
  const { commandLine, mismatches } = await checkQemuFiles(manifest, options);
  if (mismatches.length === 0) return commandLine;
  if (options.ignore) {
    for (const m of mismatches) options.log(`warning: --ignore-env: ${m}`);
    return commandLine;
  }
  throw new EnvironmentError(
    `the files QEMU would read differ from the recording's (--ignore-env to replay anyway): ${
      mismatches.join("; ")
    }`,
  );
}
