/** The output directory a command was given: new or empty, ours, 0700 (lib/capture/out_dir.ts). */
import { prepareOutputDir } from "../lib/capture/out_dir.ts";
import { InputError } from "./errors.ts";

/**
 * The {@link InputError} for one of prepareOutputDir's refusals (a used, linked or non-directory
 * path), naming the flag; undefined for any other error.
 *
 * @param e what was thrown
 * @param flag the flag that named the directory, e.g. "--out"
 */
export function outputDirRefusal(e: unknown, flag: string): InputError | undefined {
  return e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory
    ? new InputError(`${e.message} (${flag})`)
    : undefined;
}

/**
 * Prepares the directory named by an output flag; a refused one is an {@link InputError}
 * naming the directory, what is wrong with it and the flag.
 *
 * @param dir the directory as given
 * @param flag the flag that named it, e.g. "--out"
 */
export async function prepareOutputDirFlag(dir: string, flag: string): Promise<void> {
  try {
    await prepareOutputDir(dir);
  } catch (e) {
    throw outputDirRefusal(e, flag) ?? e;
  }
}
