/** `deno task merge DIR -o OUT.pcapng`: a session's channel files → one time-ordered pcapng. */
import { parseCommandArgs } from "../args.ts";
import { mergeFiles } from "../../lib/session/merge_files.ts";
import { openSession } from "../../lib/session/session_files.ts";
import { writeFileAtomically } from "../atomic_output.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";

const HELP = `Usage: deno task merge [options] DIR -o OUT.pcapng
Merge a session's channel files into one pcapng in timestamp order: one interface per
channel (named after its file), pcapng direction flags (client → server = outbound) and
comments kept. DIR may also be a single capture file (converted to pcapng).

Options:
  -o, --out <file>     output pcapng; "-" writes to stdout (required); --output is the
                       old spelling
  --no-direction       do not derive direction flags from the synthetic addressing
  -h, --help           show this help

Exit status: 0 merged, 2 unreadable input or bad usage
Example:
  deno task merge captures/demo -o demo.pcapng && wireshark demo.pcapng
`;

/** Runs `merge`. */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: "merge",
    flags: {
      out: { type: "string", short: "o" },
      output: { type: "string" },
      "no-direction": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await io.out(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected exactly one session DIR");
  const out = values.out ?? values.output;
  if (out === undefined) throw new UsageError("expected -o OUT.pcapng (or -o -)");
  const { files } = await openSession(positionals[0]);
  const options = { deriveDirection: !values["no-direction"] };
  if (out === "-") {
    const sink = new WritableStream<Uint8Array>({ write: (chunk) => io.out(chunk) });
    await mergeFiles(files, sink, options);
    return 0;
  }
  // A temporary file renamed into place at the end: a failed merge leaves no partial pcapng.
  const result = await writeFileAtomically(
    out,
    (file) => mergeFiles(files, file.writable, options),
  );
  await io.err(
    `spicecap merge: ${out}: ${result.packets} packet(s) from ${files.length} file(s)\n`,
  );
  return 0;
}
