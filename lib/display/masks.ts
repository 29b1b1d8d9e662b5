/**
 * Screen masks: parts of a surface that two runs may show differently (a clock, an uptime) and
 * that screen comparisons skip. They come from `"screen"` rules in a diff rules file
 *
 * ```json
 * { "kind": "screen", "rect": [0, 384, 720, 16], "surface": 0, "from": 2.5, "until": 9 }
 * ```
 *
 * `rect`: [x, y, width, height] in pixels; `surface`: the surface id (absent = the primary);
 * `from`/`until`: optional seconds since the recording's first packet between which the mask
 * applies. Replay's screen gate (lib/replay/screen_gate.ts) uses them, and the comparison here
 * ({@link screensMatch}) is the one both replay and a screen diff run.
 *
 * @module
 */
import type { DisplaySnapshot } from "./display_model.ts";
import type { Rect } from "./types.ts";

/** One `"screen"` rule: a rectangle to skip, on one surface, optionally for a while. */
export interface ScreenMask {
  /** The rectangle, surface pixels. */
  rect: Rect;
  /** Surface id; undefined = the primary surface. */
  surface?: number;
  /** Applies from this many ns after the recording's first packet (inclusive). */
  fromNs?: bigint;
  /** Applies until this many ns after the recording's first packet (exclusive). */
  untilNs?: bigint;
}

/** A `"screen"` rule that is not valid; the message names the problem. */
export class ScreenMaskError extends Error {
  /** Always "ScreenMaskError". */
  override name = "ScreenMaskError";
}

const SCREEN_KEYS = new Set(["kind", "rect", "surface", "from", "until", "comment"]);

/** Whether a raw rule from a rules file is a `"screen"` rule. */
export function isScreenRule(raw: unknown): boolean {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) &&
    (raw as Record<string, unknown>).kind === "screen";
}

function seconds(v: unknown, key: string): bigint | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new ScreenMaskError(`'${key}' must be seconds ≥ 0`);
  }
  return BigInt(Math.round(v * 1e9));
}

/**
 * Parses one `"screen"` rule.
 *
 * @param raw the rule object from the JSON file
 * @returns the mask
 * @throws {ScreenMaskError} for unknown keys or bad values
 */
export function parseScreenMask(raw: Record<string, unknown>): ScreenMask {
  for (const k of Object.keys(raw)) {
    if (!SCREEN_KEYS.has(k)) throw new ScreenMaskError(`unknown key '${k}' in a screen rule`);
  }
  const r = raw.rect;
  const ok = Array.isArray(r) && r.length === 4 &&
    r.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffff) && r[2] > 0 && r[3] > 0;
  if (!ok) throw new ScreenMaskError("'rect' must be [x, y, width, height], width and height > 0");
  const [x, y, w, h] = r as number[];
  const mask: ScreenMask = { rect: { left: x, top: y, right: x + w, bottom: y + h } };
  if (raw.surface !== undefined) {
    if (!Number.isInteger(raw.surface) || (raw.surface as number) < 0) {
      throw new ScreenMaskError("'surface' must be a surface id");
    }
    mask.surface = raw.surface as number;
  }
  mask.fromNs = seconds(raw.from, "from");
  mask.untilNs = seconds(raw.until, "until");
  if (mask.fromNs !== undefined && mask.untilNs !== undefined && mask.untilNs <= mask.fromNs) {
    throw new ScreenMaskError("'until' must come after 'from'");
  }
  return mask;
}

/**
 * The `"screen"` rules of a rules file (other rules are the byte diff's).
 *
 * @param text the file's contents
 * @param file name used in errors
 * @returns the masks, in file order
 * @throws {ScreenMaskError} naming the file and the rule index
 */
export function parseScreenMasks(text: string, file: string): ScreenMask[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ScreenMaskError(`${file}: not valid JSON: ${(e as SyntaxError).message}`);
  }
  if (!Array.isArray(value)) throw new ScreenMaskError(`${file}: expected a JSON list of rules`);
  const out: ScreenMask[] = [];
  value.forEach((raw, i) => {
    if (!isScreenRule(raw)) return;
    try {
      out.push(parseScreenMask(raw as Record<string, unknown>));
    } catch (e) {
      if (!(e instanceof ScreenMaskError)) throw e;
      throw new ScreenMaskError(`${file}: rule ${i}: ${e.message}`);
    }
  });
  return out;
}

