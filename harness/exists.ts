/** Whether a path names something, in the two senses the harness needs. */

/**
 * Whether anything is at `path`, a symbolic link included even when it dangles (lstat): for
 * names that must be free (lock files, outputs) and for "nothing was left there". An error
 * other than not-found (permission) also reads as "something is there".
 *
 * @param path the path
 */
export function entryExists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

/**
 * Whether `path` leads to a file or directory (stat: links followed).
 *
 * @param path the path
 * @returns false only when nothing is there
 * @throws other errors (permission, …), which must not read as "absent"
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
