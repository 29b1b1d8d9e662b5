/**
 * The report's screens: the first display connection's messages collected during the one pass
 * over the session (as `render` reads them), rendered through lib/display at the checkpoints
 * (before each input, at each MARK, at the end) and encoded as PNG data URIs.
 */
import { Buffer } from "node:buffer";
import {
  DisplayModel,
  type DisplayProblem,
  type DisplaySnapshot,
} from "../display/display_model.ts";
import { DEFAULT_CODECS } from "../display/default_codecs.ts";
import { encodePng } from "../display/image_files.ts";
import { screenDiffImage } from "../display/masks.ts";
import { type TimedDisplayMessage, unitMessages } from "../display/session_display.ts";
import { renderFrames } from "../display/timeline.ts";
import type { MessageEvent } from "../session/types.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import type { ReportFrame, ReportScreen } from "./types.ts";

/** First channel-specific message type; below are common messages (acks, pings). */
const FIRST_CHANNEL_MESSAGE = 101;

/** Collects what rendering needs, unit by unit, as `readDisplaySession` does for `render`. */
export class DisplayCollector {
  /** Both directions of the first display connection, in order. */
  readonly messages: TimedDisplayMessage[] = [];
  /** Times of client → server inputs-channel messages of type ≥ 101. */
  readonly inputTimesNs: bigint[] = [];
  #displayKey: string | undefined;

  /** Feeds one unit. */
  push(ev: MessageEvent): void {
    const { unit, connection } = ev;
    if (unit.kind !== "message") return;
    if (connection.channelType === CHANNEL_TYPES.inputs) {
      if (unit.fromClient && unit.type >= FIRST_CHANNEL_MESSAGE) this.inputTimesNs.push(ev.tsNs);
      return;
    }
    if (connection.channelType !== CHANNEL_TYPES.display) return;
    const key = `${ev.file ?? ""}#${connection.index}`;
    this.#displayKey ??= key;
    if (key === this.#displayKey) {
      this.messages.push(...unitMessages(unit, ev.tsNs, { gapBefore: ev.gapBefore }));
    }
  }
}

/** Options of {@link renderReportFrames}. */
export interface ReportFramesOptions {
  /** Absolute time of the report's start, µs since the epoch. */
  startUs: number;
  /** Most frames kept besides the final one; checkpoints are thinned evenly. @default 60 */
  maxFrames?: number;
}

/** What {@link renderReportFrames} made. */
export interface ReportFrames {
  /** PNG data URIs, one per distinct picture. */
  images: string[];
  /** The frames in time order, the final one last. */
  frames: ReportFrame[];
  /** The final snapshot (for comparison with another run), when a surface existed. */
  final?: DisplaySnapshot;
  /** Problems the display model met. */
  problems: DisplayProblem[];
}

/** `count` items of `list` spread evenly, the last one always included. */
function thin<T>(list: T[], count: number): T[] {
  if (list.length <= count) return list;
  if (count <= 0) return [];
  const out: T[] = [];
  for (let i = 1; i <= count; i++) out.push(list[Math.ceil((i * list.length) / count) - 1]);
  return out;
}

/** FNV-1a over the pixels: cheap identity of a picture, to share identical frames' images. */
function pixelKey(s: DisplaySnapshot): string {
  let h = 0x811c9dc5;
  const p = new Uint32Array(s.pixels.buffer, s.pixels.byteOffset, s.pixels.length >> 2);
  for (let i = 0; i < p.length; i++) h = Math.imul(h ^ p[i], 0x01000193);
  return `${s.width}x${s.height}:${h >>> 0}:${s.pixels.length}`;
}

/** A PNG data URI of a snapshot (the bytes `render` writes for it). */
export function pngDataUri(image: { width: number; height: number; pixels: Uint8Array }): string {
  return `data:image/png;base64,${Buffer.from(encodePng(image)).toString("base64")}`;
}

/**
 * Renders the checkpoints: just before each input, at each MARK, and the final screen.
 *
 * @param display what was collected
 * @param options time origin and the frame cap
 */
export function renderReportFrames(
  display: DisplayCollector,
  options: ReportFramesOptions,
): ReportFrames {
  const problems: DisplayProblem[] = [];
  const model = new DisplayModel({ codecs: DEFAULT_CODECS, onProblem: (p) => problems.push(p) });
  const inputs = [...display.inputTimesNs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const all = renderFrames(model, {
    messages: display.messages,
    request: { beforeNs: inputs, marks: true, final: true },
  });
  const picked: { reason: string; tsNs: bigint; snapshot: DisplaySnapshot }[] = [];
  let final: DisplaySnapshot | undefined;
  let finalTs = 0n;
  // Each snapshot is a fresh copy; only the picked ones are kept and encoded.
  const wanted = new Set(thin(pendingIndexes(display, inputs), options.maxFrames ?? 60));
  let n = 0;
  for (const f of all) {
    if (f.reason === "final") {
      final = f.snapshot;
      finalTs = f.tsNs;
      continue;
    }
    if (wanted.has(n++) && f.snapshot) {
      picked.push({ reason: f.reason, tsNs: f.tsNs, snapshot: f.snapshot });
    }
  }
  if (final) picked.push({ reason: "final", tsNs: finalTs, snapshot: final });
  return { ...encodeFrames(picked, options.startUs), final, problems };
}

/** Indexes 0..k-1 of the non-final frames renderFrames will yield (inputs and marks). */
function pendingIndexes(display: DisplayCollector, inputs: bigint[]): number[] {
  const MARK = 102;
  let marks = 0;
  for (const m of display.messages) if (!m.fromClient && m.type === MARK) marks++;
  return Array.from({ length: inputs.length + marks }, (_, i) => i);
}

function encodeFrames(
  picked: { reason: string; tsNs: bigint; snapshot: DisplaySnapshot }[],
  startUs: number,
): { images: string[]; frames: ReportFrame[] } {
  const images: string[] = [];
  const byKey = new Map<string, number>();
  const frames = picked.map(({ reason, tsNs, snapshot }) => {
    const key = pixelKey(snapshot);
    let image = byKey.get(key);
    if (image === undefined) {
      image = images.length;
      images.push(pngDataUri(snapshot));
      byKey.set(key, image);
    }
    return {
      reason,
      t: Math.max(0, Number(tsNs / 1000n) - startUs),
      image,
      width: snapshot.width,
      height: snapshot.height,
      unknown: snapshot.unknown.length,
    };
  });
  return { images, frames };
}

/**
 * The final screen of a display channel's messages, as `render --final` draws it.
 *
 * @param messages the first display connection's messages
 * @returns the snapshot, or undefined when no surface was made
 */
export function finalScreen(messages: readonly TimedDisplayMessage[]): DisplaySnapshot | undefined {
  const model = new DisplayModel({ codecs: DEFAULT_CODECS });
  let final: DisplaySnapshot | undefined;
  for (const f of renderFrames(model, { messages, request: { final: true } })) final = f.snapshot;
  return final;
}

/**
 * One screen of the golden run beside this run's, with the picture of where they differ.
 *
 * @param label what moment this is
 * @param pair the golden (expected) and this run's (actual) snapshots
 */
export function compareScreens(
  label: string,
  pair: { expected: DisplaySnapshot; actual: DisplaySnapshot },
): ReportScreen {
  const diff = screenDiffImage(pair.expected, pair.actual);
  return {
    label,
    expected: pngDataUri(pair.expected),
    actual: pngDataUri(pair.actual),
    diff: pngDataUri(diff),
    differing: diff.differing,
  };
}
