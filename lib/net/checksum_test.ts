import assert from "node:assert/strict";
import { checksumSum, foldChecksum, internetChecksum, sumInPlace } from "./checksum.ts";

/** Byte-at-a-time RFC 1071 sum, folded: the reference the fast loops must match. */
function referenceSum(bytes: Uint8Array, start: number, end: number): number {
  let sum = 0;
  for (let i = start; i < end; i += 2) {
    sum += bytes[i] * 256 + (i + 1 < end ? bytes[i + 1] : 0);
  }
  return foldChecksum(sum);
}

function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

Deno.test("checksumSum() matches a byte-by-byte sum at every alignment and length", () => {
  const data = pseudoRandomBytes(4096 + 16, 7);
  for (let shift = 0; shift < 8; shift++) {
    const view = data.subarray(shift);
    for (const length of [0, 1, 2, 3, 5, 63, 64, 65, 66, 67, 100, 255, 256, 257, 1400, 1461]) {
      for (const start of [0, 1, 2, 3]) {
        const got = foldChecksum(checksumSum(view, start, start + length));
        assert.equal(
          got,
          referenceSum(view, start, start + length),
          `shift ${shift} start ${start} length ${length}`,
        );
      }
    }
  }
});

Deno.test("checksumSum() stays exact over ranges of many word blocks of 0xff bytes", () => {
  // 0xff everywhere maximises every partial sum; 300 KB spans several 64 KiB blocks.
  const data = new Uint8Array(300_003).fill(0xff);
  for (const start of [0, 1, 3]) {
    assert.equal(foldChecksum(checksumSum(data, start)), referenceSum(data, start, data.length));
  }
  assert.equal(internetChecksum(data.subarray(0, 300_000)), 0);
});

Deno.test("checksumSum() gives the right sum when slices of different buffers alternate", () => {
  const a = pseudoRandomBytes(2048, 1);
  const b = pseudoRandomBytes(4096, 2);
  for (let i = 0; i < 20; i++) {
    const src = i % 2 === 0 ? a : b;
    const start = i * 37;
    assert.equal(
      foldChecksum(checksumSum(src, start, start + 700)),
      referenceSum(src, start, start + 700),
    );
  }
  // A buffer that grows after its view was cached.
  const growable = new ArrayBuffer(256, { maxByteLength: 8192 });
  const small = new Uint8Array(growable);
  small.set(pseudoRandomBytes(256, 3));
  assert.equal(foldChecksum(checksumSum(small)), referenceSum(small, 0, 256));
  growable.resize(8192);
  const big = new Uint8Array(growable);
  big.set(pseudoRandomBytes(8192, 4));
  assert.equal(foldChecksum(checksumSum(big, 4000)), referenceSum(big, 4000, 8192));
});

Deno.test("internetChecksum() gives the RFC 1071 example header checksum", () => {
  const header = Uint8Array.of(
    0x45,
    0,
    0,
    20,
    0,
    0,
    0x40,
    0,
    64,
    6,
    0,
    0,
    10,
    0,
    0,
    1,
    10,
    0,
    0,
    2,
  );
  assert.equal(internetChecksum(header), 0x26e2);
});

Deno.test("checksumSum() over long ranges (the SIMD path) matches a byte-by-byte sum", () => {
  const data = pseudoRandomBytes(300_000, 11);
  for (const length of [512, 513, 527, 4099, 65_535, 65_536, 65_537, 131_072 + 9, 299_990]) {
    for (const start of [0, 1, 2, 3, 7]) {
      const got = foldChecksum(checksumSum(data, start, start + length));
      assert.equal(got, referenceSum(data, start, start + length), `${length} bytes at ${start}`);
    }
  }
  // All ones: every SIMD lane at its largest, across several pieces.
  const ones = new Uint8Array(200_003).fill(0xff);
  for (const length of [65_536, 200_003]) {
    assert.equal(foldChecksum(checksumSum(ones, 0, length)), referenceSum(ones, 0, length));
  }
});

Deno.test("checksumSum() over a registered WebAssembly memory sums in place, at any offset and length", () => {
  const memory = new WebAssembly.Memory({ initial: 4 });
  const view = new Uint8Array(memory.buffer);
  view.set(pseudoRandomBytes(view.length, 5));
  sumInPlace(memory);
  for (const length of [512, 513, 527, 4099, 65_535, 65_536, 65_537, 200_001]) {
    for (const start of [0, 1, 2, 3, 15, 16, 17]) {
      const got = foldChecksum(checksumSum(view, start, start + length));
      assert.equal(got, referenceSum(view, start, start + length), `${length} bytes at ${start}`);
    }
  }
  // A view that does not start at the memory's first byte.
  const part = view.subarray(1001, 80_000);
  assert.equal(foldChecksum(checksumSum(part, 3, 70_000)), referenceSum(part, 3, 70_000));
});
