/**
 * `diff --screens`: the flags, rendering both captures' screens at the checkpoints, the PNGs
 * under `--artifacts`, and the screen records the diff prints.
 */
import { numberFlag } from "../args.ts";
import { DEFAULT_CODECS } from "../../lib/display/default_codecs.ts";
import { encodePng, type RgbaImage } from "../../lib/display/image_files.ts";
import { parseScreenMasks, type ScreenMask, ScreenMaskError } from "../../lib/display/masks.ts";
import { readDisplaySession } from "../../lib/display/session_display.ts";
import type { Rect } from "../../lib/display/types.ts";
import { screenDiffPicture } from "../../lib/diff/screen_compare.ts";
import {
  CHECKPOINT_KINDS,
  type CheckpointKind,
  type ScreenCheckpoint,
  screenCheckpoints,
} from "../../lib/diff/screen_diff.ts";
import {
  formatScreenRecord,
  type ScreenArtifacts,
  type ScreenRecord,
  screenRecord,
} from "../../lib/diff/screen_report.ts";
import type { DiffSummary } from "../../lib/diff/types.ts";
import { UsageError } from "../errors.ts";
export { SCREEN_FLAGS, SCREEN_HELP } from "./diff_screen_flags.ts";
import type { Io } from "../io.ts";

/** What the screen flags ask for. */
export interface ScreenFlags {
  /** Checkpoint kinds. */
  checkpoints: CheckpointKind[];
  /** `--mask` rectangles. */
  rects: Rect[];
  /** `"screen"` rules of the `--rules` file. */
  masks: ScreenMask[];
  /** `--tolerance`. */
  tolerance: number;
  /** `--artifacts`. */
  artifacts?: string;
}

function parseRect(text: string): Rect {
  const parts = text.split(",").map((p) => p.trim());
  const n = parts.map(Number);
  if (parts.length !== 4 || n.some((v) => !Number.isInteger(v) || v < 0) || !n[2] || !n[3]) {
    throw new UsageError(`--mask expects X,Y,W,H (integers, W and H > 0), got '${text}'`);
  }
  return { left: n[0], top: n[1], right: n[0] + n[2], bottom: n[1] + n[3] };
}

/**
 * Validates the screen flags; undefined without `--screens`.
 *
 * @param values parsed flags
 * @param rules the `--rules` file's name and text, when given
 * @throws {UsageError} for a bad value, or a screen flag without `--screens`
 */
export function screenFlags(
  values: {
    screens?: boolean;
    checkpoints?: string[];
    mask?: string[];
    tolerance?: string;
    artifacts?: string;
  },
  rules?: { file: string; text: string },
): ScreenFlags | undefined {
  if (!values.screens) {
    const stray = ["checkpoints", "mask", "tolerance", "artifacts"].find((k) =>
      values[k as keyof typeof values] !== undefined
    );
    if (stray) throw new UsageError(`--${stray} needs --screens`);
    return undefined;
  }
  const checkpoints = (values.checkpoints ?? ["inputs,end"]).flatMap((c) => c.split(","));
  for (const c of checkpoints) {
    if (!(CHECKPOINT_KINDS as readonly string[]).includes(c)) {
      throw new UsageError(`--checkpoints expects inputs, marks or end, got '${c}'`);
    }
  }
  let masks: ScreenMask[] = [];
  try {
    if (rules) masks = parseScreenMasks(rules.text, rules.file);
  } catch (e) {
    if (e instanceof ScreenMaskError) throw new UsageError(e.message);
    throw e;
  }
  return {
    checkpoints: [...new Set(checkpoints)] as CheckpointKind[],
    rects: (values.mask ?? []).map(parseRect),
    masks,
    tolerance: numberFlag(values.tolerance, { flag: "tolerance", kind: "non-negative integer" }) ??
      0,
    artifacts: values.artifacts,
  };
}

async function writePng(file: string, image: RgbaImage): Promise<void> {
  await Deno.writeFile(file, encodePng(image), { mode: 0o600 });
}

/** Writes the PNGs of a checkpoint that differs. */
async function writeArtifacts(
  c: ScreenCheckpoint,
  options: { dir: string; tolerance: number },
): Promise<ScreenArtifacts> {
  const { dir } = options;
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const base = `${dir}/checkpoint-${String(c.checkpoint).padStart(4, "0")}-${c.kind}`;
  const out: ScreenArtifacts = {};
  const expected = c.golden?.snapshot;
  const actual = c.actual?.snapshot;
  if (expected) await writePng(out.expected = `${base}-expected.png`, expected);
  if (actual) await writePng(out.actual = `${base}-actual.png`, actual);
  if (expected && actual) {
    const picture = screenDiffPicture(expected, actual, {
      masks: c.masks,
      tolerance: options.tolerance,
    });
    await writePng(out.diff = `${base}-diff.png`, picture);
  }
  return out;
}

/**
 * Renders both captures and compares their screens, writing artifacts for the checkpoints that
 * differ.
 *
 * @param paths the actual and golden capture paths
 * @param flags the screen flags
 * @returns one record per checkpoint, in order
 */
export async function* diffScreens(
  paths: { actual: string; golden: string },
  flags: ScreenFlags,
): AsyncGenerator<ScreenRecord> {
  const actual = await readDisplaySession(paths.actual);
  const golden = await readDisplaySession(paths.golden);
  const checkpoints = screenCheckpoints(actual, golden, {
    checkpoints: flags.checkpoints,
    masks: flags.masks,
    rects: flags.rects,
    tolerance: flags.tolerance,
    codecs: DEFAULT_CODECS,
  });
  for (const c of checkpoints) {
    const files = !c.same && flags.artifacts
      ? await writeArtifacts(c, { dir: flags.artifacts, tolerance: flags.tolerance })
      : undefined;
    yield screenRecord(c, files);
  }
}

/**
 * Compares the screens and prints their records (NDJSON: every checkpoint; text: the ones that
 * differ), then folds the counts into the message diff's summary: a differing checkpoint is a
 * difference.
 *
 * @param summary the message diff's summary, updated in place
 * @param run the capture paths, the screen flags, the output format and stream
 */
export async function printScreens(
  summary: DiffSummary,
  run: { paths: { actual: string; golden: string }; flags: ScreenFlags; json: boolean; io: Io },
): Promise<void> {
  let checkpoints = 0;
  let differing = 0;
  for await (const c of diffScreens(run.paths, run.flags)) {
    checkpoints++;
    if (!c.same) differing++;
    if (run.json) await run.io.out(JSON.stringify(c) + "\n");
    else if (!c.same) await run.io.out(formatScreenRecord(c));
  }
  summary.screens = { checkpoints, differing };
  summary.differences += differing;
  summary.same &&= differing === 0;
}
