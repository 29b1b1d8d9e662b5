/**
 * Streaming alignment of two unit streams with a bounded look-ahead (no LCS): besides the batch
 * being read, memory holds at most `lookahead` + 1 units per side however long the streams are.
 *
 * At each step the heads are compared. Same key (kind and type): "same" or "changed" — unless
 * the heads differ and one side's head (and the unit after it) equals the other side's unit a
 * few positions further (units of the same type inserted or lost), in which case the units
 * skipped are "extra" / "missing". Different keys:
 * the nearest pair (i, j), smallest i + j within the look-ahead, whose keys match and whose next
 * keys match too is the resync point; the units before it are "extra" (actual only) and
 * "missing" (golden only). No resync point: the heads are reported as "changed" and both
 * streams advance by one. The result depends only on the two sequences, never on batching.
 *
 * Display draws also resync on their shape: type, surface id and box (the 20-byte DisplayBase
 * before the clip). Same-type heads that differ in content and in shape, with no content match
 * near, look for the nearest unit on either side with the other head's shape (and the unit
 * after it the next one's), so draws inserted before a run of draws whose bytes differ anyway
 * (image data that depends on the guest's history) are extra or missing instead of shifting
 * every later pair by one; different-type heads prefer a shape match to a type match.
 */
import {
  type BindingMap,
  type CompareOptions,
  compareUnits,
  type UnitDifference,
} from "./compare.ts";
import type { NormalisedUnit } from "./types.ts";

/** One step of the alignment. */
export type AlignEvent =
  | { kind: "same"; actual: NormalisedUnit; golden: NormalisedUnit }
  | { kind: "changed"; actual: NormalisedUnit; golden: NormalisedUnit; difference: UnitDifference }
  | { kind: "extra"; actual: NormalisedUnit }
  | { kind: "missing"; golden: NormalisedUnit };

/** Options of {@link alignStreams}. */
export interface AlignOptions {
  /** Units buffered per side while looking for a resync point. @default 64 */
  lookahead?: number;
  /** How far a content-equal match is searched for when same-type heads differ. @default 8 */
  contentLookahead?: number;
  /** Identifier mapping shared by the whole diff run. */
  bindings: BindingMap;
}

/** A read-ahead buffer over a stream of unit batches (head index, compacted now and then). */
class Buffered {
  #items: NormalisedUnit[] = [];
  #head = 0;
  done = false;
  constructor(readonly it: AsyncIterator<NormalisedUnit[]>) {}
  get length(): number {
    return this.#items.length - this.#head;
  }
  at(i: number): NormalisedUnit | undefined {
    return this.#items[this.#head + i];
  }
  shift(): NormalisedUnit {
    const u = this.#items[this.#head];
    this.#items[this.#head++] = undefined as unknown as NormalisedUnit;
    return u;
  }
  take(n: number): NormalisedUnit[] {
    const out = this.#items.slice(this.#head, this.#head + n);
    for (let i = 0; i < n; i++) {
      this.#items[this.#head + i] = undefined as unknown as NormalisedUnit;
    }
    this.#head += n;
    return out;
  }
  /** Reads batches until `n` items are buffered or the stream ends. */
  async fill(n: number): Promise<void> {
    while (!this.done && this.length < n) {
      if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      const r = await this.it.next();
      if (r.done) this.done = true;
      else for (const u of r.value) this.#items.push(u);
    }
  }
}

/** The two read-ahead buffers of one alignment and the events not yet yielded. */
interface Sides {
  A: Buffered;
  G: Buffered;
  out: AlignEvent[];
  /** Comparison that records identifier mappings. */
  compare: CompareOptions;
  /** Comparison that only probes (look-ahead). */
  probe: CompareOptions;
}

/** Units skipped on both sides up to a resync point: golden ones missing, actual ones extra. */
function gap(s: Sides, shift: [number, number]): void {
  for (const u of s.G.take(shift[1])) s.out.push({ kind: "missing", golden: u });
  for (const u of s.A.take(shift[0])) s.out.push({ kind: "extra", actual: u });
}

/** Whether actual unit i equals golden unit j (probing: no identifier is bound). */
function equalAt(s: Sides, at: [number, number]): boolean {
  return compareUnits(s.A.at(at[0])!, s.G.at(at[1])!, s.probe) === undefined;
}

/** Whether i, j (and the units after them) are equal: a resync point by content. */
function contentMatch(s: Sides, [i, j]: [number, number]): boolean {
  return equalAt(s, [i, j]) &&
    (i + 1 >= s.A.length || j + 1 >= s.G.length || equalAt(s, [i + 1, j + 1]));
}

/** Display channel type; server draws are DRAW_FILL (302) … DRAW_ALPHA_BLEND (313), COMPOSITE. */
const DISPLAY = 2;
const DRAW_FIRST = 302;
const DRAW_LAST = 313;
const DRAW_COMPOSITE = 318;
/** DisplayBase before the clip: u32 surface id, 4 × i32 box. */
const SHAPE_BYTES = 20;

/** Whether a unit is a server draw long enough to have a shape (surface id and box). */
function hasShape(u: NormalisedUnit): boolean {
  const m = u.input.unit;
  if (m.kind !== "message" || m.fromClient || u.input.connection.channelType !== DISPLAY) {
    return false;
  }
  return (m.type >= DRAW_FIRST && m.type <= DRAW_LAST || m.type === DRAW_COMPOSITE) &&
    u.length >= SHAPE_BYTES;
}

/** Same key and, for draws, the same surface id and box. */
export function sameShape(a: NormalisedUnit, b: NormalisedUnit): boolean {
  if (a.key !== b.key) return false;
  const sa = hasShape(a);
  if (sa !== hasShape(b)) return false;
  if (!sa) return true;
  const x = a.input.unit.bytes;
  const y = b.input.unit.bytes;
  for (let i = 0; i < SHAPE_BYTES; i++) {
    if (x[a.dataOffset + i] !== y[b.dataOffset + i]) return false;
  }
  return true;
}