/**
 * The rectangles of `masks` that apply to a surface at a moment.
 *
 * @param masks every mask
 * @param at the surface (and whether it is the primary) and the time since the first packet
 */
export function masksAt(
  masks: readonly ScreenMask[],
  at: { surfaceId: number; primary: boolean; relNs: bigint },
): Rect[] {
  return masks.filter((m) =>
    (m.surface === undefined ? at.primary : m.surface === at.surfaceId) &&
    (m.fromNs === undefined || at.relNs >= m.fromNs) &&
    (m.untilNs === undefined || at.relNs < m.untilNs)
  ).map((m) => m.rect);
}

/** A mask of `width × height` bytes, 1 where any rectangle covers the pixel. */
function maskBitmap(
  { width, height }: { width: number; height: number },
  rects: readonly Rect[],
): Uint8Array {
  const bits = new Uint8Array(width * height);
  for (const r of rects) {
    const top = Math.max(0, r.top);
    const bottom = Math.min(height, r.bottom);
    const left = Math.max(0, r.left);
    const right = Math.min(width, r.right);
    for (let y = top; y < bottom; y++) bits.fill(1, y * width + left, y * width + right);
  }
  return bits;
}

/**
 * Whether two snapshots show the same pixels outside `masks` and outside either one's unknown
 * (unrenderable) regions: same size, and every other pixel's RGBA equal.
 *
 * @param a one snapshot
 * @param b the other
 * @param options `masks`: rectangles to skip
 */
export function screensMatch(
  a: DisplaySnapshot,
  b: DisplaySnapshot,
  { masks = [] }: { masks?: readonly Rect[] } = {},
): boolean {
  if (a.width !== b.width || a.height !== b.height) return false;
  const rects = [...masks, ...a.unknown, ...b.unknown];
  const pa = new Uint32Array(a.pixels.buffer, a.pixels.byteOffset, a.width * a.height);
  const pb = new Uint32Array(b.pixels.buffer, b.pixels.byteOffset, b.width * b.height);
  if (rects.length === 0) {
    for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i]) return false;
    return true;
  }
  const skip = maskBitmap(a, rects);
  for (let i = 0; i < pa.length; i++) if (pa[i] !== pb[i] && skip[i] === 0) return false;
  return true;
}

/**
 * A picture of where two snapshots differ: differing pixels red, masked ones blue, the rest the
 * second snapshot dimmed. Sizes that differ compare over the common area; the rest is red.
 *
 * @param expected the snapshot wanted
 * @param actual the snapshot seen
 * @param options `masks`: rectangles that were skipped
 * @returns RGBA of the larger width and height, and the number of differing pixels
 */
export function screenDiffImage(
  expected: DisplaySnapshot,
  actual: DisplaySnapshot,
  { masks = [] }: { masks?: readonly Rect[] } = {},
): { width: number; height: number; pixels: Uint8Array; differing: number } {
  const width = Math.max(expected.width, actual.width);
  const height = Math.max(expected.height, actual.height);
  const skip = maskBitmap({ width, height }, [...masks, ...expected.unknown, ...actual.unknown]);
  const pixels = new Uint8Array(width * height * 4);
  let differing = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const inBoth = x < expected.width && y < expected.height && x < actual.width &&
        y < actual.height;
      const ie = (y * expected.width + x) * 4;
      const ia = (y * actual.width + x) * 4;
      let colour: number[];
      if (inBoth && skip[y * width + x]) colour = [0, 0, 160];
      else if (
        inBoth && expected.pixels[ie] === actual.pixels[ia] &&
        expected.pixels[ie + 1] === actual.pixels[ia + 1] &&
        expected.pixels[ie + 2] === actual.pixels[ia + 2] &&
        expected.pixels[ie + 3] === actual.pixels[ia + 3]
      ) {
        colour = [0, 1, 2].map((k) => actual.pixels[ia + k] >> 2);
      } else {
        colour = [255, 0, 0];
        differing++;
      }
      pixels.set([colour[0], colour[1], colour[2], 255], o);
    }
  }
  return { width, height, pixels, differing };
}
