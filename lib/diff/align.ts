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
 */
import { type BindingMap, compareUnits, type UnitDifference } from "./compare.ts";
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
  const equal = (i: number, j: number) =>
    compareUnits(A.at(i)!, G.at(j)!, options.bindings, false) === undefined;
  const keysMatch = (i: number, j: number) => {
    if (A.at(i)!.key !== G.at(j)!.key) return false;
    const an = A.at(i + 1);
    const gn = G.at(j + 1);
    return an === undefined || gn === undefined || an.key === gn.key;
  };
  const need = async (n: number) => {
    if (A.length < n) await A.fill(n);
    if (G.length < n) await G.fill(n);
  };
  let out: AlignEvent[] = [];
  const gap = (i: number, j: number) => {
    for (const u of G.take(j)) out.push({ kind: "missing", golden: u });
    for (const u of A.take(i)) out.push({ kind: "extra", actual: u });
  };

  while (true) {
    if (A.length === 0 || G.length === 0) {
      if (out.length > 0) {
        yield out;
        out = [];
      }
      await need(1);
    }
    const na = A.length;
    const ng = G.length;
    if (na === 0 && ng === 0) break;
    if (na === 0) {
      out.push({ kind: "missing", golden: G.shift() });
      continue;
    }
    if (ng === 0) {
      out.push({ kind: "extra", actual: A.shift() });
      continue;
    }
    const a = A.at(0)!;
    const g = G.at(0)!;
    if (a.key === g.key) {
      const difference = compareUnits(a, g, options.bindings);
      if (!difference) {
        A.shift();
        G.shift();
        out.push({ kind: "same", actual: a, golden: g });
        continue;
      }
      await need(kc + 2);
      const shift = findInsertion(
        A.length,
        G.length,
        kc,
        (i, j) => equal(i, j) && (i + 1 >= A.length || j + 1 >= G.length || equal(i + 1, j + 1)),
      );
      if (shift) {
        gap(shift[0], shift[1]);
        continue;
      }
      A.shift();
      G.shift();
      out.push({ kind: "changed", actual: a, golden: g, difference });
      continue;
    }
    await need(k + 1);
    const shift = findShift(A.length, G.length, k, keysMatch);
    if (shift) {
      gap(shift[0], shift[1]);
      continue;
    }
    A.shift();
    G.shift();
    const difference = compareUnits(a, g, options.bindings)!;
    out.push({ kind: "changed", actual: a, golden: g, difference });
  }
  if (out.length > 0) yield out;
}

/** Smallest d ≤ limit with match(0, d) (units lost) or match(d, 0) (units inserted). */
function findInsertion(
  na: number,
  ng: number,
  limit: number,
  match: (i: number, j: number) => boolean,
): [number, number] | undefined {
  for (let d = 1; d <= limit; d++) {
    if (d < ng && match(0, d)) return [0, d];
    if (d < na && match(d, 0)) return [d, 0];
  }
  return undefined;
}

/** Smallest i + j (< limit each, i + j ≤ limit) with match(i, j); ties prefer small i. */
function findShift(
  na: number,
  ng: number,
  limit: number,
  match: (i: number, j: number) => boolean,
): [number, number] | undefined {
  for (let d = 0; d <= limit; d++) {
    for (let i = 0; i <= d; i++) {
      const j = d - i;
      if (i < na && j < ng && match(i, j)) return [i, j];
    }
  }
  return undefined;
}
