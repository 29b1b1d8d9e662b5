/**
 * Folding periodic blink draws (`--normalise blink`): a text cursor that the guest redraws on
 * and off at a steady period puts draws into the display stream whose number and position
 * depend only on when the run started and ended, not on what it did.
 *
 * A display server draw is a **blink draw** when all of these hold:
 *
 * 1. its box is at most {@link BLINK_MAX_SIDE} pixels wide and high;
 * 2. its shape (message type, surface id, box) is the shape of the previous two draws of that
 *    shape on the stream, D(k-2) and D(k-1), with no draw of another shape overlapping the box
 *    in between (such a draw starts the history of the box over);
 * 3. its content (the body after the surface id and box, outside the masks) equals D(k-2)'s and
 *    differs from D(k-1)'s: it alternates between two images;
 * 4. both intervals, D(k-2) → D(k-1) and D(k-1) → D(k), are between {@link BLINK_MIN_PERIOD_NS}
 *    and {@link BLINK_MAX_PERIOD_NS}, and they differ by at most a quarter of the longer one.
 *
 * Blink draws are dropped from the comparison; the first two draws of a blink are kept (they
 * are not known to be one yet). The decision looks only backwards, so it streams.
 *
 * @module
 */
import type { NormalisedUnit } from "./types.ts";

/** Largest width and height of a blink draw's box, pixels. */
export const BLINK_MAX_SIDE = 64;
/** Shortest interval between two draws of a blink, ns. */
export const BLINK_MIN_PERIOD_NS = 100_000_000n;
/** Longest interval between two draws of a blink, ns. */
export const BLINK_MAX_PERIOD_NS = 2_000_000_000n;

const DISPLAY = 2;
/** DisplayBase before the clip: u32 surface id, then the box as i32 top, left, bottom, right. */
const SHAPE_BYTES = 20;

interface Seen {
  content: number;
  tsNs: bigint;
}

interface History {
  box: [top: number, left: number, bottom: number, right: number];
  seen: Seen[];
}

function isDraw(u: NormalisedUnit): boolean {
  const m = u.input.unit;
  return m.kind === "message" && !m.fromClient && u.input.connection.channelType === DISPLAY &&
    (m.type >= 302 && m.type <= 313 || m.type === 318) && u.length >= SHAPE_BYTES;
}

/** FNV-1a over the body after the shape, outside the masks, and the length. */
function contentHash(u: NormalisedUnit): number {
  const b = u.input.unit.bytes;
  const o = u.dataOffset;
  let h = 0x811c9dc5 ^ u.length;
  let from = SHAPE_BYTES;
  for (let r = 0; r <= u.masks.length; r++) {
    const to = r < u.masks.length ? Math.min(u.masks[r].start, u.length) : u.length;
    for (let i = from; i < to; i++) h = Math.imul(h ^ b[o + i], 0x01000193);
    if (r < u.masks.length) from = Math.max(from, u.masks[r].end);
  }
  return h >>> 0;
}

function steady(a: bigint, b: bigint): boolean {
  const inRange = (d: bigint) => d >= BLINK_MIN_PERIOD_NS && d <= BLINK_MAX_PERIOD_NS;
  if (!inRange(a) || !inRange(b)) return false;
  const [lo, hi] = a < b ? [a, b] : [b, a];
  return (hi - lo) * 4n <= hi;
}

function overlaps(h: History, box: History["box"]): boolean {
  return h.box[0] < box[2] && box[0] < h.box[2] && h.box[1] < box[3] && box[1] < h.box[3];
}

/** Tells the blink draws of one stream (one direction of one capture), in order. */
export class BlinkFolder {
  readonly #shapes = new Map<string, History>();

  /**
   * Whether `u`, the next unit of the stream, is a blink draw (to drop).
   *
   * @param u every unit of the stream, in order
   */
  fold(u: NormalisedUnit): boolean {
    if (!isDraw(u)) return false;
    const dv = new DataView(u.input.unit.bytes.buffer, u.input.unit.bytes.byteOffset);
    const o = u.dataOffset;
    const box: History["box"] = [4, 8, 12, 16].map((k) => dv.getInt32(o + k, true)) as History[
      "box"
    ];
    const key = `${u.key}:${dv.getUint32(o, true)}:${box.join(",")}`;
    this.#forgetOverlapping(key, { box, nowNs: u.input.tsNs });
    if (box[2] - box[0] > BLINK_MAX_SIDE || box[3] - box[1] > BLINK_MAX_SIDE) return false;
    let h = this.#shapes.get(key);
    if (!h) this.#shapes.set(key, h = { box, seen: [] });
    const now: Seen = { content: contentHash(u), tsNs: u.input.tsNs };
    const [a, b] = h.seen;
    h.seen = [h.seen.at(-1)!, now].filter((x) => x !== undefined);
    return a !== undefined && b !== undefined && now.content === a.content &&
      now.content !== b.content && steady(b.tsNs - a.tsNs, now.tsNs - b.tsNs);
  }

  /** Drops the histories a draw of another shape overwrites, and those too old to matter. */
  #forgetOverlapping(key: string, at: { box: History["box"]; nowNs: bigint }): void {
    for (const [k, h] of this.#shapes) {
      const last = h.seen.at(-1);
      const stale = last !== undefined && at.nowNs - last.tsNs > BLINK_MAX_PERIOD_NS;
      if (stale || (k !== key && overlaps(h, at.box))) this.#shapes.delete(k);
    }
  }
}
