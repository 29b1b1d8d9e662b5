import assert from "node:assert/strict";
import { ImageDecodeError } from "../image.ts";
import { decodeQuic, QUIC_TYPES } from "./quic.ts";
import { encodeQuic } from "../../../testing/quic_encoder.ts";
import {
  decodeError,
  makeImage,
  mapPixels,
  testImages,
  via5,
} from "../../../testing/codec_images.ts";

const expect: Record<number, (p: number[]) => number[]> = {
  [QUIC_TYPES.GRAY]: ([b]) => [b, b, b, 255],
  [QUIC_TYPES.RGB16]: ([b, g, r]) => [via5(b), via5(g), via5(r), 255],
  [QUIC_TYPES.RGB24]: ([b, g, r]) => [b, g, r, 255],
  [QUIC_TYPES.RGB32]: ([b, g, r]) => [b, g, r, 255],
  [QUIC_TYPES.RGBA]: (p) => p,
};

for (const [name, type] of Object.entries(QUIC_TYPES)) {
  Deno.test(`decodeQuic() round-trips ${name} test images exactly`, () => {
    for (const image of testImages()) {
      const got = decodeQuic(encodeQuic(image, type));
      assert.equal(got.width, image.width, image.name);
      assert.equal(got.height, image.height, image.name);
      assert.equal(got.hasAlpha, type === QUIC_TYPES.RGBA);
      assert.deepEqual(got.pixels, mapPixels(image.pixels, expect[type]), image.name);
    }
  });
}

function assertQuicError(data: Uint8Array): ImageDecodeError {
  return decodeError("quic", () => decodeQuic(data));
}

Deno.test("decodeQuic() rejects every truncation of a small stream with a typed error", () => {
  const image = makeImage("runs", {
    width: 9,
    height: 7,
    f: (x, y, c) => (x > 4 ? 200 : x * y * 30) + c,
  });
  const full = encodeQuic(image, QUIC_TYPES.RGBA);
  decodeQuic(full);
  for (let n = 0; n < full.length - 8; n += 4) {
    let err: unknown;
    try {
      decodeQuic(full.subarray(0, n));
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof ImageDecodeError, `cut at ${n}: ${err}`);
    assert.equal(err.codec, "quic");
    assert.ok(err.offset <= n, `cut at ${n}: offset ${err.offset}`);
  }
});

Deno.test("decodeQuic() names the bad header field", () => {
  const good = encodeQuic(makeImage("px", { width: 2, height: 2, f: () => 9 }), QUIC_TYPES.RGB32);
  const patch = (at: number, v: number) => {
    const d = good.slice();
    new DataView(d.buffer).setUint32(at, v, true);
    return d;
  };
  const magic = assertQuicError(patch(0, 0x12345678));
  assert.equal(magic.offset, 0);
  assert.match(magic.message, /magic "QUIC"/);
  assert.match(assertQuicError(patch(4, 1)).expected, /version 0/);
  assert.match(assertQuicError(patch(8, 9)).expected, /image type/);
  const huge = assertQuicError(patch(12, 0x7fffffff));
  assert.equal(huge.offset, 12);
  assert.match(huge.expected, /width and height/);
  assert.match(assertQuicError(patch(16, 0)).expected, /width and height/);
  assert.equal(assertQuicError(new Uint8Array(3)).offset, 0);
});

Deno.test("decodeQuic() survives random corruption with typed errors or an image", () => {
  const image = testImages()[5];
  const good = encodeQuic(image, QUIC_TYPES.RGB32);
  let seed = 5;
  for (let k = 0; k < 200; k++) {
    const d = good.slice();
    for (let j = 0; j < 4; j++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      d[20 + (seed % (d.length - 20))] ^= 1 << (seed >>> 29);
    }
    try {
      const got = decodeQuic(d);
      assert.equal(got.pixels.length, image.width * image.height * 4);
    } catch (e) {
      assert.ok(e instanceof ImageDecodeError, String(e));
    }
  }
});
