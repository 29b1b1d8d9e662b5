/**
 * What a child reads from files instead of its arguments: a secret in a command line is visible
 * to every user in `ps` (/proc/PID/cmdline) for as long as the process runs, a file of ours
 * (0600 in a 0700 directory) only to us. Each start gets a private temporary directory, removed
 * as soon as the child has read what it needs.
 */
import { writeNewFile } from "../../lib/capture/file_sink.ts";

/**
 * A new private temporary directory (mode 0700) for one child's files.
 *
 * @param prefix the directory name's start, naming the child (`spicecap-qemu-`)
 * @returns its path
 */
export function makeLaunchDir(prefix: string): Promise<string> {
  return Deno.makeTempDir({ prefix });
}

/**
 * Removes a directory from {@link makeLaunchDir} with what it holds; never throws.
 *
 * @param dir the directory
 */
export async function removeLaunchDir(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** The files process `pid` has open (Linux /proc), by path; empty when it is gone. */
export function openFiles(pid: number): Set<string> {
  const open = new Set<string>();
  try {
    for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        open.add(Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone
  }
  return open;
}

/**
 * Polls until process `pid` holds every file in `paths` open (then they may be removed from the
 * disk: it keeps reading them), or `timeoutMs` has passed, or `stillRunning` says no.
 *
 * @param pid the process
 * @param paths files it is to open
 * @param o the deadline and a liveness check
 * @returns whether it opened them all
 */
export async function waitUntilOpened(
  pid: number,
  paths: readonly string[],
  o: { timeoutMs: number; stillRunning: () => boolean },
): Promise<boolean> {
  const deadline = performance.now() + o.timeoutMs;
  while (true) {
    const open = openFiles(pid);
    if (paths.every((p) => open.has(p))) return true;
    if (!o.stillRunning() || performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** QEMU option values separate by commas; a literal comma is written twice. */
function qemuEscape(value: string): string {
  return value.replaceAll(",", ",,");
}

/**
 * A QEMU command line whose `-object secret,…,data=VALUE` values are handed over as files: each
 * value is written (unescaped, exactly its bytes) to a new 0600 file in `dir`, and `data=` becomes
 * `file=` (QEMU reads a secret's file when it creates the object, before SPICE listens).
 *
 * @param argv QEMU's argv, binary first
 * @param dir directory from {@link makeLaunchDir}
 * @returns the argv to spawn, with no secret value in it
 */
export async function secretsToFiles(argv: readonly string[], dir: string): Promise<string[]> {
  const out: string[] = [];
  let n = 0;
  for (const [i, arg] of argv.entries()) {
    if (argv[i - 1] !== "-object" || !arg.startsWith("secret,")) {
      out.push(arg);
      continue;
    }
    // split on single commas only: ",," is an escaped comma inside a value
    const parts = arg.split(/(?<!,),(?!,)/);
    for (const [k, part] of parts.entries()) {
      if (!part.startsWith("data=")) continue;
      const file = `${dir}/secret-${n++}`;
      const value = part.slice("data=".length).replaceAll(",,", ",");
      await writeNewFile(file, new TextEncoder().encode(value));
      parts[k] = `file=${qemuEscape(file)}`;
    }
    out.push(parts.join(","));
  }
  return out;
}

/**
 * A virt-viewer connection file (`.vv`) for `remote-viewer`, which then needs no address or
 * password in its arguments. `delete-this-file=1` makes remote-viewer remove it once read.
 *
 * @param dir directory from {@link makeLaunchDir}
 * @param o where to connect
 * @returns the file's path (a new 0600 file)
 */
export async function writeVvFile(
  dir: string,
  o: { host: string; port: number; tlsPort?: number; password?: string; caFile?: string },
): Promise<string> {
  const clean = (v: string, what: string) => {
    if (/[\r\n\0]/.test(v)) throw new TypeError(`the ${what} must be on one line`);
    return v;
  };
  const lines = ["[virt-viewer]", "type=spice", `host=${clean(o.host, "host")}`, `port=${o.port}`];
  if (o.tlsPort !== undefined) lines.push(`tls-port=${o.tlsPort}`);
  if (o.password !== undefined) lines.push(`password=${clean(o.password, "password")}`);
  if (o.caFile !== undefined) {
    const ca = await Deno.readTextFile(o.caFile);
    // the .vv format holds the CA certificate itself, with its newlines written as \n
    lines.push(`ca=${ca.trim().replaceAll("\n", "\\n")}`);
  }
  lines.push("delete-this-file=1", "");
  const path = `${dir}/connection.vv`;
  await writeNewFile(path, new TextEncoder().encode(lines.join("\n")));
  return path;
}
