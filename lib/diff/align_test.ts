import assert from "node:assert/strict";
import { type AlignEvent, alignStreams } from "./align.ts";
import { BindingMap } from "./compare.ts";
import { createNormalise } from "./normalise.ts";
import type { NormalisedUnit } from "./types.ts";
import { fromArray, message, u32le } from "../../testing/diff_units.ts";

const normalise = createNormalise();

/** Display server messages: [type, body word] pairs. */
function units(spec: [number, number][]): NormalisedUnit[][] {
  // Odd batch sizes: the result must not depend on batching.
  const all = spec.map(([type, w], index) =>
    normalise(message(2, false, type, u32le(w), { index }))!
  );
  const out: NormalisedUnit[][] = [];
  for (let i = 0; i < all.length; i += 2) out.push(all.slice(i, i + 2));
  return out;
}

async function align(a: [number, number][], g: [number, number][], lookahead?: number) {
  const out: string[] = [];
  for await (
    const e of alignStreams(fromArray(units(a)), fromArray(units(g)), {
      bindings: new BindingMap(),
      lookahead,
    })
  ) out.push(...e.map(describe));
  return out;
}

function index(u: NormalisedUnit): number | undefined {
  return u.input.unit.kind === "message" ? u.input.unit.index : undefined;
}

function describe(e: AlignEvent): string {
  switch (e.kind) {
    case "same":
      return `same ${index(e.actual)}`;
    case "changed":
      return `changed ${index(e.actual)}/${index(e.golden)}`;
    case "extra":
      return `extra ${index(e.actual)}`;
    case "missing":
      return `missing ${index(e.golden)}`;
  }
}

Deno.test("alignStreams() pairs equal streams as same", async () => {
  const s: [number, number][] = [[314, 0], [304, 1], [102, 0]];
  assert.deepEqual(await align(s, s), ["same 0", "same 1", "same 2"]);
});

Deno.test("alignStreams() reports a changed body in place and goes on", async () => {
  assert.deepEqual(
    await align([[314, 0], [304, 9], [102, 0]], [[314, 0], [304, 1], [102, 0]]),
    ["same 0", "changed 1/1", "same 2"],
  );
});

Deno.test("alignStreams() finds an extra message of another type and resyncs", async () => {
  assert.deepEqual(
    await align([[314, 0], [317, 0], [304, 1], [102, 0]], [[314, 0], [304, 1], [102, 0]]),
    ["same 0", "extra 1", "same 2", "same 3"],
  );
});

Deno.test("alignStreams() finds a missing message of the same type by content", async () => {
  assert.deepEqual(
    await align([[304, 1], [304, 3]], [[304, 1], [304, 2], [304, 3]]),
    ["same 0", "missing 1", "same 1"],
  );
});

Deno.test("alignStreams() reports trailing extra and missing messages", async () => {
  assert.deepEqual(await align([[314, 0], [102, 0]], [[314, 0]]), ["same 0", "extra 1"]);
  assert.deepEqual(await align([[314, 0]], [[314, 0], [102, 0]]), ["same 0", "missing 1"]);
});

Deno.test("alignStreams() gives up resyncing beyond the look-ahead and reports changes", async () => {
  const a: [number, number][] = [[101, 0], [102, 0], [103, 0], [314, 0]];
  const g: [number, number][] = [[105, 0], [106, 0], [107, 0], [314, 0]];
  assert.deepEqual(await align(a, g, 1), ["changed 0/0", "changed 1/1", "changed 2/2", "same 3"]);
});

Deno.test("alignStreams() buffers at most look-ahead + 1 units per side", async () => {
  let pulled = 0;
  let consumed = 0;
  let maxAhead = 0;
  async function* many(): AsyncGenerator<NormalisedUnit[]> {
    for (let i = 0; i < 20_000; i++) {
      pulled++;
      maxAhead = Math.max(maxAhead, pulled - consumed);
      yield [normalise(message(2, false, 304, u32le(i % 7), { index: i }))!];
    }
  }
  async function* manyOther(): AsyncGenerator<NormalisedUnit[]> {
    for (let i = 0; i < 20_000; i++) {
      const type = i % 100 === 0 ? 317 : 304;
      yield [normalise(message(2, false, type, u32le(i % 7), { index: i }))!];
    }
  }
  const events = alignStreams(many(), manyOther(), { bindings: new BindingMap(), lookahead: 16 });
  let seen = 0;
  for await (const batch of events) {
    for (const e of batch) if (e.kind !== "missing") consumed++;
    seen += batch.length;
  }
  assert.ok(seen >= 20_000, "every unit was aligned");
  assert.ok(maxAhead <= 18, `read ${maxAhead} units ahead`);
});
