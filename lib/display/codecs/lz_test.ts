import assert from "node:assert/strict";
import { decodeLz } from "./lz.ts";
import { decodeLz4 } from "./lz4.ts";
import { decodeBitmap } from "./bitmap.ts";
import { BITMAP_FLAGS, BITMAP_FORMATS } from "../image.ts";
import { encodeLz, lz4Blocks, LZ_TYPE } from "../../../testing/lz_encoder.ts";
import {
  decodeError,
  flipped,
  lcg,
  makeImage,
  mapPixels,
  testImages,
  via5,
} from "../../../testing/codec_images.ts";

const opaque = ([b, g, r]: number[]) => [b, g, r, 255];

Deno.test("decodeLz() round-trips RGB16/24/32/RGBA, A8 and XXXA, both row orders", () => {
  const cases: [number, (p: number[]) => number[]][] = [
    [LZ_TYPE.RGB16, ([b, g, r]) => [via5(b), via5(g), via5(r), 255]],
    [LZ_TYPE.RGB24, opaque],
    [LZ_TYPE.RGB32, opaque],
    [LZ_TYPE.RGBA, (p) => p],
    [LZ_TYPE.A8, ([, , , a]) => [0, 0, 0, a]],
    [LZ_TYPE.XXXA, ([, , , a]) => [0, 0, 0, a]],
  ];
  for (
    const image of [
      ...testImages(),
      makeImage("far", {
        width: 10000,
        height: 4,
        f: (x, y) => (x * 7 + y) % 9001,
      }),
    ]
  ) {
    for (const [type, expect] of cases) {
      const want = mapPixels(image.pixels, expect);
      const top = decodeLz(
        encodeLz({
          type,
          width: image.width,
          height: image.height,
          topDown: true,
          pixels: image.pixels,
        }),
      );
      assert.deepEqual(top.pixels, want, `${image.name} type ${type}`);
      const bottom = decodeLz(
        encodeLz({ type, width: image.width, height: image.height, pixels: flipped(image) }),
      );
      assert.deepEqual(bottom.pixels, want, `${image.name} type ${type} bottom-up`);
      assert.equal(top.hasAlpha, type >= LZ_TYPE.RGBA);
    }
  }
});

Deno.test("decodeLz() decodes the PLT types through the palette, cropping padded rows", () => {
  const colors = new Uint32Array([0x102030, 0xa0b0c0, 0x00ff00, 0xff0000, 0x0000ff]);
  const palette = { id: 1n, colors };
  const rnd = lcg(3);
  const width = 13, height = 5;
  const idx = Array.from({ length: width * height }, (_, i) => (i % 7 < 3 ? 1 : rnd() % 5));
  for (
    const type of [LZ_TYPE.PLT1_LE, LZ_TYPE.PLT1_BE, LZ_TYPE.PLT4_LE, LZ_TYPE.PLT4_BE, LZ_TYPE.PLT8]
  ) {
    const bits = type <= 2 ? 1 : type <= 4 ? 4 : 8, ppb = 8 / bits, stride = Math.ceil(width / ppb);
    const le = type === LZ_TYPE.PLT1_LE || type === LZ_TYPE.PLT4_LE;
    const indices = new Uint8Array(stride * height);
    const want = new Uint8Array(width * height * 4);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const v = idx[y * width + x] & ((1 << bits) - 1), slot = x % ppb;
        indices[y * stride + Math.floor(x / ppb)] |= v <<
          (le ? slot * bits : (ppb - 1 - slot) * bits);
        const c = colors[v];
        want.set([c & 255, (c >> 8) & 255, (c >> 16) & 255, 255], (y * width + x) * 4);
      }
    }
    const got = decodeLz(encodeLz({ type, width, height, topDown: true, indices, stride }), {
      palette,
    });
    assert.deepEqual(got.pixels, want, `type ${type}`);
    assert.match(
      decodeError("lz", () => decodeLz(encodeLz({ type, width, height, indices, stride })))
        .expected,
      /palette/,
    );
  }
});

