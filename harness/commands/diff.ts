/** `deno task diff ACTUAL GOLDEN`: normalised message-level diff of two captures. */
import { numberFlag, parseCommandArgs } from "../args.ts";
import { diffCaptures } from "../../lib/diff/diff_captures.ts";
import type { DiffOptions, DiffRecord } from "../../lib/diff/types.ts";
import { NORMALISERS } from "../../lib/diff/normalisers.ts";
import { UnknownNormaliserError } from "../../lib/diff/normalise_plan.ts";
import { formatDiffSummary, formatRecord, recordJson } from "../../lib/diff/report.ts";
import { parseRules, RulesError } from "../../lib/diff/rules.ts";
import { sessionDiffSource } from "../../lib/diff/session_source.ts";
import { MANIFEST_FILE, readManifest } from "../../lib/capture/manifest.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { messageNameFlag } from "../names.ts";
import { SCREEN_FLAGS, SCREEN_HELP } from "./diff_screen_flags.ts";
import { CHANNEL_TYPES } from "../../lib/spice/tables.ts";
import { pathExists } from "../exists.ts";

/** Differences printed per channel direction unless --max-report. */
export const DEFAULT_MAX_REPORT = 20;

/** The `--help` text. */
export function help(): string {
  const list = NORMALISERS.map((n) =>
    `    ${n.name.padEnd(12)} ${n.defaultOn ? "" : "(off) "}${n.description}`
  );
  return [
    "Usage: deno task diff [options] ACTUAL GOLDEN",
    "Compare two captures (session directories or channel files) message by message, per channel",
    "and direction, after normalising the fields that differ between runs.",
    "  --keep NAME          turn a normaliser off (repeatable)",
    "  --normalise NAME     turn an off-by-default normaliser on (repeatable)",
    "  --ignore-type NAME   drop a message type, e.g. NOTIFY or MAIN_NAME (repeatable)",
    "  --rules FILE         extra JSON rules: [{channel, direction, message, range|field,",
    '                       action: "mask"|"ignore"}, …]',
    "  --timing MS          also report matched messages whose time since the capture start",
    "                       differs by more than MS milliseconds (default: timing not compared)",
    "  --lookahead N        resync window in messages per side (default: 64)",
    `  --max-report N       print at most N differences per channel direction (default: ${DEFAULT_MAX_REPORT});`,
    "                       counts stay complete",
    "  --json               NDJSON: one 'difference' object per line, then a 'summary'",
    "  --update             after showing the diff, rewrite GOLDEN from ACTUAL",
    "  -h, --help           show this help",
    ...SCREEN_HELP,
    "Normalisers (on unless --keep; TCP seq/ack, ports, MACs and segmentation never matter:",
    "SPICE messages are compared, not frames):",
    ...list,
    "Display content: DRAW_* messages, image bytes included, are compared exactly by default",
    "(only the source image id is masked) — runs that connect at the same boot point get",
    "identical display streams (replay waits the recorded first-connection delay). Use",
    "--normalise draw-images to compare only surface and box (lengths included), or --screens.",
    "Alignment: streaming, one pass per file, no LCS; on a mismatch the nearest resync point",
    "within the look-ahead is taken (units before it are 'missing' or 'extra'), else the pair",
    "counts as 'changed'. Memory holds the look-ahead windows, not the capture.",
    "Offsets are into the message body (link-phase units: into the unit). Indexes are message",
    "numbers per direction of a connection, from 0 (as inspect --messages prints them).",
    "Exit status: 0 same, 1 differs, 2 unreadable input or bad usage",
    "Examples:",
    "  deno task diff captures/run-replay-20240101T000000 fixtures/golden/screenshot",
    "  deno task diff --keep mm-time --json actual/display.pcap golden/display.pcap",
    "",
  ].join("\n");
}

function parse(args: string[]) {
  return parseCommandArgs(args, {
    command: "diff",
    flags: {
      keep: { type: "string", multiple: true },
      normalise: { type: "string", multiple: true },
      "ignore-type": { type: "string", multiple: true },
      rules: { type: "string" },
      timing: { type: "string" },
      lookahead: { type: "string" },
      "max-report": { type: "string" },
      json: { type: "boolean" },
      update: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      ...SCREEN_FLAGS,
    },
  });
}

/**
 * Runs `deno task diff`.
 *
 * @param args arguments after the command name
 * @param io output
 * @returns 0 same, 1 differs, 2 unreadable or bad usage
 */
