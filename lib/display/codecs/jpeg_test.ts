import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- pinned npm specifier, as the project uses no import map
import jpeg from "npm:jpeg-js@0.4.4";
import { decodeJpeg, decodeJpegAlpha, JPEG_ALPHA_FLAGS_TOP_DOWN } from "./jpeg.ts";
import { withStandardHuffmanTables } from "./jpeg_tables.ts";
import { encodeLz, LZ_TYPE } from "../../../testing/lz_encoder.ts";
import { decodeError, flipped, makeImage } from "../../../testing/codec_images.ts";

const image = makeImage("flat", {
  width: 24,
  height: 16,
  f: (x, y, c) => (c === 3 ? x * 10 + y : x < 12 ? 60 + c * 40 : 200 - c * 30),
});

function jpegOf(): Uint8Array {
  const rgba = new Uint8Array(image.pixels.length);
  for (let i = 0; i < rgba.length; i += 4) {
    rgba.set([image.pixels[i + 2], image.pixels[i + 1], image.pixels[i], 255], i);
  }
  return jpeg.encode({ data: rgba, width: image.width, height: image.height }, 100).data;
}

Deno.test("decodeJpeg() gives opaque BGRA close to the source", () => {
  const got = decodeJpeg(jpegOf());
  assert.equal(got.width, 24);
  assert.equal(got.hasAlpha, false);
  for (let i = 0; i < got.pixels.length; i++) {
    const want = i % 4 === 3 ? 255 : image.pixels[i];
    assert.ok(Math.abs(got.pixels[i] - want) <= 8, `byte ${i}: ${got.pixels[i]} vs ${want}`);
  }
  assert.match(
    decodeError("jpeg", () => decodeJpeg(new Uint8Array([1, 2, 3]))).expected,
    /decodable JPEG/,
  );
});

Deno.test("decodeJpegAlpha() adds the LZ alpha plane in either row order", () => {
  const colour = jpegOf();
  for (const topDown of [true, false]) {
    const alpha = encodeLz({
      type: LZ_TYPE.XXXA,
      width: 24,
      height: 16,
      topDown,
      pixels: topDown ? image.pixels : flipped(image),
    });
    const data = new Uint8Array([...colour, ...alpha]);
    const flags = topDown ? JPEG_ALPHA_FLAGS_TOP_DOWN : 0;
    const got = decodeJpegAlpha(data, { jpegSize: colour.length, flags });
    assert.equal(got.hasAlpha, true);
    for (let i = 3; i < got.pixels.length; i += 4) assert.equal(got.pixels[i], image.pixels[i]);
    const e = decodeError(
      "lz",
      () => decodeJpegAlpha(data, { jpegSize: colour.length, flags: flags ^ 1 }),
    );
    assert.equal(e.offset, colour.length);
    decodeError("jpeg-alpha", () => decodeJpegAlpha(data, { jpegSize: data.length + 1, flags }));
  }
});

/** The JPEG without its DHT segments, as later MJPEG stream frames come. */
function withoutHuffmanTables(data: Uint8Array): Uint8Array {
  const out: number[] = [0xff, 0xd8];
  let i = 2;
  for (;;) {
    const marker = data[i + 1];
    const length = (data[i + 2] << 8) | data[i + 3];
    if (marker === 0xda) return Uint8Array.from([...out, ...data.subarray(i)]);
    if (marker !== 0xc4) out.push(...data.subarray(i, i + 2 + length));
    i += 2 + length;
  }
}

Deno.test("decodeJpeg() reads a frame without Huffman tables with the standard ones", () => {
  const full = jpegOf(); // jpeg-js encodes with the standard tables
  const bare = withoutHuffmanTables(full);
  assert.ok(bare.length < full.length - 400, "the tables are gone");
  assert.deepEqual(decodeJpeg(bare).pixels, decodeJpeg(full).pixels);
  assert.equal(withStandardHuffmanTables(full), full, "a JPEG with tables is left as it is");
});
