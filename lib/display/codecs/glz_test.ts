import assert from "node:assert/strict";
import { deflateSync } from "node:zlib";
import { GlzMissingImageError } from "../image.ts";
import { decodeGlz, decodeZlibGlz, GlzDictionary } from "./glz.ts";
import { encodeGlz, LZ_TYPE } from "../../../testing/lz_encoder.ts";
import {
  decodeError,
  flipped,
  makeImage,
  mapPixels,
  testImages,
  via5,
} from "../../../testing/codec_images.ts";

const opaque = ([b, g, r]: number[]) => [b, g, r, 255];

Deno.test("decodeGlz() round-trips each RGB type alone, both row orders", () => {
  const cases: [number, (p: number[]) => number[]][] = [
    [LZ_TYPE.RGB16, ([b, g, r]) => [via5(b), via5(g), via5(r), 255]],
    [LZ_TYPE.RGB24, opaque],
    [LZ_TYPE.RGB32, opaque],
    [LZ_TYPE.RGBA, (p) => p],
  ];
  let id = 0n;
  const dictionary = new GlzDictionary({ windowSize: 1 << 22 });
  for (const image of testImages()) {
    for (const [type, expect] of cases) {
      for (const topDown of [true, false]) {
        const pixels = topDown ? image.pixels : flipped(image);
        const data = encodeGlz({
          type,
          width: image.width,
          height: image.height,
          id: id++,
          winHeadDist: 0,
          topDown,
          pixels,
        });
        const got = decodeGlz(data, dictionary);
        assert.deepEqual(
          got.pixels,
          mapPixels(image.pixels, expect),
          `${image.name} ${type} ${topDown}`,
        );
      }
    }
  }
});

Deno.test("decodeGlz() copies from earlier images and evicts by win_head_dist", () => {
  const dictionary = new GlzDictionary({ windowSize: 1 << 20 });
  const a = makeImage("a", { width: 16, height: 4, f: (x, y, c) => x * 16 + y + c });
  const b = makeImage("b", { width: 8, height: 2, f: (x, _y, c) => 200 - x - c });
  decodeGlz(
    encodeGlz({
      type: LZ_TYPE.RGB32,
      width: 16,
      height: 4,
      id: 0n,
      winHeadDist: 0,
      topDown: true,
      pixels: a.pixels,
    }),
    dictionary,
  );
  // image 1: its pixels 2..9 come from image 0 pixels 20..27; the rest are literals
  const want = b.pixels.slice();
  want.set(a.pixels.subarray(20 * 4, 28 * 4), 2 * 4);
  const refs = [{ at: 2, len: 8, dist: 1, ofs: 20 }];
  const one = decodeGlz(
    encodeGlz({
      type: LZ_TYPE.RGB32,
      width: 8,
      height: 2,
      id: 1n,
      winHeadDist: 1,
      topDown: true,
      pixels: want,
      refs,
    }),
    dictionary,
  );
  assert.deepEqual(one.pixels, mapPixels(want, opaque));
  assert.deepEqual(dictionary.ids(), [0n, 1n]);
  decodeGlz(
    encodeGlz({
      type: LZ_TYPE.RGB32,
      width: 8,
      height: 2,
      id: 2n,
      winHeadDist: 1,
      topDown: true,
      pixels: b.pixels,
    }),
    dictionary,
  );
  assert.deepEqual(dictionary.ids(), [1n, 2n]);
  const stale = encodeGlz({
    type: LZ_TYPE.RGB32,
    width: 8,
    height: 2,
    id: 3n,
    winHeadDist: 3,
    topDown: true,
    pixels: want,
    refs: [{ at: 2, len: 8, dist: 3, ofs: 20 }],
  });
  const e = decodeError("glz", () => decodeGlz(stale, dictionary));
  assert.ok(e instanceof GlzMissingImageError);
  assert.equal(e.missingId, 0n);
  assert.match(e.expected, /image 0 in the dictionary/);
  // the failed image is held as missing, so references to it fail too
  const onFailed = encodeGlz({
    type: LZ_TYPE.RGB32,
    width: 8,
    height: 2,
    id: 4n,
    winHeadDist: 3,
    topDown: true,
    pixels: want,
    refs: [{ at: 2, len: 8, dist: 1, ofs: 0 }],
  });
  assert.equal(
    (decodeError("glz", () => decodeGlz(onFailed, dictionary)) as GlzMissingImageError).missingId,
    3n,
  );
  const outside = encodeGlz({
    type: LZ_TYPE.RGB32,
    width: 8,
    height: 2,
    id: 5n,
    winHeadDist: 4,
    topDown: true,
    pixels: want,
    refs: [{ at: 2, len: 8, dist: 3, ofs: 12 }],
  });
  assert.match(decodeError("glz", () => decodeGlz(outside, dictionary)).expected, /inside image 2/);
});

Deno.test("GlzDictionary evicts the oldest images beyond windowSize pixels", () => {
  const dictionary = new GlzDictionary({ windowSize: 100 });
  const img = makeImage("x", { width: 10, height: 6, f: (x) => x });
  for (let id = 0n; id < 4n; id++) {
    decodeGlz(
      encodeGlz({
        type: LZ_TYPE.RGB32,
        width: 10,
        height: 6,
        id,
        winHeadDist: Number(id),
        pixels: img.pixels,
      }),
      dictionary,
    );
  }
  assert.deepEqual(dictionary.ids(), [2n, 3n]);
  assert.throws(() => new GlzDictionary({ windowSize: 0 }), RangeError);
});

Deno.test("decodeGlz() rejects truncation and bad headers; decodeZlibGlz() inflates", () => {
  const image = testImages()[1];
  const data = encodeGlz({
    type: LZ_TYPE.RGBA,
    width: image.width,
    height: image.height,
    id: 0n,
    winHeadDist: 0,
    topDown: true,
    pixels: image.pixels,
  });
  for (let n = 0; n < data.length; n++) {
    const e = decodeError(
      "glz",
      () => decodeGlz(data.subarray(0, n), new GlzDictionary({ windowSize: 1000 })),
    );
    assert.ok(e.offset <= n);
  }
  const bad = data.slice();
  bad[8] = 0x0b;
  assert.match(
    decodeError("glz", () => decodeGlz(bad, new GlzDictionary({ windowSize: 1000 }))).expected,
    /GLZ RGB type/,
  );
  const dictionary = new GlzDictionary({ windowSize: 1000 });
  const got = decodeZlibGlz(deflateSync(data), { glzSize: data.length, dictionary });
  assert.deepEqual(got.pixels, image.pixels);
  decodeError(
    "zlib-glz",
    () => decodeZlibGlz(deflateSync(data), { glzSize: data.length - 1, dictionary }),
  );
  decodeError("zlib-glz", () => decodeZlibGlz(data, { glzSize: data.length, dictionary }));
});
