/**
 * The option table of replay's QEMU policy (docs/replay_policy.md): for every QEMU option
 * replay knows, whether it takes a value and whether it is allowed, refused, or checked (and
 * maybe rewritten). Pure.
 */
import { isPlainFileName } from "../capture/manifest_validate.ts";
import {
  baseName,
  formatQemuOpts,
  isOn,
  optValue,
  parseQemuOpts,
  type QemuOptPart,
} from "./qemu_options.ts";

/** Where rewritten paths go and what the whole line says. */
export interface PolicyContext {
  /** The replay's own output directory: host output files are put there. */
  outDir: string;
  /** The session directory replayed, where a secret's `file=` may point. */
  sessionDir?: string;
  /** The line has `-snapshot`: every disk is written to a temporary overlay only. */
  snapshot: boolean;
  /** File names already given out in `outDir`. */
  used: Set<string>;
  /** `--trust`: only the rules marked `evenTrusted` run, and refuse nothing. */
  trusted: boolean;
}

/** Thrown by a rule's check; the policy turns it into an error naming the option. */
export class Refusal extends Error {}

/** Refuses the option being checked, saying why. */
export function refuse(reason: string): never {
  throw new Refusal(reason);
}

/** How one option is treated. */
export interface OptionRule {
  /** Whether the option takes the next argument as its value. */
  takesValue: boolean;
  /** Why the option is refused outright; absent when allowed (subject to `check`). */
  refused?: string;
  /** Checks the value and returns the value to run (maybe rewritten); throws to refuse. */
  check?: (value: string, ctx: PolicyContext) => string;
  /** `check` runs on a trusted line too: it only moves output files (and refuses nothing then). */
  evenTrusted?: boolean;
}

const ALLOW_FLAG: OptionRule = { takesValue: false };
const ALLOW_VALUE: OptionRule = { takesValue: true };
const refusedFlag = (why: string): OptionRule => ({ takesValue: false, refused: why });
const refusedValue = (why: string): OptionRule => ({ takesValue: true, refused: why });
const checked = (check: OptionRule["check"]): OptionRule => ({ takesValue: true, check });
const outputSpec: OptionRule = { takesValue: true, check: charSpec, evenTrusted: true };

const WRITES = "writes a host file";
const CONTROL = "opens a control channel to QEMU (a monitor can run host commands)";
const LISTENS = "listens on a host port";
const SHARES = "shares a host directory with the guest";

/** Image formats a disk may be opened with (no network protocols, no host directories). */
const IMAGE_FORMATS = new Set([
  "raw",
  "qcow2",
  "qcow",
  "qed",
  "vmdk",
  "vdi",
  "vpc",
  "vhdx",
  "dmg",
  "cloop",
  "parallels",
  "bochs",
]);
/** `nbd:`, `http:`, `fat:rw:`, `json:` … in a file name select a protocol, not a file. */
const PROTOCOL_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:/;
/** Device drivers that hand a host device, directory or file to the guest. */
const HOST_DEVICE_DRIVERS =
  /^(vfio|vhost|usb-host|virtio-9p|u2f-passthru|ivshmem|pvrdma|ccid-card-emulated|usb-mtp|loader|guest-loader|pci-assign|kvm-pci-assign|xen-)/;
/** Character device backends that touch nothing on the host. */
const SAFE_CHARDEVS = new Set([
  "null",
  "spicevmc",
  "spiceport",
  "ringbuf",
  "memory",
  "msmouse",
  "wctablet",
  "testdev",
  "vc",
  "stdio",
]);

function hostFile(path: string | undefined): void {
  if (path !== undefined && PROTOCOL_PREFIX.test(path)) {
    refuse(
      `'${
        path.slice(0, path.indexOf(":") + 1)
      }' selects a block protocol (network or host directory)`,
    );
  }
}

function noDottedKeys(parts: readonly QemuOptPart[]): void {
  const dotted = parts.find((p) => p.key.includes("."));
  if (dotted) refuse(`nested block options (${dotted.key}=) are not vetted`);
}

/** Refuses a `key=` (format or driver) that is not a disk image format nor one of `extra`. */
function format(
  parts: readonly QemuOptPart[],
  { key, extra = [] }: { key: string; extra?: string[] },
): void {
  const f = optValue(parts, key);
  if (f !== undefined && !IMAGE_FORMATS.has(f) && !extra.includes(f)) {
    refuse(`${key}=${f} is not a disk image format`);
  }
}