/** Whether i, j (and the units after them) have the same shapes: a resync point by shape. */
function shapeMatch(s: Sides, [i, j]: [number, number]): boolean {
  if (!sameShape(s.A.at(i)!, s.G.at(j)!)) return false;
  const an = s.A.at(i + 1);
  const gn = s.G.at(j + 1);
  return an === undefined || gn === undefined || sameShape(an, gn);
}

/** Whether i, j (and the units after them) have the same keys: a resync point by type. */
function keyMatch(s: Sides, [i, j]: [number, number]): boolean {
  if (s.A.at(i)!.key !== s.G.at(j)!.key) return false;
  const an = s.A.at(i + 1);
  const gn = s.G.at(j + 1);
  return an === undefined || gn === undefined || an.key === gn.key;
}

/**
 * Same-key heads that differ: a unit inserted or lost within `limit` (it and the unit after it
 * equal the other side's) makes a gap; else the heads are "changed".
 */
function sameKeyDiffer(
  s: Sides,
  step: { limit: number; shapeLimit: number; difference: UnitDifference },
): void {
  const shift = findInsertion(s, step.limit) ??
    (sameShape(s.A.at(0)!, s.G.at(0)!) ? undefined : findShapeInsertion(s, step.shapeLimit));
  if (shift) return gap(s, shift);
  s.out.push({
    kind: "changed",
    actual: s.A.shift(),
    golden: s.G.shift(),
    difference: step.difference,
  });
}

/** Different-key heads: resync at the nearest key match within `limit`, else "changed". */
function keysDiffer(s: Sides, limit: number): void {
  const { A, G } = s;
  const shift = findShift(s, limit);
  if (shift) return gap(s, shift);
  const actual = A.shift();
  const golden = G.shift();
  const difference = compareUnits(actual, golden, s.compare)!;
  s.out.push({ kind: "changed", actual, golden, difference });
}

/**
 * Aligns the units of one channel direction of two captures.
 *
 * @param actual batches of units of the run under test, in order
 * @param golden batches of units of the golden capture, in order
 * @param options look-ahead and the shared identifier mapping
 * @returns the alignment steps in order, in batches
 */
export async function* alignStreams(
  actual: AsyncIterable<NormalisedUnit[]>,
  golden: AsyncIterable<NormalisedUnit[]>,
  options: AlignOptions,
): AsyncGenerator<AlignEvent[]> {
  const k = Math.max(1, options.lookahead ?? 64);
  const kc = Math.min(k, Math.max(1, options.contentLookahead ?? 8));
  const A = new Buffered(actual[Symbol.asyncIterator]());
  const G = new Buffered(golden[Symbol.asyncIterator]());
  const { bindings } = options;
  const s: Sides = { A, G, out: [], compare: { bindings }, probe: { bindings, commit: false } };
  const need = async (n: number) => {
    if (A.length < n) await A.fill(n);
    if (G.length < n) await G.fill(n);
  };
  while (true) {
    if (A.length === 0 || G.length === 0) {
      if (s.out.length > 0) {
        yield s.out;
        s.out = [];
      }
      await need(1);
    }
    if (A.length === 0 && G.length === 0) break;
    if (A.length === 0) s.out.push({ kind: "missing", golden: G.shift() });
    else if (G.length === 0) s.out.push({ kind: "extra", actual: A.shift() });
    else if (A.at(0)!.key !== G.at(0)!.key) {
      await need(k + 1);
      keysDiffer(s, k);
    } else {
      const difference = compareUnits(A.at(0)!, G.at(0)!, s.compare);
      if (!difference) {
        s.out.push({ kind: "same", actual: A.shift(), golden: G.shift() });
        continue;
      }
      if (hasShape(A.at(0)!)) {
        await need(k + 1);
        sameKeyDiffer(s, { limit: kc, shapeLimit: k, difference });
      } else {
        await need(kc + 2);
        sameKeyDiffer(s, { limit: kc, shapeLimit: 0, difference });
      }
    }
  }
  if (s.out.length > 0) yield s.out;
}

/** Smallest d ≤ limit with a content match at (0, d) (units lost) or (d, 0) (inserted). */
function findInsertion(s: Sides, limit: number): [number, number] | undefined {
  const na = s.A.length;
  const ng = s.G.length;
  for (let d = 1; d <= limit; d++) {
    if (d < ng && contentMatch(s, [0, d])) return [0, d];
    if (d < na && contentMatch(s, [d, 0])) return [d, 0];
  }
  return undefined;
}

/** Smallest d ≤ limit with a shape match at (0, d) (units lost) or (d, 0) (inserted). */
function findShapeInsertion(s: Sides, limit: number): [number, number] | undefined {
  const na = s.A.length;
  const ng = s.G.length;
  for (let d = 1; d <= limit; d++) {
    if (d < ng && shapeMatch(s, [0, d])) return [0, d];
    if (d < na && shapeMatch(s, [d, 0])) return [d, 0];
  }
  return undefined;
}

/**
 * Smallest i + j (≤ limit) with a shape match at (i, j), else with a key match; ties prefer
 * small i.
 */
function findShift(s: Sides, limit: number): [number, number] | undefined {
  const na = s.A.length;
  const ng = s.G.length;
  for (const match of [shapeMatch, keyMatch]) {
    for (let d = 0; d <= limit; d++) {
      for (let i = 0; i <= d; i++) {
        const j = d - i;
        if (i < na && j < ng && match(s, [i, j])) return [i, j];
      }
    }
  }
  return undefined;
}
