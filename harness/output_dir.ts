/** The output directory a command was given: new or empty, ours, 0700 (lib/capture/out_dir.ts). */
import { prepareOutputDir } from "../lib/capture/out_dir.ts";
import { InputError } from "./errors.ts";

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
    if (e instanceof Deno.errors.AlreadyExists || e instanceof Deno.errors.NotADirectory) {
      throw new InputError(`${e.message} (${flag})`);
    }
    throw e;
  }
}