Deno.test("decodeLz() rejects truncation, bad headers and references before the start", () => {
  const image = testImages()[2];
  const full = encodeLz({
    type: LZ_TYPE.RGBA,
    width: image.width,
    height: image.height,
    pixels: image.pixels,
  });
  for (let n = 0; n < full.length; n++) {
    const e = decodeError("lz", () => decodeLz(full.subarray(0, n)));
    assert.ok(e.offset <= n);
  }
  const patched = (at: number, v: number) => {
    const d = full.slice();
    new DataView(d.buffer).setUint32(at, v);
    return d;
  };
  assert.equal(decodeError("lz", () => decodeLz(patched(0, 1))).offset, 0);
  assert.match(decodeError("lz", () => decodeLz(patched(4, 2))).expected, /version/);
  assert.match(decodeError("lz", () => decodeLz(patched(8, 12))).expected, /type/);
  assert.match(decodeError("lz", () => decodeLz(patched(12, 1e9))).expected, /width and height/);
  assert.match(decodeError("lz", () => decodeLz(patched(20, 3))).expected, /stride/);
  const header = full.subarray(0, 28);
  const back = new Uint8Array([...header, 0, 1, 2, 3, 0x20 | 1, 5]);
  const e = decodeError("lz", () => decodeLz(back));
  assert.equal(e.offset, 32);
  assert.match(e.expected, /back-reference within the 1 pixels/);
});

Deno.test("decodeLz4() round-trips 16/24/32/RGBA across blocks, both row orders", () => {
  for (const image of testImages()) {
    for (const [format, bpp] of [[6, 2], [7, 3], [8, 4], [9, 4]]) {
      for (const topDown of [true, false]) {
        const src = topDown ? image.pixels : flipped(image);
        const packed = new Uint8Array(image.width * image.height * bpp);
        for (let i = 0; i < image.width * image.height; i++) {
          const [b, g, r, a] = src.subarray(i * 4, i * 4 + 4);
          const v = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
          packed.set(bpp === 2 ? [v & 255, v >> 8] : [b, g, r, a].slice(0, bpp), i * bpp);
        }
        const data = new Uint8Array([topDown ? 1 : 0, format, ...lz4Blocks(packed, 999)]);
        const got = decodeLz4(data, { width: image.width, height: image.height });
        const expect = format === 6
          ? ([b, g, r]: number[]) => [via5(b), via5(g), via5(r), 255]
          : format === 9
          ? (p: number[]) => p
          : opaque;
        assert.deepEqual(got.pixels, mapPixels(image.pixels, expect), `${image.name} ${format}`);
        if (image.width === 17) {
          for (let n = 0; n < data.length; n++) {
            decodeError("lz4", () => decodeLz4(data.subarray(0, n), image));
          }
        }
      }
    }
  }
  const far = new Uint8Array([1, 8, 0, 0, 0, 3, 0x00, 9, 0]);
  assert.match(
    decodeError("lz4", () => decodeLz4(far, { width: 1, height: 1 })).expected,
    /match offset|block/,
  );
  assert.match(
    decodeError("lz4", () => decodeLz4(new Uint8Array([1, 5, 0, 0, 0, 0]), { width: 1, height: 1 }))
      .expected,
    /format/,
  );
});

