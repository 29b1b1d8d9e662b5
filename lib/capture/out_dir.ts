/**
 * Output directories and files that never overwrite anything: a command's output directory is
 * new or empty, created 0700 and owned by us; every file in it is created new (0600), so an
 * existing entry — a planted symbolic link included — is an error, never followed.
 */
import { MANIFEST_FILE } from "./manifest.ts";

/** Directories this thread prepared, by path → device and inode, so a second claim passes. */
const prepared = new Map<string, string>();

/** How many entries an error lists before "…". */
const LISTED_ENTRIES = 5;

function identity(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

function normalise(dir: string): string {
  return dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof Deno.errors.NotADirectory) {
      throw new Deno.errors.PermissionDenied(
        `output directory ${path} is not writable: a parent of it is not a directory`,
      );
    }
    throw e;
  }
}

/** Throws unless `info` is a real directory (not a link) owned by the user we run as. */
function requireOwnDirectory(dir: string, info: Deno.FileInfo): void {
  if (info.isSymlink) {
    throw new Deno.errors.NotADirectory(
      `output directory ${dir} is a symbolic link, not a directory; give a real directory`,
    );
  }
  if (!info.isDirectory) {
    throw new Deno.errors.NotADirectory(`output directory ${dir} is a file, not a directory`);
  }
  const uid = Deno.uid();
  if (uid !== null && info.uid !== null && info.uid !== uid) {
    throw new Deno.errors.AlreadyExists(
      `output directory ${dir} belongs to uid ${info.uid}, not to this user (uid ${uid})`,
    );
  }
}

/** Throws unless the existing directory `dir` is empty. */
async function requireEmpty(dir: string): Promise<void> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  if (names.length === 0) return;
  names.sort();
  const shown = names.slice(0, LISTED_ENTRIES).join(", ") +
    (names.length > LISTED_ENTRIES ? `, … (${names.length} entries)` : "");
  const what = names.includes(MANIFEST_FILE) ? "already holds a session" : "is not empty";
  throw new Deno.errors.AlreadyExists(
    `output directory ${dir} ${what} (${shown}); choose a new or empty directory`,
  );
}

/** Creates `dir` itself (mode 0700) after its parents; false when something is there already. */
async function createFresh(dir: string): Promise<boolean> {
  const slash = dir.lastIndexOf("/");
  if (slash > 0) await Deno.mkdir(dir.slice(0, slash), { recursive: true });
  try {
    await Deno.mkdir(dir, { mode: 0o700 });
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
}

/**
 * Makes `dir` the output directory of a command: creates it (mode 0700) when it does not exist;
 * accepts an existing one only when it is an empty real directory owned by us (then sets it to
 * 0700). A directory this thread already prepared passes again (a command that prepares its
 * directory before starting QEMU, then creates its session there).
 *
 * @param dir the directory
 * @throws {Deno.errors.NotADirectory} when `dir` is a file or a symbolic link
 * @throws {Deno.errors.AlreadyExists} when `dir` is not empty (naming what it holds) or is
 *   someone else's
 * @throws {Deno.errors.PermissionDenied} when it cannot be created
 */
export async function prepareOutputDir(dir: string): Promise<void> {
  const key = normalise(dir);
  const before = await lstatOrUndefined(dir);
  if (before && prepared.get(key) === identity(before)) {
    requireOwnDirectory(dir, before);
    return;
  }
  const created = before === undefined && await createFresh(dir);
  const info = await Deno.lstat(dir);
  requireOwnDirectory(dir, info);
  if (!created) {
    await requireEmpty(dir);
    await Deno.chmod(dir, 0o700);
  }
  prepared.set(key, identity(info));
}
