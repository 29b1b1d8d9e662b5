/** The benches' C programs (bench/c/): built with gcc into a scratch directory, then run. */
import { hasTool } from "../harness/processes/tools.ts";

/**
 * Compiles `bench/c/NAME.c` into `dir/NAME` with `gcc -O2`.
 *
 * @param libs libraries to link (`-lNAME`)
 * @returns the executable, or undefined when gcc is missing or the build fails
 */
export async function buildC(
  name: string,
  dir: string,
  libs: string[] = [],
): Promise<string | undefined> {
  if (!hasTool("gcc")) return undefined;
  const exe = `${dir}/${name}`;
  const src = new URL(`./c/${name}.c`, import.meta.url).pathname;
  const args = ["-O2", "-o", exe, src, ...libs.map((l) => `-l${l}`)];
  const out = await new Deno.Command("gcc", { args, stdout: "null", stderr: "null" }).output();
  return out.success ? exe : undefined;
}

/**
 * Runs a built program to its end.
 *
 * @returns what it printed on stdout
 * @throws naming the command and what it printed on stderr, when it fails
 */
export async function runC(exe: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(exe, { args, stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`${exe} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}
