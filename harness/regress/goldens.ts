/**
 * Finding the goldens of a regression run: session directories given or found in directory
 * trees, each with its `regress.json` options (validated) and recorded duration.
 *
 * @module
 */
import { MANIFEST_FILE, readManifest } from "../../lib/capture/manifest.ts";
import {
  defaultRegressConfig,
  parseRegressConfig,
  REGRESS_FILE,
  type RegressConfig,
  RegressConfigError,
} from "../../lib/regress/config.ts";
import { InputError, UsageError } from "../errors.ts";

/** One golden session to replay and diff. */
export interface Golden {
  /** Its path as found (`fixtures/golden/screenshot`); the sort, shard and report key. */
  path: string;
  /** How to replay and compare it (`regress.json`, or the defaults when there is none). */
  config: RegressConfig;
  /** The recorded session's length (manifest `started` to `stopped`), ms; NaN when unknown. */
  durationMs: number;
}

async function statOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** Session directories at or below `dir` (a session directory is not searched further). */
async function sessionDirs(dir: string, found: string[]): Promise<void> {
  if ((await statOrUndefined(`${dir}/${MANIFEST_FILE}`))?.isFile) {
    found.push(dir);
    return;
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isDirectory && !e.isSymlink) names.push(e.name);
  for (const name of names.sort()) await sessionDirs(`${dir}/${name}`, found);
}

async function readConfig(dir: string): Promise<RegressConfig> {
  const file = `${dir}/${REGRESS_FILE}`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return defaultRegressConfig();
    throw new UsageError(`${file}: ${(e as Error).message}`);
  }
  try {
    return parseRegressConfig(text, file);
  } catch (e) {
    if (e instanceof RegressConfigError) throw new UsageError(e.message);
    throw e;
  }
}

async function readDuration(dir: string): Promise<number> {
  const m = await readManifest(dir);
  return m.stopped === undefined ? NaN : Date.parse(m.stopped) - Date.parse(m.started);
}

/**
 * The goldens under `paths`: each a session directory (holding session.json) or a tree searched
 * for them (symbolic links not followed). Sorted by path, each once.
 *
 * @param paths session directories or trees
 * @throws {UsageError} for a path that does not exist, a tree with no session in it, or an
 *   invalid `regress.json` or `session.json` (naming the file and the field)
 */
export async function findGoldens(paths: readonly string[]): Promise<Golden[]> {
  const dirs: string[] = [];
  for (const raw of paths) {
    const path = raw.replace(/\/+$/, "") || "/";
    const info = await statOrUndefined(path);
    if (!info) throw new InputError(`${raw}: no such file or directory`);
    if (!info.isDirectory) {
      throw new InputError(`${raw}: not a session directory or a tree of them`);
    }
    const found: string[] = [];
    await sessionDirs(path, found);
    if (found.length === 0) {
      throw new InputError(`${raw}: no session directory (session.json) in it`);
    }
    dirs.push(...found);
  }
  const seen = new Set<string>();
  const goldens: Golden[] = [];
  for (const dir of dirs.sort()) {
    const real = await Deno.realPath(dir);
    if (seen.has(real)) continue;
    seen.add(real);
    goldens.push({ path: dir, config: await readConfig(dir), durationMs: await readDuration(dir) });
  }
  return goldens;
}
