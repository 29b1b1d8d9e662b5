import assert from "node:assert/strict";
import { DirectionSplitter, SkewError } from "./split.ts";
import type { DiffInput } from "./types.ts";

/** `batches` batches of 100 units, 1 in 20 from the client; counts the batches read. */
function source(batches: number) {
  const state = { read: 0 };
  async function* gen(): AsyncGenerator<DiffInput[]> {
    for (let b = 0; b < batches; b++) {
      state.read++;
      yield Array.from(
        { length: 100 },
        (_, i) => ({ unit: { fromClient: (b * 100 + i) % 20 === 0 } }) as unknown as DiffInput,
      );
    }
  }
  return { state, batches: gen() };
}

Deno.test("DirectionSplitter splits units by direction, in order, reading on demand", async () => {
  const { state, batches } = source(3);
  const s = new DirectionSplitter(batches);
  assert.equal(state.read, 0, "nothing read before a pull");
  let client = 0;
  for await (const b of s.stream(true)) client += b.length;
  assert.equal(client, 15);
  let server = 0;
  for await (const b of s.stream(false)) server += b.length;
  assert.equal(server, 285, "the other direction was queued meanwhile");
});

Deno.test("paired DirectionSplitters read both captures in step, whichever direction pulls", async () => {
  const a = source(200);
  const g = source(200);
  const sa = new DirectionSplitter(a.batches);
  const sg = new DirectionSplitter(g.batches);
  sa.pairWith(sg);
  // Only the actual capture's client direction is pulled: unpaired, the golden file would not be
  // read at all and the actual server queue would hold everything.
  let pulled = 0;
  for await (const _ of sa.stream(true)) {
    if (++pulled === 60) break;
  }
  assert.ok(a.state.read >= 60, `actual read ${a.state.read} batches`);
  assert.ok(
    Math.abs(a.state.read - g.state.read) <= 11,
    `actual ${a.state.read} and golden ${g.state.read} batches read`,
  );
});

Deno.test("DirectionSplitter gives up with SkewError past its queue limit", async () => {
  const { batches } = source(50);
  const s = new DirectionSplitter(batches, 1000);
  await assert.rejects(async () => {
    for await (const _ of s.stream(true)) { /* the server queue only grows */ }
  }, SkewError);
});
