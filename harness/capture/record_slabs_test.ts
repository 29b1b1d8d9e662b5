import assert from "node:assert/strict";
import { PayloadSlabs } from "./record_slabs.ts";

Deno.test("PayloadSlabs reuses slabs when no payload is retained", () => {
  const slabs = new PayloadSlabs(1024);
  for (let i = 0; i < 100; i++) {
    const p = slabs.take(200);
    p.fill(i);
    slabs.retained(0, 0, { generation: slabs.generation, length: 200 });
  }
  assert.ok(slabs.allocated <= 2, `allocated ${slabs.allocated} slabs for 20 KB of payloads`);
});

Deno.test("PayloadSlabs never hands out memory a retained payload still uses", () => {
  const slabs = new PayloadSlabs(1024);
  const kept = slabs.take(200).fill(0xaa);
  slabs.retained(1, Infinity, { generation: slabs.generation, length: 200 }); // incomplete unit
  const later: Uint8Array[] = [];
  for (let i = 0; i < 50; i++) {
    later.push(slabs.take(200).fill(i));
    slabs.retained(2, 0, { generation: slabs.generation, length: 200 }); // another connection, done with each
  }
  assert.ok(kept.every((b) => b === 0xaa), "the retained payload is intact");
  assert.ok(slabs.allocated > 1, "the pinned slab was not reused");
  // The unit completes: the pin goes, and slabs are reused again.
  slabs.retained(1, 0, { generation: slabs.generation, length: 200 });
  const before = slabs.allocated;
  for (let i = 0; i < 50; i++) {
    slabs.take(200);
    slabs.retained(2, 0, { generation: slabs.generation, length: 200 });
  }
  assert.equal(slabs.allocated, before, "no new slab once nothing is pinned");
});

Deno.test("PayloadSlabs keeps a run pinned at its oldest slab until released", () => {
  const slabs = new PayloadSlabs(1024);
  const first = slabs.take(600).fill(1);
  slabs.retained(5, Infinity, { generation: slabs.generation, length: 600 });
  const second = slabs.take(600).fill(2); // next slab
  slabs.retained(5, 1200, { generation: slabs.generation, length: 600 }); // both still referred to
  for (let i = 0; i < 20; i++) slabs.take(600).fill(9);
  assert.ok(first.every((b) => b === 1) && second.every((b) => b === 2), "both parts intact");
  slabs.release(5);
  const n = slabs.allocated;
  for (let i = 0; i < 20; i++) slabs.take(600);
  assert.equal(slabs.allocated, n, "released slabs are reused");
});

Deno.test("PayloadSlabs unpins the payloads a retained tail no longer reaches", () => {
  const slabs = new PayloadSlabs(1024);
  // A bulk stream: every chunk ends inside a unit, the unit never spans more than 2 chunks.
  for (let i = 0; i < 100; i++) {
    slabs.take(600).fill(i);
    slabs.retained(3, 700, { generation: slabs.generation, length: 600 });
  }
  assert.ok(slabs.allocated <= 4, `allocated ${slabs.allocated} slabs for 60 KB of payloads`);
  // The tail still reaches the previous payload: its slab is intact.
  const prev = slabs.take(600).fill(7);
  slabs.retained(3, 700, { generation: slabs.generation, length: 600 });
  const last = slabs.take(600).fill(8);
  slabs.retained(3, 700, { generation: slabs.generation, length: 600 });
  assert.ok(prev.every((b) => b === 7) && last.every((b) => b === 8));
});

Deno.test("PayloadSlabs gives large payloads their own memory", () => {
  const slabs = new PayloadSlabs(1024);
  const big = slabs.take(5000);
  assert.equal(big.length, 5000);
  assert.equal(big.buffer.byteLength, 5000);
});
