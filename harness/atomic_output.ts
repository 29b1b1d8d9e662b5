/**
 * Output that appears whole or not at all: a command writes into a temporary file or directory
 * beside its target and renames it into place only once everything succeeded, so a failed
 * command leaves nothing behind and never touches what it did not create.
 */
import { InputError } from "./errors.ts";

/** The directory holding `path` ("." for a bare name) and its last component. */
function splitPath(path: string): { parent: string; name: string } {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return { parent: ".", name: trimmed };
  return { parent: slash === 0 ? "/" : trimmed.slice(0, slash), name: trimmed.slice(slash + 1) };
}

/**
 * Writes a file through a temporary file in the same directory (mode 0600), renamed over `path`
 * when `write` resolves and removed when it throws.
 *
 * @param path the file to create or replace; its directory must exist
 * @param write fills the open temporary file; may close it (e.g. by closing its `writable`)
 * @returns what `write` returned
 * @throws UsageError when `path` is a directory; whatever `write` throws, after cleaning up
 */
export async function writeFileAtomically<T>(
  path: string,
  write: (file: Deno.FsFile) => Promise<T>,
): Promise<T> {
  const { parent, name } = splitPath(path);
  if ((await lstatOrUndefined(path))?.isDirectory) {
    throw new InputError(`${path}: is a directory, expected a file to write`);
  }
  const tmp = await Deno.makeTempFile({ dir: parent, prefix: `.${name}.`, suffix: ".partial" });
  let done = false;
  try {
    await Deno.chmod(tmp, 0o600);
    const file = await Deno.open(tmp, { write: true, truncate: true });
    let result: T;
    try {
      result = await write(file);
    } finally {
      try {
        file.close();
      } catch { /* already closed with its writable */ }
    }
    await Deno.rename(tmp, path);
    done = true;
    return result;
  } finally {
    if (!done) await Deno.remove(tmp).catch(() => {});
  }
}

/** The first ancestor of `path` (or `path` itself) that exists. */
async function existingAncestor(path: string): Promise<string> {
  let p = path;
  for (;;) {
    if (await lstatOrUndefined(p) !== undefined) return p;
    const { parent } = splitPath(p);
    if (parent === p) return p;
    p = parent;
  }
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Throws unless `dir` is a real, empty directory (what a command may fill). */
async function requireEmptyDir(dir: string, info: Deno.FileInfo): Promise<void> {
  if (info.isSymlink) {
    throw new Deno.errors.NotADirectory(
      `output directory ${dir} is a symbolic link, not a directory; give a real directory`,
    );
  }
  if (!info.isDirectory) {
    throw new Deno.errors.NotADirectory(`output directory ${dir} is a file, not a directory`);
  }
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) names.push(entry.name);
  if (names.length === 0) return;
  names.sort();
  const shown = names.slice(0, 5).join(", ") + (names.length > 5 ? ", …" : "");
  const what = names.includes("session.json") ? "already holds a session" : "is not empty";
  throw new Deno.errors.AlreadyExists(
    `output directory ${dir} ${what} (${shown}); choose a new or empty directory`,
  );
}

/**
 * Fills a new directory through a temporary one (mode 0700) made beside it and renamed to `dir`
 * once `fill` succeeded (parents created then); when `fill` throws, the temporary directory is
 * removed with everything in it, and nothing outside it was touched.
 *
 * @param dir the directory to create; an existing one must be an empty real directory, which
 * the finished output then replaces
 * @param fill writes the output into the directory it is given
 * @returns what `fill` returned
 * @throws {Deno.errors.AlreadyExists} when `dir` is not empty, NotADirectory when it is a file or
 * a symbolic link; whatever `fill` throws, after cleaning up
 */
export async function fillDirAtomically<T>(
  dir: string,
  fill: (tmp: string) => Promise<T>,
): Promise<T> {
  const existing = await lstatOrUndefined(dir);
  if (existing !== undefined) await requireEmptyDir(dir, existing);
  const { parent, name } = splitPath(dir);
  const base = existing ? parent : await existingAncestor(parent);
  const tmp = await Deno.makeTempDir({ dir: base, prefix: `.${name}.`, suffix: ".partial" });
  let done = false;
  try {
    await Deno.chmod(tmp, 0o700);
    const result = await fill(tmp);
    await Deno.mkdir(parent, { recursive: true });
    await Deno.rename(tmp, dir); // replaces an empty directory; fails for a non-empty one
    done = true;
    return result;
  } finally {
    if (!done) await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}