Deno.test("decodeBitmap() decodes every format and the row order", () => {
  const palette = { id: 7n, colors: new Uint32Array([0x000000, 0xffffff, 0x123456, 0xabcdef]) };
  const width = 3, height = 2;
  const rows = (bytes: number[][], stride: number) => {
    const d = new Uint8Array(stride * height);
    bytes.forEach((r, y) => d.set(r, y * stride));
    return d;
  };
  const W = [255, 255, 255, 255],
    K = [0, 0, 0, 255],
    C2 = [0x56, 0x34, 0x12, 255],
    C3 = [0xef, 0xcd, 0xab, 255];
  const cases: [number, number[][], number[]][] = [
    [BITMAP_FORMATS["1BIT_BE"], [[0b10100000], [0b01000000]], [...W, ...K, ...W, ...K, ...W, ...K]],
    [BITMAP_FORMATS["1BIT_LE"], [[0b00000101], [0b00000010]], [...W, ...K, ...W, ...K, ...W, ...K]],
    [BITMAP_FORMATS["4BIT_BE"], [[0x23, 0x10], [0x01, 0x20]], [
      ...C2,
      ...C3,
      ...W,
      ...K,
      ...W,
      ...C2,
    ]],
    [BITMAP_FORMATS["4BIT_LE"], [[0x32, 0x01], [0x10, 0x02]], [
      ...C2,
      ...C3,
      ...W,
      ...K,
      ...W,
      ...C2,
    ]],
    [BITMAP_FORMATS["8BIT"], [[2, 3, 1], [0, 1, 2]], [...C2, ...C3, ...W, ...K, ...W, ...C2]],
    [BITMAP_FORMATS["16BIT"], [[0x1f, 0, 0xe0, 0x03, 0, 0x7c], [0xff, 0x7f, 0, 0, 0x10, 0x42]], [
      255,
      0,
      0,
      255,
      0,
      255,
      0,
      255,
      0,
      0,
      255,
      255,
      ...W,
      ...K,
      132,
      132,
      132,
      255,
    ]],
    [BITMAP_FORMATS["24BIT"], [[1, 2, 3, 4, 5, 6, 7, 8, 9], [9, 8, 7, 6, 5, 4, 3, 2, 1]], [
      1,
      2,
      3,
      255,
      4,
      5,
      6,
      255,
      7,
      8,
      9,
      255,
      9,
      8,
      7,
      255,
      6,
      5,
      4,
      255,
      3,
      2,
      1,
      255,
    ]],
    [BITMAP_FORMATS["32BIT"], [[1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0], [
      1,
      1,
      1,
      1,
      2,
      2,
      2,
      2,
      3,
      3,
      3,
      3,
    ]], [1, 2, 3, 255, 4, 5, 6, 255, 7, 8, 9, 255, 1, 1, 1, 255, 2, 2, 2, 255, 3, 3, 3, 255]],
    [BITMAP_FORMATS.RGBA, [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [
      0,
      0,
      0,
      0,
      1,
      1,
      1,
      1,
      2,
      2,
      2,
      2,
    ]], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]],
    [BITMAP_FORMATS["8BIT_A"], [[10, 20, 30], [40, 50, 60]], [
      0,
      0,
      0,
      10,
      0,
      0,
      0,
      20,
      0,
      0,
      0,
      30,
      0,
      0,
      0,
      40,
      0,
      0,
      0,
      50,
      0,
      0,
      0,
      60,
    ]],
  ];
  for (const [format, bytes, want] of cases) {
    const stride = bytes[0].length + 1;
    const data = rows(bytes, stride);
    const top = decodeBitmap({
      format,
      flags: BITMAP_FLAGS.TOP_DOWN,
      width,
      height,
      stride,
      palette,
      data,
    });
    assert.deepEqual([...top.pixels], want, `format ${format}`);
    const bottom = decodeBitmap({ format, flags: 0, width, height, stride, palette, data });
    assert.deepEqual(
      [...bottom.pixels],
      [...want.slice(12), ...want.slice(0, 12)],
      `format ${format} bottom-up`,
    );
    decodeError(
      "bitmap",
      () =>
        decodeBitmap({
          format,
          flags: 0,
          width,
          height,
          stride,
          palette,
          data: data.subarray(0, stride),
        }),
    );
  }
  decodeError(
    "bitmap",
    () =>
      decodeBitmap({ format: 99, flags: 0, width, height, stride: 12, data: new Uint8Array(24) }),
  );
  decodeError(
    "bitmap",
    () =>
      decodeBitmap({
        format: BITMAP_FORMATS["8BIT"],
        flags: 0,
        width,
        height,
        stride: 3,
        data: new Uint8Array(6),
      }),
  );
  decodeError(
    "bitmap",
    () =>
      decodeBitmap({
        format: BITMAP_FORMATS["32BIT"],
        flags: 0,
        width: 1e6,
        height: 1e6,
        stride: 4e6,
        data: new Uint8Array(6),
      }),
  );
});
