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

/** Wireshark's checksum status values. */
export const CHECKSUM_STATUS = Object.freeze({ BAD: "0", GOOD: "1", UNVERIFIED: "2" } as const);

/**
 * The IPv4 and TCP checksum status of every frame, with tshark's checksum checks turned on.
 *
 * @param file capture file
 * @returns one `[ip, tcp]` pair per frame, each a {@link CHECKSUM_STATUS} value
 * @throws {Error} when tshark fails or writes anything to stderr
 */
export async function checksumStatuses(file: string): Promise<[string, string][]> {
  const out = await runTshark([
    ...["-r", file, "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE"],
    ...["-T", "fields", "-e", "ip.checksum.status", "-e", "tcp.checksum.status"],
  ]);
  if (out.stderr.trim() !== "") throw new Error(`tshark warned about ${file}: ${out.stderr}`);
  return out.stdout.trim().split("\n").map((l) => l.split("\t") as [string, string]);
}
