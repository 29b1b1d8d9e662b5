/** Running tshark, the independent decoder the tests check our captures against. */

/** tshark prints this when run as root (as CI does); it is not about the file. */
const ROOT_WARNING = /^Running as user "root" and group "root"\. This could be dangerous\.\n?/m;

/** What tshark printed. */
export interface TsharkOutput {
  stdout: string;
  /** stderr without the run-as-root warning: empty when tshark had nothing to say. */
  stderr: string;
}

/**
 * Runs `tshark ARGS…`.
 *
 * @param args tshark arguments
 * @returns its output
 * @throws {Error} naming the arguments and tshark's stderr when it exits non-zero
 */
export async function runTshark(args: string[]): Promise<TsharkOutput> {
  const out = await new Deno.Command("tshark", { args, stdout: "piped", stderr: "piped" }).output();
  const decoder = new TextDecoder();
  const stderr = decoder.decode(out.stderr).replace(ROOT_WARNING, "");
  if (!out.success) throw new Error(`tshark ${args.join(" ")} failed (${out.code}): ${stderr}`);
  return { stdout: decoder.decode(out.stdout), stderr };
}
