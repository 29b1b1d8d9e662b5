/** `deno task stats PATH`: message counts and bytes, rate over time, round trips and link times. */
import { parseCommandArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { readSessionMessages } from "../../lib/session/session_files.ts";
import { SessionStats, type StatsReport } from "../../lib/session/stats.ts";
import { formatStats } from "../../lib/session/stats_text.ts";

const HELP = `Usage: deno task stats [options] PATH
Statistics of a session directory or capture file, read as inspect --messages reads it:
  - per channel and direction, each message name with its count and bytes on the wire
    (header included, as inspect's size; link-phase units as LINK, LINK_REPLY, …)
  - the rate over time: one bar per --interval seconds from the first unit
  - PING → PONG round trips per channel (min, median, max; capture time)
  - link times: each connection's LINK to its LINK_RESULT

Options:
  --interval <s>       bucket width of the rate over time, seconds (default: 1)
  --json               one JSON object ({"type":"stats",...}) instead of text
  -h, --help           show this help

Exit status: 0 printed, 2 unreadable input or bad usage
Example:
  deno task stats --interval 0.5 captures/demo
`;

/** The most buckets the rate over time is drawn with. */
const MAX_BUCKETS = 10_000;

/** Runs `stats`. */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    command: "stats",
    flags: {
      interval: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    await io.out(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("expected exactly one PATH (file or dir)");
  const interval = values.interval === undefined ? 1 : Number(values.interval);
  if (!Number.isFinite(interval) || interval <= 0 || values.interval?.trim() === "") {
    throw new UsageError(
      `--interval expects a positive number of seconds, got ${values.interval}`,
    );
  }
  const stats = new SessionStats();
  for await (const ev of readSessionMessages(positionals[0])) {
    if (io.signal.aborted) break;
    stats.push(ev);
  }
  const buckets = stats.bucketCount(interval);
  if (buckets > MAX_BUCKETS) {
    throw new UsageError(
      `--interval ${values.interval} makes ${buckets} buckets, more than ${MAX_BUCKETS}; ` +
        `give a longer one`,
    );
  }
  const report: StatsReport = stats.report({ intervalSeconds: interval });
  await io.out(
    values.json ? `${JSON.stringify({ type: "stats", ...report })}\n` : formatStats(report),
  );
  return 0;
}
