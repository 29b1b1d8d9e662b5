/**
 * `./run install [BINDIR]`: writes the `spicecap` command, a launcher in the manner of
 * `deno install --global`, into BINDIR (default: `.tools/bin` of the repository). Unlike the one
 * `deno install` writes, it names the Deno that runs it (the pinned one `./run` installs) and
 * the repository's own `deno.json` and `deno.lock`, so it works with nothing on PATH, from any
 * directory, and paths on its command line stay relative to where it was called.
 */

const REPO = new URL("../", import.meta.url);

/** A word for `sh`, single-quoted. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The launcher's text.
 *
 * @param deno the Deno executable it runs
 * @param repoDir the repository's directory, with a trailing slash
 */
export function launcherScript(deno: string, repoDir: string): string {
  return [
    "#!/bin/sh",
    "# spicecap launcher written by ./run install (tools/install.ts): the repository's Deno,",
    "# deno.json and lock; arguments and relative paths pass through unchanged.",
    `exec ${shellQuote(deno)} run -A --config ${shellQuote(`${repoDir}deno.json`)} ` +
    `${shellQuote(`${repoDir}harness/cli.ts`)} "$@"`,
    "",
  ].join("\n");
}

/**
 * Writes `BINDIR/spicecap` (mode 0755, replaced if present) and fetches the modules it needs.
 *
 * @param binDir the directory to write into (made if missing)
 * @param options `deno`: the Deno to run (default: the one running this)
 * @returns the launcher's path
 */
export async function installLauncher(
  binDir: string,
  options: { deno?: string } = {},
): Promise<string> {
  const deno = options.deno ?? Deno.execPath();
  const repoDir = decodeURIComponent(REPO.pathname);
  await Deno.mkdir(binDir, { recursive: true });
  const path = `${binDir.replace(/\/$/, "")}/spicecap`;
  const tmp = `${path}.tmp-${Deno.pid}`;
  await Deno.writeTextFile(tmp, launcherScript(deno, repoDir), { mode: 0o755 });
  await Deno.chmod(tmp, 0o755);
  await Deno.rename(tmp, path);
  const cache = new Deno.Command(deno, {
    args: ["cache", "--config", `${repoDir}deno.json`, `${repoDir}harness/cli.ts`],
    stdout: "null",
    stderr: "inherit",
  });
  const { code } = await cache.output();
  if (code !== 0) throw new Error(`deno cache failed with exit code ${code}`);
  return path;
}

if (import.meta.main) {
  const [binDir = decodeURIComponent(new URL(".tools/bin", REPO).pathname)] = Deno.args;
  const path = await installLauncher(binDir);
  console.log(`spicecap: installed ${path}`);
  console.log(`  put it on your PATH: export PATH="${path.replace(/\/spicecap$/, "")}:$PATH"`);
}
