/** `deno task render PATH`: the screen a recorded display channel showed, as PNG or PPM files. */
import { numberFlag, parseCommandArgs } from "../args.ts";
import { DisplayModel, type DisplayProblem } from "../../lib/display/display_model.ts";
import { CursorModel } from "../../lib/display/cursor.ts";
import { DEFAULT_CODECS } from "../../lib/display/default_codecs.ts";
import { encodePng, encodePpm } from "../../lib/display/image_files.ts";
import {
  openDisplayStream,
  streamFrames,
  type StreamFramesRequest,
} from "../../lib/display/display_stream.ts";
import type { Frame } from "../../lib/display/timeline.ts";
import { writeNewFile } from "../../lib/capture/file_sink.ts";
import { prepareOutputDirFlag } from "../output_dir.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";

const HELP = `Usage: deno task render [options] PATH
Replay a recorded display channel through spicecap's own SPICE canvas and write the screen
(the primary surface) as image files. PATH is a session directory, a display channel file or a
raw capture holding a display connection (the first one is rendered). The pixels are decoded
from the recording alone: nothing is sent to a server.

Moments (any combination; default --final):
  --final                    after the last message
  --at <seconds>             the screen at this time from the capture start (repeatable)
  --every <ms>               every <ms> milliseconds from the capture start
  --checkpoints <inputs|marks>
                             just before each client input message (inputs channel), or at
                             each MARK (the server's "screen complete")
Output:
  -o, --out <dir>            new or empty directory for the frames, made 0700 with 0600 files
                             (default: frames)
  --format <png|ppm>         file format (default: png); ppm is spicy-screenshot's format
  --surface <id>             render this surface instead of the primary
  --cursor                   draw the cursor from the cursor channel over each frame (ALPHA and
                             MONO shapes; position from the server's CURSOR_SET/MOVE)
  --json                     one {"type":"frame"|"problem"|"summary",...} line each on stdout
  -h, --help                 show this help

Frame files are named frame-<seconds>s-m<message index>-<reason>.<format>, e.g.
frame-000.015824s-m000005-final.png (message index = the last display message applied).
Draws that cannot be rendered (unimplemented ops or codecs, corrupt images, cache misses) are
listed with their message index, and their pixels are marked unknown.

Exit status: 0 every frame fully rendered, 1 some frame has unknown pixels or a message could
not be parsed, 2 unreadable input, no display channel, or bad usage
Examples:
  deno task render --final --format ppm -o out captures/demo
  deno task render --checkpoints inputs -o frames captures/demo
`;

const FORMATS = ["png", "ppm"] as const;
const CHECKPOINTS = ["inputs", "marks"] as const;
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000;

interface RenderOptions {
  path: string;
  out: string;
  format: (typeof FORMATS)[number];
  request: Pick<StreamFramesRequest, "final" | "marks" | "surfaceId">;
  everyMs?: number;
  checkpoints?: (typeof CHECKPOINTS)[number];
  atSeconds: number[];
  cursor: boolean;
  json: boolean;
}

