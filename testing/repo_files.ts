/**
 * The repo's files as the tests that check the whole tree see them: every file .gitignore leaves
 * in, and their text. Reads files only.
 */

/** The repo root. */
export const REPO_ROOT: URL = new URL("../", import.meta.url);
const ROOT = REPO_ROOT;

/** Paths relative to the repo root, "/"-separated, of every file .gitignore leaves in. */
export async function repoFiles(): Promise<string[]> {
  const ignored = await gitignoreMatchers();
  const out: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(new URL(dir || ".", ROOT))) {
      const path = dir ? `${dir}/${e.name}` : e.name;
      if (e.name === ".git" || ignored.some((m) => m(path, e.isDirectory))) continue;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) out.push(path);
    }
  };
  await walk("");
  return out.sort();
}

/** The repo's .gitignore as matchers (anchored "/x", directory-only "x/", "*" globs). */
async function gitignoreMatchers(): Promise<((path: string, isDir: boolean) => boolean)[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(new URL(".gitignore", ROOT));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map(
    (line) => {
      const dirOnly = line.endsWith("/");
      const body = line.replace(/^\//, "").replace(/\/$/, "");
      const anchored = line.startsWith("/") || body.includes("/");
      const glob = new RegExp(
        "^" + body.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join("[^/]*") +
          "$",
      );
      return (path: string, isDir: boolean) => {
        if (dirOnly && !isDir) return false;
        return anchored ? glob.test(path) : glob.test(path.slice(path.lastIndexOf("/") + 1));
      };
    },
  );
}

const decoder = new TextDecoder("utf-8", { fatal: false });

/** The file's text, or undefined for a binary file (a NUL byte in its first 8 KiB). */
export async function textOf(path: string): Promise<string | undefined> {
  const bytes = await Deno.readFile(new URL(path, ROOT));
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  return decoder.decode(bytes);
}
