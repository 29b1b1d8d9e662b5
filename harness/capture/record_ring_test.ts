import assert from "node:assert/strict";
import {
  createRing,
  decodeDropped,
  encodeDropped,
  FROM_CLIENT,
  RECORD_HEADER_BYTES,
  RECORD_KIND,
  RingReader,
  RingWriter,
} from "./record_ring.ts";
import { relayBuffer } from "./_ring_copy.ts";

function bytes(n: number, seed: number): Uint8Array {
  return new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
}

Deno.test("RingReader returns records in order with their bytes, kinds and flags", () => {
  const ring = createRing(4096);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  assert.equal(r.next(), undefined, "empty at first");
  assert.ok(w.write(RECORD_KIND.open, 7, 0));
  assert.ok(w.write(RECORD_KIND.data, 7, FROM_CLIENT, bytes(5, 1)));
  assert.ok(w.write(RECORD_KIND.data, 7, 0, bytes(100, 2)));
  assert.equal(r.available, 16 + 32 + 128, "headers and padding to 16 count");
  const open = r.next()!;
  assert.deepEqual([open.kind, open.conn, open.flags, open.payload.length], [2, 7, 0, 0]);
  const a = r.next()!;
  assert.deepEqual([a.kind, a.flags], [RECORD_KIND.data, FROM_CLIENT]);
  assert.deepEqual(a.payload, bytes(5, 1));
  assert.ok(!(a.payload.buffer instanceof SharedArrayBuffer), "copied into private memory");
  assert.deepEqual(r.next()!.payload, bytes(100, 2));
  assert.equal(r.next(), undefined);
  assert.equal(r.consumed, 176);
  assert.equal(w.used, 0, "everything read is free again");
});

Deno.test("RingWriter refuses a record that does not fit and accepts it once read", () => {
  const ring = createRing(1024);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  const reserve = ring.data.byteLength - 1024 - RECORD_HEADER_BYTES; // data-only room: 1024
  assert.ok(w.write(RECORD_KIND.data, 1, 0, bytes(600, 3), reserve));
  assert.equal(w.write(RECORD_KIND.data, 1, 0, bytes(600, 4), reserve), false, "full for data");
  assert.ok(w.write(RECORD_KIND.close, 1, 0), "a control record still fits in the reserve");
  assert.deepEqual(r.next()!.payload, bytes(600, 3));
  assert.ok(w.write(RECORD_KIND.data, 1, 0, bytes(600, 4), reserve), "room again after a read");
  assert.equal(r.next()!.kind, RECORD_KIND.close);
  assert.deepEqual(r.next()!.payload, bytes(600, 4));
});

Deno.test("ring payloads near the end start again at 0 and come back whole, many times over", () => {
  const ring = createRing(1000);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  let expected = 0;
  for (let i = 0; i < 3000; i++) {
    const size = (i * 37) % 300;
    assert.ok(w.write(RECORD_KIND.data, i, i & 1, bytes(size, i)), `record ${i} fits`);
    if (i % 3 !== 0) {
      const rec = r.next()!;
      assert.equal(rec.conn, expected);
      assert.deepEqual(rec.payload, bytes((expected * 37) % 300, expected), `record ${expected}`);
      expected++;
    }
    while (w.used > 600) {
      const rec = r.next()!;
      assert.deepEqual(rec.payload, bytes((expected * 37) % 300, expected), `record ${expected}`);
      expected++;
    }
  }
  while (r.next()) expected++;
  assert.equal(expected, 3000);
});

Deno.test("dropped counts survive a close record's payload", () => {
  assert.deepEqual(decodeDropped(encodeDropped([1, 2], [300, 4_000_000_000])), {
    chunks: [1, 2],
    bytes: [300, 4_000_000_000],
  });
  assert.equal(decodeDropped(new Uint8Array(0)), undefined);
});

Deno.test("RingReader.wait() resolves when the writer appends on another thread", async () => {
  const ring = createRing(4096);
  const r = new RingReader(ring);
  const worker = new Worker(
    URL.createObjectURL(
      new Blob(
        [
          `self.onmessage = (e) => {
            const ctl = new Int32Array(e.data.control);
            // Wait until the reader sleeps, then append one empty open record at 0.
            const spin = () => Atomics.load(ctl, 2) === 1 ? go() : setTimeout(spin, 1);
            const go = () => {
              new Int32Array(e.data.data).set([2, 9, 0, 0], 0);
              Atomics.store(ctl, 0, 16);
              Atomics.store(ctl, 2, 0);
              Atomics.notify(ctl, 0);
            };
            spin();
          };`,
        ],
        { type: "text/javascript" },
      ),
    ),
    { type: "module" },
  );
  try {
    worker.postMessage(ring);
    const t0 = performance.now();
    await r.wait(10_000);
    assert.ok(performance.now() - t0 < 5_000, "woken, not timed out");
    const rec = r.next();
    assert.deepEqual([rec?.kind, rec?.conn], [RECORD_KIND.open, 9]);
  } finally {
    worker.terminate();
  }
});

Deno.test("RingReader copies out payloads larger than its private memory started with", () => {
  const ring = createRing(8 << 20);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  for (const size of [3 << 20, 100, 5 << 20]) {
    assert.ok(w.write(RECORD_KIND.data, 1, 0, bytes(size, size & 0xff)));
    assert.deepEqual(r.next()!.payload, bytes(size, size & 0xff), `${size} bytes`);
  }
});

Deno.test("chunks read into a relay buffer reach the ring whole, from any offset of it", () => {
  const ring = createRing(1 << 20);
  const w = new RingWriter(ring);
  const r = new RingReader(ring);
  const buf = relayBuffer(ring.memory, 200_000);
  assert.equal(buf.length, 200_000);
  for (let i = 0; i < 50; i++) {
    const data = bytes(150_000 - i * 997, i);
    const at = (i * 131) % 1000;
    buf.set(data, at);
    assert.ok(w.write(RECORD_KIND.data, 1, 0, buf.subarray(at, at + data.length)), `record ${i}`);
    buf.fill(0xee); // the relay reuses its buffer at once
    assert.deepEqual(r.next()!.payload, data, `record ${i}`);
  }
});
