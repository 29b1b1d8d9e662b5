/** `deno task check PATH…`: verify TCP and SPICE invariants of captures or session directories. */
import { numberFlag, parseCommandArgs } from "../args.ts";
import { checkPath } from "../../lib/check/check_path.ts";
import {
  type CheckSummary,
  findingJson,
  formatFinding,
  formatSummary,
} from "../../lib/check/findings.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";

const HELP = `Usage: deno task check [options] PATH...
Verify TCP and SPICE invariants of capture files (pcap, pcapng; ours or tcpdump/Wireshark
captures of SPICE on any port) or spicecap session directories.

Checks: per TCP connection and direction sequence continuity (gaps, overlaps,
retransmissions) and acknowledgements; client/server direction; timestamps never going
backwards; SPICE link phase and message framing; for a session directory the manifest
schema, its file list and its packet/byte counts.

Options:
  --json               one JSON object per finding ({"type":"finding",...}), then a summary
  --warnings-as-errors exit 1 on warnings too
  --allow-drops        bytes the manifest reports relayed and not recorded (dropped packets,
                       lossy or unrecorded connections) are warnings, not errors
  --server-port <n>    server port of our captures without a manifest (default: 5930)
  -q, --quiet          print only the summary line (text mode)
  -h, --help           show this help

Exit status: 0 clean, 1 violations, 2 unreadable input or bad usage
Examples:
  deno task check captures/demo
  deno task check --json capture.pcapng | jq -c 'select(.severity == "error")'
`;

/** Runs `check`. */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: "check",
    flags: {
      json: { type: "boolean" },
      "warnings-as-errors": { type: "boolean" },
      "allow-drops": { type: "boolean" },
      "server-port": { type: "string" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await io.out(HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError("expected at least one PATH (file or dir)");
  const serverPort = numberFlag(values["server-port"], { flag: "server-port", kind: "port" });
  const json = values.json === true;
  const summary: CheckSummary = {
    files: 0,
    packets: 0,
    messages: 0,
    connections: 0,
    errors: 0,
    warnings: 0,
    unreadable: 0,
  };
  for (const path of positionals) {
    let lines: string[] = [];
    const allowDrops = values["allow-drops"] === true;
    for await (const item of checkPath(path, { serverPort, allowDrops })) {
      if (item.type === "file") {
        summary.files++;
        if (item.unreadable) summary.unreadable++;
        if (item.result) {
          summary.packets += item.result.packets;
          summary.messages += item.result.messages;
          summary.connections += item.result.connections;
        }
        continue;
      }
      const f = item.finding;
      if (f.severity === "error") summary.errors++;
      else if (f.severity === "warning") summary.warnings++;
      if (json) lines.push(findingJson(f));
      else if (!values.quiet) lines.push(formatFinding(f));
      if (lines.length >= 64) {
        await io.out(lines.join("\n") + "\n");
        lines = [];
      }
    }
    if (lines.length > 0) await io.out(lines.join("\n") + "\n");
  }
  if (json) await io.out(JSON.stringify({ type: "summary", ...summary }) + "\n");
  else await io.out(formatSummary(summary) + "\n");
  if (summary.unreadable > 0) {
    await io.err(`spicecap check: ${summary.unreadable} unreadable input(s)\n`);
    return 2;
  }
  const failing = summary.errors + (values["warnings-as-errors"] ? summary.warnings : 0);
  return failing > 0 ? 1 : 0;
}
