/** `deno task import PCAP [-o DIR]`: a raw capture of SPICE → a spicecap session directory. */
import { numberFlag, parseCommandArgs } from "../args.ts";
import { readCaptureFile } from "../../lib/pcap/reader.ts";
import { importCapture } from "../../lib/session/import_capture.ts";
import { fillDirAtomically } from "../atomic_output.ts";
import { InputError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";

const HELP = `Usage: deno task import [options] PCAP
Turn a raw tcpdump/Wireshark capture of SPICE (pcap or pcapng, any port, Ethernet or Linux
cooked) into a spicecap session directory: one file per channel, one packet per SPICE unit,
synthetic addressing, original timestamps. Each connection must include its link phase.

Options:
  -o, --out <dir>        session directory to create (default: captures/<PCAP's name without
                         extension> in the current directory); --output is the old spelling
  --format <pcap|pcapng> channel file format (default: pcap)
  --server-port <n>      synthetic server port (default: 5930)
  --json                 print the result as one JSON object
  -h, --help             show this help

Exit status: 0 imported, 1 partial (bytes lost, framing errors, unknown channels), 2 unreadable
input or bad usage
Example:
  spicecap import tcpdump.pcap -o captures/from-tcpdump && spicecap check captures/from-tcpdump
`;

/** Where an import goes without `-o`: `captures/<name>` under the current directory. */
export function defaultImportDir(input: string): string {
  const name = input.replace(/\/+$/, "").split("/").pop()!.replace(/\.(pcapng|pcap|cap)$/i, "");
  return `captures/${name}`;
}

/** The input must be a readable file: a directory or a missing path is named with the problem. */
async function statInput(input: string): Promise<void> {
  let info;
  try {
    info = await Deno.stat(input);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new InputError(`${input}: no such file`);
    throw e;
  }
  if (info.isDirectory) {
    throw new UsageError(
      `${input}: is a directory; import takes one capture file (pcap or pcapng)`,
    );
  }
}

/** Runs `import`. */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: "import",
    flags: {
      out: { type: "string", short: "o" },
      output: { type: "string" },
      format: { type: "string" },
      "server-port": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await io.out(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected exactly one PCAP file");
  const input = positionals[0];
  const format = values.format ?? "pcap";
  if (format !== "pcap" && format !== "pcapng") {
    throw new UsageError(`--format: expected pcap or pcapng, got '${format}'`);
  }
  const serverPort = numberFlag(values["server-port"], { flag: "server-port", kind: "port" });
  const dir = values.out ?? values.output ?? defaultImportDir(input);
  await statInput(input); // names the input before a directory is created
  // Written beside `dir` and moved into place at the end: a failed import leaves nothing behind.
  const result = await fillDirAtomically(
    dir,
    (tmp) => importCapture(readCaptureFile(input), tmp, { file: input, format, serverPort }),
  );
  const lossy = result.problems.filter((p) =>
    p.kind !== "retransmission" && p.kind !== "outOfOrder"
  );
  if (values.json) {
    await io.out(
      JSON.stringify({
        type: "import",
        dir,
        connections: result.connections,
        imported: result.imported,
        units: result.units,
        partial: result.partial,
        problems: lossy.map((p) => ({
          kind: p.kind,
          packetNumber: p.packetNumber,
          connection: p.connection?.index,
          message: p.message,
        })),
      }) + "\n",
    );
  } else {
    for (const p of lossy) {
      await io.err(
        `spicecap import: ${input}: packet ${p.packetNumber}` +
          (p.connection ? `, connection ${p.connection.index}` : "") +
          `: ${p.kind}: ${p.message}\n`,
      );
    }
    await io.out(
      `${dir}: ${result.imported} of ${result.connections} connection(s), ${result.units} SPICE ` +
        `unit(s) in ${result.manifest.channels.length} channel file(s)` +
        (result.partial ? " (PARTIAL)" : "") + "\n",
    );
  }
  return result.partial ? 1 : 0;
}
