/** Finding the external programs spicecap drives, and saying how to install a missing one. */
import { EnvironmentError } from "../errors.ts";

/** Command → Debian package that provides it. */
export const TOOL_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  "qemu-system-x86_64": "qemu-system-x86",
  "spicy": "spice-client-gtk",
  "spicy-screenshot": "spice-client-gtk",
  "remote-viewer": "virt-viewer",
  "tshark": "tshark",
  "xvfb-run": "xvfb xauth",
  "openssl": "openssl",
  "gcc": "gcc libpcap-dev",
  "setpriv": "util-linux",
});

/** The exact line that installs `cmd`'s package. */
export function installLine(cmd: string): string {
  return `apt-get install -y --no-install-recommends ${TOOL_PACKAGES[cmd] ?? cmd}`;
}

function isExecutableFile(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/**
 * Whether `cmd` is an executable on PATH, or, when it holds a `/` (`replay --qemu DIR/qemu-…`),
 * an executable file at that path.
 *
 * @param cmd program name or path
 */
export function hasTool(cmd: string): boolean {
  if (cmd.includes("/")) return isExecutableFile(cmd);
  const path = Deno.env.get("PATH") ?? "";
  return path.split(":").some((dir) => dir !== "" && isExecutableFile(`${dir}/${cmd}`));
}

/**
 * Throws an {@link EnvironmentError} with the install line when `cmd` is missing.
 *
 * @param cmd program name
 */
export function requireTool(cmd: string): void {
  if (hasTool(cmd)) return;
  if (cmd.includes("/")) throw new EnvironmentError(`${cmd}: no executable file there`);
  throw new EnvironmentError(`${cmd} is not installed; install it with: ${installLine(cmd)}`);
}

/**
 * Reason a test is skipped when a tool is missing, or undefined when all are present.
 * Use as `Deno.test({ ignore: missingTools("tshark") !== undefined, … })` and log the reason.
 */
export function missingTools(...cmds: string[]): string | undefined {
  const missing = cmds.filter((c) => !hasTool(c));
  if (missing.length === 0) return undefined;
  const reason = `skipped: ${missing.join(", ")} not installed (${installLine(missing[0])})`;
  console.warn(reason);
  return reason;
}
