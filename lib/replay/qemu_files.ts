/**
 * The host files a QEMU command line makes QEMU read into the guest (kernel, initrd, firmware,
 * disk images), found by option, so capture can pin their contents and replay can check them
 * (`qemuFiles` in session.json). Pure: reads argv only.
 *
 * @module
 */
import { formatQemuOpts, optValue, parseQemuOpts } from "./qemu_options.ts";

/** Options whose whole value is a file QEMU reads. */
const PLAIN_FILE_OPTIONS: ReadonlySet<string> = new Set([
  "-kernel",
  "-initrd",
  "-bios",
  "-dtb",
  "-cdrom",
  "-fda",
  "-fdb",
  "-hda",
  "-hdb",
  "-hdc",
  "-hdd",
]);
/** Options whose `file=` names the file. */
const FILE_KEY_OPTIONS: ReadonlySet<string> = new Set(["-drive", "-fw_cfg"]);
/** Protocol prefixes: not a plain host file (`nbd:`, `http:` …). */
const PROTOCOL = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** One file a command line gives QEMU. */
export interface QemuInputFile {
  /** The option: `-kernel`, `-drive` …. */
  option: string;
  /** The path as given. */
  path: string;
  /** Index of the argument holding it (the option's value) in argv. */
  argIndex: number;
}

/** The file named by one option value, when it names a plain host file. */
function fileOf(option: string, value: string): string | undefined {
  if (PLAIN_FILE_OPTIONS.has(option)) return value === "" ? undefined : value;
  if (!FILE_KEY_OPTIONS.has(option)) return undefined;
  const file = optValue(parseQemuOpts(value), "file");
  if (file === undefined || file === "" || PROTOCOL.test(file)) return undefined;
  return file;
}

/**
 * Every host file `argv` gives QEMU to read, in order (`-kernel`, `-initrd`, `-bios`, `-dtb`,
 * `-cdrom`, `-fda`/`-fdb`, `-hda`…`-hdd`, `-drive file=`, `-fw_cfg file=`); protocols and
 * empty values are left out.
 *
 * @param argv a command line, binary first
 */
export function qemuInputFiles(argv: readonly string[]): QemuInputFile[] {
  const out: QemuInputFile[] = [];
  for (let i = 1; i + 1 < argv.length; i++) {
    const option = argv[i].startsWith("--") ? argv[i].slice(1) : argv[i];
    if (!PLAIN_FILE_OPTIONS.has(option) && !FILE_KEY_OPTIONS.has(option)) continue;
    const path = fileOf(option, argv[i + 1]);
    if (path !== undefined) out.push({ option, path, argIndex: i + 1 });
    i++;
  }
  return out;
}

/**
 * `argv` with the file at `argIndex` replaced by `path` (its option's other settings kept).
 *
 * @param argv a command line
 * @param at the file, from {@link qemuInputFiles}, and its new path
 * @returns a new argv
 */
export function withInputFile(
  argv: readonly string[],
  at: { file: QemuInputFile; path: string },
): string[] {
  const out = [...argv];
  const { file, path } = at;
  if (PLAIN_FILE_OPTIONS.has(file.option)) out[file.argIndex] = path;
  else {
    const parts = parseQemuOpts(out[file.argIndex]).map((p) =>
      p.key === "file" ? { ...p, value: path } : p
    );
    out[file.argIndex] = formatQemuOpts(parts);
  }
  return out;
}