export async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args);
  if (values.help) {
    await io.out(help());
    return 0;
  }
  if (positionals.length !== 2) {
    throw new UsageError(
      `expected ACTUAL and GOLDEN, got ${positionals.length} path(s)`,
    );
  }
  const [actualPath, goldenPath] = positionals;
  const options: DiffOptions = {
    keep: values.keep,
    enable: values.normalise,
    ignoreTypes: messageNameFlag("ignore-type", values["ignore-type"], { prefixed: true }),
    timingToleranceMs: numberFlag(values.timing, { flag: "timing", kind: "non-negative number" }),
    lookahead: numberFlag(values.lookahead, { flag: "lookahead", kind: "non-negative integer" }),
  };
  const maxReport =
    numberFlag(values["max-report"], { flag: "max-report", kind: "non-negative integer" }) ??
      DEFAULT_MAX_REPORT;
  const rulesText = values.rules === undefined ? undefined : await Deno.readTextFile(values.rules);
  if (values.rules !== undefined) {
    try {
      options.rules = parseRules(rulesText!, values.rules);
    } catch (e) {
      if (e instanceof RulesError) throw new UsageError(e.message);
      throw e;
    }
  }
  // The display model loads only for a screen diff (it costs a plain diff a tenth of its time).
  const screenFlagGiven = Object.keys(SCREEN_FLAGS).some((k) =>
    values[k as keyof typeof SCREEN_FLAGS] !== undefined
  );
  const screenCode = screenFlagGiven ? await import("./diff_screens.ts") : undefined;
  const screens = screenCode?.screenFlags(
    values,
    values.rules === undefined ? undefined : { file: values.rules, text: rulesText! },
  );
  if (screens) options.informationalChannels = [CHANNEL_TYPES.display];

  const goldenExists = await pathExists(goldenPath);
  if (!goldenExists && values.update) {
    await updateGolden(actualPath, goldenPath);
    await io.err(`spicecap diff: ${goldenPath} did not exist; created it from ${actualPath}\n`);
    return 0;
  }
  const onProblem = (file: string, p: { packetNumber: number; message: string }) => {
    void io.err(`spicecap diff: warning: ${file}: packet ${p.packetNumber}: ${p.message}\n`);
  };
  const actual = await sessionDiffSource(actualPath, { onProblem });
  const golden = await sessionDiffSource(goldenPath, { onProblem });

  const shown = new Map<string, number>();
  let same = true;
  try {
    for await (const r of diffCaptures(actual, golden, options)) {
      if (r.type === "summary") {
        if (screens) {
          const paths = { actual: actualPath, golden: goldenPath };
          await screenCode!.printScreens(r, {
            paths,
            flags: screens,
            json: values.json ?? false,
            io,
          });
        }
        same = r.same;
        await io.out(values.json ? recordJson(r) : formatDiffSummary(r));
        continue;
      }
      if (!showRecord(r, { shown, max: maxReport })) continue;
      await io.out(values.json ? recordJson(r) : formatRecord(r));
    }
  } catch (e) {
    if (e instanceof UnknownNormaliserError) throw new UsageError(e.message);
    throw e;
  }
  if (values.update && !same) {
    await updateGolden(actualPath, goldenPath);
    await io.err(`spicecap diff: rewrote ${goldenPath} from ${actualPath}\n`);
  }
  return same ? 0 : 1;
}

/**
 * Whether a difference is printed: the first `max` of each channel direction are, counted in
 * `shown`.
 */
export function showRecord(
  r: DiffRecord,
  count: { shown: Map<string, number>; max: number },
): boolean {
  const { shown, max } = count;
  const key = `${r.channel}/${r.direction ?? ""}`;
  const n = (shown.get(key) ?? 0) + 1;
  shown.set(key, n);
  return n <= max;
}

/**
 * Replaces the golden with a copy of the actual capture: a session directory's manifest and
 * channel files (the old golden's channel files are removed first), or a single file.
 */
export async function updateGolden(actualPath: string, goldenPath: string): Promise<void> {
  const info = await Deno.stat(actualPath);
  if (!info.isDirectory) {
    await Deno.copyFile(actualPath, goldenPath);
    return;
  }
  const manifest = await readManifest(actualPath);
  await Deno.mkdir(goldenPath, { recursive: true });
  try {
    const old = await readManifest(goldenPath);
    for (const c of old.channels) await Deno.remove(`${goldenPath}/${c.file}`).catch(() => {});
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const c of manifest.channels) {
    await Deno.copyFile(`${actualPath}/${c.file}`, `${goldenPath}/${c.file}`);
  }
  await Deno.copyFile(`${actualPath}/${MANIFEST_FILE}`, `${goldenPath}/${MANIFEST_FILE}`);
}