function drive(value: string, ctx: PolicyContext): string {
  const parts = parseQemuOpts(value);
  noDottedKeys(parts);
  format(parts, { key: "format" });
  format(parts, { key: "driver" });
  const file = optValue(parts, "file");
  hostFile(file);
  const readOnly = isOn(optValue(parts, "readonly")) || isOn(optValue(parts, "read-only"));
  const safe = ctx.snapshot || readOnly || isOn(optValue(parts, "snapshot")) ||
    optValue(parts, "media") === "cdrom";
  if (file !== undefined && file !== "" && !safe) {
    refuse("opens a host disk image writable (add snapshot=on or readonly=on)");
  }
  return value;
}

function blockdev(value: string): string {
  if (value.trimStart().startsWith("{")) refuse("JSON block options are not vetted");
  const parts = parseQemuOpts(value, "driver");
  noDottedKeys(parts);
  format(parts, { key: "driver", extra: ["file"] });
  hostFile(optValue(parts, "filename"));
  if (!isOn(optValue(parts, "read-only"))) {
    refuse("opens a host block device writable (add read-only=on)");
  }
  return value;
}

function legacyDisk(value: string, ctx: PolicyContext): string {
  hostFile(value);
  if (!ctx.snapshot) refuse("opens a host disk image writable (add -snapshot to the line)");
  return value;
}

function cdrom(value: string): string {
  hostFile(value);
  return value;
}

/** `-serial`/`-parallel`/`-debugcon` specs: file output goes into the replay's own directory. */
function charSpec(value: string, ctx: PolicyContext): string {
  if (value.startsWith("file:")) return `file:${ownFile(value.slice("file:".length), ctx)}`;
  if (ctx.trusted) return value;
  if (["none", "null", "stdio", "msmouse", "vc"].includes(value)) return value;
  if (value.startsWith("vc:") || value.startsWith("chardev:")) return value;
  refuse("connects the guest to a host device, pipe, socket or the monitor");
}

/** A path in the replay's output directory for a recorded output file: `qemu-<base name>`. */
function ownFile(recorded: string, ctx: PolicyContext): string {
  const base = baseName(recorded);
  if (!isPlainFileName(base)) refuse(`'${recorded}' has no usable file name`);
  let name = `qemu-${base}`;
  for (let n = 2; ctx.used.has(name); n++) name = `qemu-${n}-${base}`;
  ctx.used.add(name);
  return `${ctx.outDir}/${name}`;
}

function chardev(value: string): string {
  const parts = parseQemuOpts(value, "backend");
  const backend = parts[0]?.value ?? "";
  if (!SAFE_CHARDEVS.has(backend)) {
    refuse(`the '${backend}' backend touches a host file, socket, pipe or device`);
  }
  if (optValue(parts, "logfile") !== undefined) refuse(`logfile= ${WRITES}`);
  return value;
}

function device(value: string): string {
  const driver = optValue(parseQemuOpts(value, "driver"), "driver") ?? "";
  if (HOST_DEVICE_DRIVERS.test(driver)) {
    refuse(`the '${driver}' device hands a host device, directory or file to the guest`);
  }
  return value;
}

function spice(value: string): string {
  const parts = parseQemuOpts(value);
  if (isOn(optValue(parts, "unix"))) refuse("unix=on creates a socket file on the host");
  // The replay connects over loopback: never let the server listen on other interfaces.
  const loopback = { key: "addr", value: "127.0.0.1" };
  if (parts.every((p) => p.key === "addr" ? p.value === loopback.value : true)) {
    return parts.some((p) => p.key === "addr") ? value : `${value},addr=${loopback.value}`;
  }
  return formatQemuOpts(parts.map((p) => p.key === "addr" ? loopback : p));
}

function object(value: string, ctx: PolicyContext): string {
  const parts = parseQemuOpts(value, "qom-type");
  const type = optValue(parts, "qom-type");
  if (type !== "secret") refuse(`only 'secret' objects are allowed, not '${type}'`);
  const file = optValue(parts, "file");
  if (file === undefined) return value;
  if (!isPlainFileName(file) || ctx.sessionDir === undefined) {
    refuse("a secret's file= must name a file in the session directory");
  }
  const inSession = `${ctx.sessionDir}/${file}`;
  return formatQemuOpts(
    parts.map((p) => p.key === "file" ? { ...p, value: inSession } : p),
    "qom-type",
  );
}

function audiodev(value: string): string {
  const driver = optValue(parseQemuOpts(value, "driver"), "driver");
  if (driver !== "none" && driver !== "spice") {
    refuse(`the '${driver}' audio backend plays or records on the host (or writes a file)`);
  }
  return value;
}

