/** `deno task report PATH -o FILE`: one self-contained HTML page showing a session (and a diff). */
import { numberFlag, parseCommandArgs } from "../args.ts";
import { writeFileAtomically } from "../atomic_output.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { ManifestError } from "../../lib/capture/manifest.ts";
import { checkPath } from "../../lib/check/check_path.ts";
import type { Finding } from "../../lib/check/findings.ts";
import { diffCaptures } from "../../lib/diff/diff_captures.ts";
import { sessionDiffSource } from "../../lib/diff/session_source.ts";
import { describeDisplayEvent } from "../../lib/display/message_summary.ts";
import { readCaptureFileBatches } from "../../lib/pcap/reader.ts";
import { MessageCollector } from "../../lib/report/collect.ts";
import { DiffPart } from "../../lib/report/diff_part.ts";
import {
  compareScreens,
  DisplayCollector,
  finalScreen,
  renderReportFrames,
} from "../../lib/report/frames.ts";
import { renderReportHtml } from "../../lib/report/html.ts";
import { buildReportModel } from "../../lib/report/model.ts";
import type { ReportModel } from "../../lib/report/types.ts";
import { describeInputsEvent, TypedTextCollector } from "../../lib/session/input_text.ts";
import { mergeByTime } from "../../lib/session/merge.ts";
import { SpiceStreamReader } from "../../lib/session/messages.ts";
import { openSession, type SessionFile } from "../../lib/session/session_files.ts";
import type { MessageEvent, StreamProblem } from "../../lib/session/types.ts";
import { readDisplaySession } from "../../lib/display/session_display.ts";
import type { DisplaySnapshot } from "../../lib/display/display_model.ts";
import type { ReportScreen } from "../../lib/report/types.ts";

const HELP = `Usage: deno task report [options] PATH
Write one self-contained HTML page (no network needed: script, styles and images inline) that
shows a session: a summary (target, QEMU command line, duration, channels with message counts,
bytes, drops and errors, the check verdict with its findings linked to their messages), a
zoomable timeline with one lane per connection and direction (link phase and reconnections
visible, keys typed), a filterable message table (filters as inspect's --channel and --type),
and the screen rendered at each checkpoint (before inputs, at marks, at the end) as a film strip.
PATH is a session directory or a capture file.

Options:
  -o, --out <file>       the page to write (default: report.html); replaced if it exists
  --diff <golden>        add the diff against this golden session (as deno task diff ACTUAL
                         GOLDEN prints it) and the two final screens side by side
  --max-frames <n>       screen frames kept besides the final one, spread evenly over the
                         checkpoints (default: 60)
  -h, --help             show this help

Exit status: 0 written (whatever check and diff found: the page says), 2 unreadable input or
bad usage
Examples:
  deno task report -o report.html fixtures/golden/all_channels
  deno task report --diff fixtures/golden/screenshot -o run.html captures/run-replay-1
`;

interface Options {
  path: string;
  out: string;
  golden?: string;
  maxFrames: number;
}

function parse(args: string[]): Options | undefined {
  const { values, positionals } = parseCommandArgs(args, {
    command: "report",
    flags: {
      out: { type: "string", short: "o" },
      diff: { type: "string" },
      "max-frames": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  if (positionals.length !== 1) {
    throw new UsageError("expected exactly one PATH");
  }
  return {
    path: positionals[0],
    out: values.out ?? "report.html",
    golden: values.diff,
    maxFrames:
      numberFlag(values["max-frames"], { flag: "max-frames", kind: "non-negative integer" }) ?? 60,
  };
}

/** One file's units, in file order, with the reader's problems collected. */
async function* fileEvents(
  f: SessionFile,
  problems: StreamProblem[],
): AsyncGenerator<MessageEvent> {
  const reader = new SpiceStreamReader({ file: f.file, onProblem: (p) => problems.push(p) });
  for await (const batch of readCaptureFileBatches(f.path, { file: f.file })) {
    for (const r of batch) yield* reader.push(r).events;
  }
  yield* reader.finish();
}

/** Every unit of the session in time order (channel files merged as inspect merges them). */
async function* sessionEvents(
  files: SessionFile[],
  problems: StreamProblem[],
): AsyncGenerator<MessageEvent> {
  if (files.length === 1) {
    yield* fileEvents(files[0], problems);
    return;
  }
  const merged = mergeByTime(files.map((f) => fileEvents(f, problems)), (ev) => ev.tsNs);
  for await (const { item } of merged) yield item;
}

/** The golden run's final screen beside ours, when both have one. */
async function compareFinalScreens(
  actual: DisplaySnapshot | undefined,
  goldenPath: string,
): Promise<ReportScreen[]> {
  if (!actual) return [];
  const expected = finalScreen((await readDisplaySession(goldenPath)).messages);
  return expected ? [compareScreens("final screen", { expected, actual })] : [];
}

async function collectFindings(path: string): Promise<Finding[]> {
  const findings: Finding[] = [];
  for await (const item of checkPath(path)) {
    if (item.type === "finding") findings.push(item.finding);
  }
  return findings;
}

/** Builds the page model of a session (and its diff against a golden one). */
export async function buildModel(o: Options, io: Io): Promise<ReportModel> {
  const listing = await openSession(o.path);
  const describe = (ev: MessageEvent) => describeInputsEvent(ev) ?? describeDisplayEvent(ev);
  const collector = new MessageCollector({ describe });
  const display = new DisplayCollector();
  const typed = new TypedTextCollector();
  const streamProblems: StreamProblem[] = [];
  for await (const ev of sessionEvents(listing.files, streamProblems)) {
    collector.push(ev);
    display.push(ev);
    typed.push(ev);
    if (io.signal.aborted) throw new UsageError("interrupted");
  }
  const collected = collector.finish();
  const frames = renderReportFrames(display, {
    startUs: collected.startUs,
    maxFrames: o.maxFrames,
  });
  const messageAt = (file: string, packet: number) => collector.messageAt(file, packet);
  let diff;
  if (o.golden !== undefined) {
    const fileOf = new Map(collected.lanes.map((l) => [l.label, l.file]));
    const part = new DiffPart({
      golden: o.golden,
      messageAt: (label, packet) => messageAt(fileOf.get(label) ?? label, packet),
    });
    const actual = await sessionDiffSource(o.path);
    const golden = await sessionDiffSource(o.golden);
    for await (const r of diffCaptures(actual, golden, {})) part.push(r);
    diff = part.finish(await compareFinalScreens(frames.final, o.golden));
  }
  return buildReportModel({
    title: o.path,
    manifest: listing.manifest,
    collected,
    messageAt,
    findings: await collectFindings(o.path),
    frames,
    streamProblems,
    typed: typed.text,
    diff,
  });
}

/** Runs `report`. */
export async function run(args: string[], io: Io): Promise<number> {
  const o = parse(args);
  if (!o) {
    await io.out(HELP);
    return 0;
  }
  let model: ReportModel;
  try {
    model = await buildModel(o, io);
  } catch (e) {
    if (e instanceof ManifestError) throw new UsageError(e.message);
    throw e;
  }
  const bytes = new TextEncoder().encode(renderReportHtml(model));
  await writeFileAtomically(o.out, async (file) => {
    let off = 0;
    while (off < bytes.length) off += await file.write(bytes.subarray(off));
  });
  await io.out(
    `${o.out}: ${model.messages.t.length} messages, ${model.frames.length} frames, ` +
      `${(bytes.length / 1024).toFixed(0)} KiB\n`,
  );
  return 0;
}
