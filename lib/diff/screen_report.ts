/**
 * `diff --screens` results as records: the NDJSON `screen` object (what lib/report shows) and
 * the text line of a checkpoint that differs.
 *
 * @module
 */
import type { Rect } from "../display/types.ts";
import type { ScreenCheckpoint } from "./screen_diff.ts";

/** Files written for a checkpoint that differs (`--artifacts DIR`). */
export interface ScreenArtifacts {
  /** The golden screen, PNG. */
  expected?: string;
  /** The actual screen, PNG. */
  actual?: string;
  /** Where they differ (red), masked (blue), the rest dimmed; PNG. */
  diff?: string;
}

/** A rectangle as x, y, width, height. */
export interface ScreenBox {
  /** First column. */
  x: number;
  /** First row. */
  y: number;
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
}

/** The NDJSON `screen` record of one checkpoint. */
export interface ScreenRecord {
  /** Always "screen". */
  type: "screen";
  /** 0-based checkpoint number. */
  checkpoint: number;
  /** "input" (just before it), "mark" (just after it) or "end". */
  kind: "input" | "mark" | "end";
  /** Which input or mark, 0-based in each capture. */
  ordinal: number;
  /** Whether the screens match. */
  same: boolean;
  /** Last display message applied in the actual capture (server direction); absent: no checkpoint. */
  index?: number;
  /** Last display message applied in the golden capture. */
  goldenIndex?: number;
  /** Seconds since the actual capture's first packet. */
  seconds?: number;
  /** Seconds since the golden capture's first packet. */
  goldenSeconds?: number;
  /** Differing pixels outside the masks. */
  differing?: number;
  /** Their bounding box. */
  box?: ScreenBox;
  /** Masked rectangles. */
  masks: ScreenBox[];
  /** One line saying what differs. */
  detail: string;
  /** PNGs written, for a checkpoint that differs. */
  artifacts?: ScreenArtifacts;
}

function boxOf(r: Rect): ScreenBox {
  return { x: r.left, y: r.top, width: r.right - r.left, height: r.bottom - r.top };
}

/** "before input #3", "after mark #0", "at the end". */
export function checkpointLabel(c: { kind: string; ordinal: number }): string {
  if (c.kind === "input") return `before input #${c.ordinal}`;
  if (c.kind === "mark") return `after mark #${c.ordinal}`;
  return "at the end";
}

function detailOf(c: ScreenCheckpoint): string {
  if (!c.actual) return `checkpoint ${checkpointLabel(c)} is in the golden capture only`;
  if (!c.golden) return `checkpoint ${checkpointLabel(c)} is in the actual capture only`;
  const [a, g] = [c.actual.snapshot, c.golden.snapshot];
  if (!a || !g) {
    return a || g ? `no screen yet in the ${a ? "golden" : "actual"} capture` : "no screen yet";
  }
  const cmp = c.comparison!;
  if (cmp.differing === 0) return "same";
  const size = cmp.sizeDiffers
    ? ` (size ${a.width}×${a.height}, expected ${g.width}×${g.height})`
    : "";
  const b = boxOf(cmp.box!);
  return `${cmp.differing} pixel${
    cmp.differing === 1 ? "" : "s"
  } differ in ${b.width}×${b.height} at ${b.x},${b.y}${size}`;
}

/**
 * The record of one checkpoint.
 *
 * @param c the compared checkpoint
 * @param artifacts files written for it
 */
export function screenRecord(c: ScreenCheckpoint, artifacts?: ScreenArtifacts): ScreenRecord {
  const r: ScreenRecord = {
    type: "screen",
    checkpoint: c.checkpoint,
    kind: c.kind,
    ordinal: c.ordinal,
    same: c.same,
    index: c.actual?.index,
    goldenIndex: c.golden?.index,
    seconds: c.actual?.seconds,
    goldenSeconds: c.golden?.seconds,
    differing: c.comparison?.differing,
    box: c.comparison?.box ? boxOf(c.comparison.box) : undefined,
    masks: c.masks.map(boxOf),
    detail: detailOf(c),
  };
  if (artifacts) r.artifacts = artifacts;
  return r;
}

/**
 * The text report of a checkpoint (`diff` prints the ones that differ).
 *
 * @param r the record
 * @returns lines ending in a newline
 */
export function formatScreenRecord(r: ScreenRecord): string {
  const at = (i?: number, s?: number) =>
    i === undefined ? "none" : `message #${i}, ${s!.toFixed(3)} s`;
  const lines = [
    `screen checkpoint ${r.checkpoint} (${checkpointLabel(r)}): ${r.detail}` +
    ` [actual ${at(r.index, r.seconds)}; golden ${at(r.goldenIndex, r.goldenSeconds)}]`,
  ];
  for (const [k, f] of Object.entries(r.artifacts ?? {})) lines.push(`    ${k}: ${f}`);
  return lines.join("\n") + "\n";
}
