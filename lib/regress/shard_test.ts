import assert from "node:assert/strict";
import { parseShard, planShards, shardOf, ShardSyntaxError } from "./shard.ts";

const goldens = [
  { path: "g/e", durationMs: 100 },
  { path: "g/a", durationMs: 3500 },
  { path: "g/c", durationMs: 600 },
  { path: "g/b", durationMs: 600 },
  { path: "g/d", durationMs: 3000 },
];

Deno.test("--shard parses I/N and refuses anything else", () => {
  assert.deepEqual(parseShard("1/2"), { index: 1, count: 2 });
  assert.deepEqual(parseShard("3/3"), { index: 3, count: 3 });
  for (const bad of ["0/2", "3/2", "1/0", "1", "a/b", "1/2/3", "-1/2", ""]) {
    assert.throws(() => parseShard(bad), ShardSyntaxError, bad);
  }
});

Deno.test("every golden is in exactly one shard, whatever N", () => {
  for (let n = 1; n <= 7; n++) {
    const slices = planShards(goldens, n);
    assert.equal(slices.length, n);
    const all = slices.flat().map((g) => g.path).sort();
    assert.deepEqual(all, goldens.map((g) => g.path).sort(), `N=${n}`);
  }
});

Deno.test("shards are balanced by duration, sorted by path, independent of input order", () => {
  const [one, two] = planShards(goldens, 2);
  assert.deepEqual(one.map((g) => g.path), ["g/a", "g/c"]);
  assert.deepEqual(two.map((g) => g.path), ["g/b", "g/d", "g/e"]);
  const reversed = planShards([...goldens].reverse(), 2);
  assert.deepEqual(reversed, [one, two]);
  assert.deepEqual(shardOf(goldens, { index: 2, count: 2 }), two);
});

Deno.test("equal or unknown durations spread by count", () => {
  const flat = ["d", "a", "c", "b"].map((path) => ({ path, durationMs: NaN }));
  const slices = planShards(flat, 2).map((s) => s.map((g) => g.path));
  assert.deepEqual(slices, [["a", "c"], ["b", "d"]]);
  assert.deepEqual(planShards([], 3), [[], [], []]);
});