/** User-mode networking cut off from the host and the outside (`restrict=on`), or nothing. */
function network(value: string, allowed: string[]): string {
  const parts = parseQemuOpts(value, "type");
  const type = optValue(parts, "type") ?? "";
  if (allowed.includes(type)) return value;
  if (type !== "user") refuse(`'${type}' networking reaches the host or its network`);
  const forward = parts.find((p) => ["hostfwd", "guestfwd", "smb", "tftp"].includes(p.key));
  if (forward) refuse(`${forward.key}= forwards host ports or shares host directories`);
  if (!isOn(optValue(parts, "restrict"))) {
    refuse("user networking reaches the host's network unless restrict=on");
  }
  return value;
}

function display(value: string): string {
  if (parseQemuOpts(value, "type")[0]?.value !== "none") {
    refuse("only '-display none': other displays open windows or listen");
  }
  return value;
}

function trace(value: string): string {
  if (optValue(parseQemuOpts(value, "enable"), "file") !== undefined) refuse(`file= ${WRITES}`);
  return value;
}

function sandbox(value: string): string {
  if (!isOn(optValue(parseQemuOpts(value, "enable"), "enable"))) {
    refuse("turns QEMU's system-call filter off");
  }
  return value;
}

/**
 * The rule for `option` (one leading dash), if replay knows it.
 *
 * @param option e.g. `-drive`
 */
export function ruleOf(option: string): OptionRule | undefined {
  return Object.hasOwn(QEMU_OPTION_RULES, option) ? QEMU_OPTION_RULES[option] : undefined;
}

/**
 * Every option replay knows, and what it does with it. An option not listed here is refused
 * (it may do anything); `--trust` runs the line as recorded.
 */
export const QEMU_OPTION_RULES: Readonly<Record<string, OptionRule>> = Object.freeze({
  // The machine, as spicecap's own command lines set it up: nothing on the host.
  "-nodefaults": ALLOW_FLAG,
  "-no-user-config": ALLOW_FLAG,
  "-snapshot": ALLOW_FLAG,
  "-no-reboot": ALLOW_FLAG,
  "-no-shutdown": ALLOW_FLAG,
  "-enable-kvm": ALLOW_FLAG,
  "-usb": ALLOW_FLAG,
  ...Object.fromEntries(
    ["-machine", "-M", "-accel", "-cpu", "-smp", "-m", "-vga", "-name", "-uuid", "-rtc", "-k"]
      .map((o) => [o, ALLOW_VALUE]),
  ),
  // Read only: what the guest boots (the files stay on this machine).
  ...Object.fromEntries(
    ["-boot", "-global", "-kernel", "-initrd", "-append", "-bios", "-dtb"]
      .map((o) => [o, ALLOW_VALUE]),
  ),
  "-d": ALLOW_VALUE, // log items go to stderr unless -D names a file
  "-display": checked(display),
  "-spice": checked(spice),
  "-device": checked(device),
  "-chardev": checked(chardev),
  "-serial": outputSpec,
  "-parallel": outputSpec,
  "-debugcon": outputSpec,
  "-drive": checked(drive),
  "-blockdev": checked(blockdev),
  "-cdrom": checked(cdrom),
  ...Object.fromEntries(
    ["-hda", "-hdb", "-hdc", "-hdd", "-fda", "-fdb", "-sd", "-mtdblock", "-pflash"]
      .map((o) => [o, checked(legacyDisk)]),
  ),
  "-object": checked(object),
  "-audiodev": checked(audiodev),
  "-nic": checked((v) => network(v, ["none"])),
  "-netdev": checked((v) => network(v, [])),
  "-net": checked((v) => network(v, ["none", "nic"])),
  "-trace": checked(trace),
  "-sandbox": checked(sandbox),
  // Refused: they write, delete, listen, share host resources or load other code.
  "-pidfile": refusedValue(WRITES),
  "-D": refusedValue(WRITES),
  "-writeconfig": refusedValue(WRITES),
  "-daemonize": refusedFlag("detaches QEMU from replay, which could not stop it"),
  "-monitor": refusedValue(CONTROL),
  "-qmp": refusedValue(CONTROL),
  "-qmp-pretty": refusedValue(CONTROL),
  "-mon": refusedValue(CONTROL),
  "-incoming": refusedValue("waits for a migration stream (a port, a file or a command)"),
  "-loadvm": refusedValue("restores a saved state into the disk images"),
  "-readconfig": refusedValue("reads more options from a host file, unvetted"),
  "-plugin": refusedValue("loads host code into QEMU"),
  "-add-fd": refusedValue("hands host file descriptors to QEMU"),
  "-run-with": refusedValue("changes QEMU's root directory or user"),
  "-chroot": refusedValue("changes QEMU's root directory"),
  "-runas": refusedValue("changes QEMU's user"),
  "-virtfs": refusedValue(SHARES),
  "-fsdev": refusedValue(SHARES),
  "-vnc": refusedValue(LISTENS),
  "-gdb": refusedValue(LISTENS),
  "-s": refusedFlag(LISTENS),
});
