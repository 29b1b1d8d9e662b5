/** Streaming k-way merge of time-ordered sources (channel files, message streams). */

/** One merged item and the index of the source it came from. */
export interface Merged<T> {
  /** The item, unchanged. */
  item: T;
  /** 0-based index of its source in the list given to the merge. */
  source: number;
}

interface Head<T> {
  item: T;
  ts: bigint;
  source: number;
  it: AsyncIterator<T>;
}

/**
 * Merges sources that are each in time order into one time-ordered stream. Holds one item per
 * source (a binary heap of heads), so memory does not grow with the input. Ties keep source
 * order, and a source whose own times go backwards is passed through as it is.
 *
 * @param sources async iterables, each in time order
 * @param ts the time of an item
 * @returns items in time order, with their source index
 * @example
 * ```ts
 * for await (const { item, source } of mergeByTime(files.map((f) => readCaptureFile(f)), (r) => r.tsNs)) {}
 * ```
 */
export async function* mergeByTime<T>(
  sources: readonly AsyncIterable<T>[],
  ts: (item: T) => bigint,
): AsyncGenerator<Merged<T>> {
  const heap: Head<T>[] = [];
  const less = (a: Head<T>, b: Head<T>) => a.ts < b.ts || (a.ts === b.ts && a.source < b.source);
  const push = (h: Head<T>) => {
    heap.push(h);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  };
  const siftDown = () => {
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  try {
    for (let source = 0; source < iterators.length; source++) {
      const it = iterators[source];
      const first = await it.next();
      if (!first.done) push({ item: first.value, ts: ts(first.value), source, it });
    }
    while (heap.length > 0) {
      const top = heap[0];
      yield { item: top.item, source: top.source };
      const next = await top.it.next();
      if (next.done) {
        const last = heap.pop()!;
        if (heap.length > 0) {
          heap[0] = last;
          siftDown();
        }
      } else {
        top.item = next.value;
        top.ts = ts(next.value);
        siftDown();
      }
    }
  } finally {
    await Promise.all(iterators.map((it) => it.return?.()));
  }
}
