import assert from "node:assert/strict";
import { PayloadSlabs } from "./record_slabs.ts";

Deno.test("PayloadSlabs reuses slabs when no payload is retained", () => {
  const slabs = new PayloadSlabs(1024);
  for (let i = 0; i < 100; i++) {
    const p = slabs.take(200);
    p.fill(i);
    slabs.retained(0, false, slabs.generation);
  }
  assert.ok(slabs.allocated <= 2, `allocated ${slabs.allocated} slabs for 20 KB of payloads`);
});

Deno.test("PayloadSlabs never hands out memory a retained payload still uses", () => {
  const slabs = new PayloadSlabs(1024);
  const kept = slabs.take(200).fill(0xaa);
  slabs.retained(1, true, slabs.generation); // connection 0, client: an incomplete unit
  const later: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    later.push(slabs.take(200).fill(i));
    slabs.retained(2, false, slabs.generation); // another connection, done with each
  }
  assert.ok(kept.every((b) => b === 0xaa), "the retained payload is intact");
  assert.ok(slabs.allocated > 1, "the pinned slab was not reused");
  // The unit completes: the pin goes, and slabs are reused again.
  slabs.retained(1, false, slabs.generation);
  const before = slabs.allocated;
  for (let i = 0; i < 50; i++) {
    slabs.take(200);
    slabs.retained(2, false, slabs.generation);
  }
  assert.equal(slabs.allocated, before, "no new slab once nothing is pinned");
});

Deno.test("PayloadSlabs keeps a run pinned at its oldest slab until released", () => {
  const slabs = new PayloadSlabs(1024);
  const first = slabs.take(600).fill(1);
  slabs.retained(5, true, slabs.generation);
  const second = slabs.take(600).fill(2); // next slab
  slabs.retained(5, true, slabs.generation); // same run, pin stays on the first slab
  for (let i = 0; i < 20; i++) slabs.take(600).fill(9);
  assert.ok(first.every((b) => b === 1) && second.every((b) => b === 2), "both parts intact");
  slabs.release(5);
  const n = slabs.allocated;
  for (let i = 0; i < 20; i++) slabs.take(600);
  assert.equal(slabs.allocated, n, "released slabs are reused");
});

Deno.test("PayloadSlabs gives large payloads their own memory", () => {
  const slabs = new PayloadSlabs(1024);
  const big = slabs.take(5000);
  assert.equal(big.length, 5000);
  assert.equal(big.buffer.byteLength, 5000);
});
