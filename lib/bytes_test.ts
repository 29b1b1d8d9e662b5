import assert from "node:assert/strict";
import { concatBytes, u16be, u16le, u32be, u32le, u32leBytes, u64be, u64le } from "./bytes.ts";

/** Two bytes of padding (so offsets are not 0), 0x01 … 0x08, then 0xff × 8. */
const BYTES = concatBytes([
  Uint8Array.of(0xee, 0xee),
  Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08),
  new Uint8Array(8).fill(0xff),
]);

Deno.test("u16le() and u16be() read both byte orders", () => {
  assert.equal(u16le(BYTES, 2), 0x0201);
  assert.equal(u16be(BYTES, 2), 0x0102);
  assert.equal(u16le(BYTES, 10), 0xffff);
  assert.equal(u16be(BYTES, 10), 0xffff);
});

Deno.test("u32le() and u32be() return unsigned values", () => {
  assert.equal(u32le(BYTES, 2), 0x04030201);
  assert.equal(u32be(BYTES, 2), 0x01020304);
  assert.equal(u32le(BYTES, 10), 0xffffffff);
  assert.equal(u32be(BYTES, 10), 0xffffffff);
  assert.equal(u32be(new Uint8Array([0x80, 0, 0, 0]), 0), 0x80000000);
  assert.equal(u32le(new Uint8Array([0, 0, 0, 0x80]), 0), 0x80000000);
});

Deno.test("u64le() and u64be() return unsigned bigints", () => {
  assert.equal(u64le(BYTES, 2), 0x0807060504030201n);
  assert.equal(u64be(BYTES, 2), 0x0102030405060708n);
  assert.equal(u64le(BYTES, 10), 0xffffffffffffffffn);
  assert.equal(u64be(BYTES, 10), 0xffffffffffffffffn);
});

Deno.test("the readers agree with DataView at every offset of a view with a byteOffset", () => {
  const backing = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  const bytes = backing.subarray(3, 59);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 8 <= bytes.length; at++) {
    assert.equal(u16le(bytes, at), view.getUint16(at, true), `u16le at ${at}`);
    assert.equal(u16be(bytes, at), view.getUint16(at, false), `u16be at ${at}`);
    assert.equal(u32le(bytes, at), view.getUint32(at, true), `u32le at ${at}`);
    assert.equal(u32be(bytes, at), view.getUint32(at, false), `u32be at ${at}`);
    assert.equal(u64le(bytes, at), view.getBigUint64(at, true), `u64le at ${at}`);
    assert.equal(u64be(bytes, at), view.getBigUint64(at, false), `u64be at ${at}`);
  }
});

Deno.test("concatBytes() joins arrays into a fresh one", () => {
  const a = Uint8Array.of(1, 2);
  const joined = concatBytes([a, new Uint8Array(0), Uint8Array.of(3)]);
  assert.deepEqual([...joined], [1, 2, 3]);
  joined[0] = 9;
  assert.equal(a[0], 1);
  assert.equal(concatBytes([]).length, 0);
});

Deno.test("u32leBytes() writes what u32le() reads, low 32 bits only", () => {
  for (const v of [0, 1, 0x1234_5678, 0xffff_ffff, 0x8000_0000]) {
    assert.equal(u32le(u32leBytes(v), 0), v);
  }
  assert.deepEqual([...u32leBytes(0x0403_0201)], [1, 2, 3, 4]);
  assert.equal(u32le(u32leBytes(2 ** 32 + 7), 0), 7);
});