function parseOptions(args: string[]): RenderOptions | undefined {
  const { values, positionals } = parseCommandArgs(args, {
    command: "render",
    flags: {
      final: { type: "boolean" },
      at: { type: "string", multiple: true },
      every: { type: "string" },
      checkpoints: { type: "string" },
      out: { type: "string", short: "o" },
      format: { type: "string" },
      surface: { type: "string" },
      cursor: { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return undefined;
  if (positionals.length !== 1) throw new UsageError("expected exactly one PATH");
  const format = values.format ?? "png";
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format expects png or ppm, got '${format}'`);
  }
  const checkpoints = values.checkpoints;
  if (checkpoints !== undefined && !(CHECKPOINTS as readonly string[]).includes(checkpoints)) {
    throw new UsageError(`--checkpoints expects inputs or marks, got '${checkpoints}'`);
  }
  const atSeconds = (values.at ?? []).map((t) =>
    numberFlag(t, { flag: "at", kind: "non-negative number" })!
  );
  const everyMs = numberFlag(values.every, { flag: "every", kind: "positive integer" });
  const anyMoment = values.final || atSeconds.length > 0 || everyMs !== undefined || checkpoints;
  return {
    path: positionals[0],
    out: values.out ?? "frames",
    format: format as RenderOptions["format"],
    request: {
      final: values.final || !anyMoment,
      marks: checkpoints === "marks",
      surfaceId: numberFlag(values.surface, { flag: "surface", kind: "non-negative integer" }),
    },
    everyMs,
    checkpoints: checkpoints as RenderOptions["checkpoints"],
    atSeconds,
    cursor: values.cursor ?? false,
    json: values.json ?? false,
  };
}

/** Absolute times of --at, the --every step, input checkpoints, from the capture start. */
function frameRequest(o: RenderOptions, startNs: bigint): StreamFramesRequest {
  const atNs = o.atSeconds.map((t) => startNs + BigInt(Math.round(t * NS_PER_S)));
  const every = o.everyMs === undefined
    ? undefined
    : { startNs, stepNs: BigInt(o.everyMs) * NS_PER_MS };
  return { ...o.request, atNs, every, beforeInputs: o.checkpoints === "inputs" };
}

function frameName(f: Frame, o: { startNs: bigint; format: string }): string {
  const seconds = (Number(f.tsNs - o.startNs) / NS_PER_S).toFixed(6).padStart(10, "0");
  const index = String(Math.max(0, f.messageIndex)).padStart(6, "0");
  return `frame-${seconds}s-m${index}-${f.reason}.${o.format}`;
}

function problemLine(p: DisplayProblem & { channel?: string }): string {
  const box = p.box ? ` box ${p.box.left},${p.box.top}-${p.box.right},${p.box.bottom}` : "";
  return `${
    p.channel ?? "display"
  } message ${p.messageIndex} ${p.messageName}: ${p.kind}: ${p.message}${box}`;
}

/** Runs `render`. */
export async function run(args: string[], io: Io): Promise<number> {
  const o = parseOptions(args);
  if (!o) {
    await io.out(HELP);
    return 0;
  }
  const stream = await openDisplayStream(o.path);
  const noDisplay = `spicecap render: ${o.path}: no display channel messages\n`;
  if (!stream.mayHaveDisplay) return await io.err(noDisplay), 2;
  const problems: DisplayProblem[] = [];
  const model = new DisplayModel({ codecs: DEFAULT_CODECS, onProblem: (p) => problems.push(p) });
  const cursorModel = new CursorModel();
  const startNs = stream.startNs ?? 0n;
  const request = frameRequest(o, startNs);
  if (o.cursor) request.cursor = cursorModel;
  await prepareOutputDirFlag(o.out, "--out");
  const frames = await writeFrames(streamFrames(stream, { model, request }), { o, io, startNs });
  if (stream.seen.displayMessages === 0) return await io.err(noDisplay), 2;
  if (stream.seen.displayConnections > 1) {
    await io.err(
      `spicecap render: ${stream.seen.displayConnections} display connections, rendering the first\n`,
    );
  }
  for (
    const p of [...problems, ...cursorModel.problems.map((p) => ({ ...p, channel: "cursor" }))]
  ) {
    if (o.json) await io.out(JSON.stringify({ type: "problem", ...p }) + "\n");
    else await io.err(`spicecap render: ${problemLine(p)}\n`);
  }
  const parseErrors = problems.filter((p) => p.kind === "parse").length;
  if (o.json) {
    await io.out(
      JSON.stringify({
        type: "summary",
        frames: frames.written,
        unknownFrames: frames.unknownFrames,
        problems: problems.length,
      }) + "\n",
    );
  }
  return frames.unknownFrames > 0 || parseErrors > 0 ? 1 : 0;
}

/** Writes each frame as it comes and says so on stdout. */
async function writeFrames(
  frames: AsyncIterable<Frame>,
  ctx: { o: RenderOptions; io: Io; startNs: bigint },
): Promise<{ written: number; unknownFrames: number }> {
  const { o, io, startNs } = ctx;
  let written = 0;
  let unknownFrames = 0;
  for await (const f of frames) {
    if (!f.snapshot) {
      if (f.messageIndex < 0 && f.reason === "final") continue; // no display: said after
      await io.err(
        `spicecap render: no surface yet at ${f.reason} frame (message ${f.messageIndex})\n`,
      );
      continue;
    }
    const file = `${o.out}/${frameName(f, { startNs, format: o.format })}`;
    const bytes = o.format === "png" ? encodePng(f.snapshot) : encodePpm(f.snapshot);
    await writeNewFile(file, bytes);
    written++;
    const unknown = f.snapshot.unknown;
    if (unknown.length > 0) unknownFrames++;
    const seconds = Number(f.tsNs - startNs) / NS_PER_S;
    await io.out(
      o.json
        ? JSON.stringify({
          type: "frame",
          file,
          reason: f.reason,
          seconds,
          messageIndex: f.messageIndex,
          width: f.snapshot.width,
          height: f.snapshot.height,
          unknown,
        }) + "\n"
        : `${file} ${f.reason} t=${seconds.toFixed(6)}s message ${f.messageIndex} ` +
          `${f.snapshot.width}x${f.snapshot.height} unknown regions ${unknown.length}\n`,
    );
  }
  return { written, unknownFrames };
}
