import assert from "node:assert/strict";
import { mergeByTime } from "./merge.ts";

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

Deno.test("mergeByTime interleaves sorted sources by time, ties in source order", async () => {
  const a = [1n, 4n, 4n, 9n];
  const b = [2n, 4n, 10n];
  const c: bigint[] = [];
  const d = [0n];
  const out: [bigint, number][] = [];
  for await (const { item, source } of mergeByTime([a, b, c, d].map(from), (t) => t)) {
    out.push([item, source]);
  }
  assert.deepEqual(out, [[0n, 3], [1n, 0], [2n, 1], [4n, 0], [4n, 0], [4n, 1], [9n, 0], [10n, 1]]);
});

Deno.test("mergeByTime holds one item per source and closes every source when stopped", async () => {
  let pulled = 0;
  let closed = 0;
  async function* counting(n: number): AsyncGenerator<bigint> {
    try {
      for (let i = 0; i < n; i++) {
        pulled++;
        yield BigInt(i);
      }
    } finally {
      closed++;
    }
  }
  for await (const { item } of mergeByTime([counting(1000), counting(1000)], (t) => t)) {
    if (item === 2n) break;
  }
  assert.ok(pulled <= 8, `pulled ${pulled}`);
  assert.equal(closed, 2);
});
