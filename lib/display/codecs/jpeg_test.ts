import assert from "node:assert/strict";
// deno-lint-ignore no-import-prefix -- pinned npm specifier, as the project uses no import map
import jpeg from "npm:jpeg-js@0.4.4";
import { decodeJpeg, decodeJpegAlpha, JPEG_ALPHA_FLAGS_TOP_DOWN } from "./jpeg.ts";
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
  const frame = { streamFrame: true };
  assert.deepEqual(decodeJpeg(bare, frame).pixels, decodeJpeg(full, frame).pixels);
});

Deno.test("decodeJpeg() refuses damaged data and decodes as before afterwards", () => {
  const good = jpegOf();
  const want = decodeJpeg(good).pixels;
  const damaged = Uint8Array.from(good); // jpeg-js gives a Buffer, whose slice() is a view
  damaged.fill(0xff, damaged.length >> 1, (damaged.length >> 1) + 40);
  // error exits unwind the decoder; enough of them would overrun its stack if it were kept
  for (let i = 0; i < 40; i++) {
    decodeError("jpeg", () => decodeJpeg(damaged));
    decodeError("jpeg", () => decodeJpeg(good.subarray(0, 40 + i)));
  }
  assert.deepEqual(decodeJpeg(good).pixels, want);
});

/** Runs a libjpeg-turbo tool; undefined when it is not installed. */
async function tool(name: string, args: string[]): Promise<Uint8Array | undefined> {
  try {
    const r = await new Deno.Command(name, { args, stdout: "piped", stderr: "piped" }).output();
    assert.ok(r.success, `${name} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
    return r.stdout;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/** A 4:2:0 JPEG of a busy 61×37 picture made by `cjpeg`, with `djpeg`'s RGB for both settings. */
async function cjpegPicture(dir: string) {
  const [w, h] = [61, 37];
  const ppm = new Uint8Array([
    ...new TextEncoder().encode(`P6\n${w} ${h}\n255\n`),
    ...new Uint8Array(w * h * 3).map((_, i) => (i * 37 + ((i / 3 / w) | 0) * 91) & 0xff),
  ]);
  await Deno.writeFile(`${dir}/in.ppm`, ppm);
  const jpg = await tool("cjpeg", ["-quality", "80", "-sample", "2x2", `${dir}/in.ppm`]);
  if (!jpg) return undefined;
  await Deno.writeFile(`${dir}/in.jpg`, jpg);
  const image = await tool("djpeg", ["-ppm", `${dir}/in.jpg`]);
  const frame = await tool("djpeg", ["-ppm", "-dct", "fast", "-nosmooth", `${dir}/in.jpg`]);
  return image && frame && { jpg, image, frame };
}

function rgbOf(ppm: Uint8Array): Uint8Array {
  let fields = 0, i = 0;
  while (fields < 4) {
    while (ppm[i] <= 0x20) i++;
    while (ppm[i] > 0x20) i++;
    fields++;
  }
  return ppm.subarray(i + 1);
}

Deno.test("decodeJpeg() gives djpeg's pixels: defaults for images, -dct fast -nosmooth for stream frames", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-jpeg-" });
  try {
    const pic = await cjpegPicture(dir);
    if (!pic) {
      return void await t.step({ name: "cjpeg and djpeg installed", ignore: true, fn() {} });
    }
    for (
      const [what, ref, streamFrame] of [["image", pic.image, false], [
        "stream frame",
        pic.frame,
        true,
      ]] as const
    ) {
      const got = decodeJpeg(pic.jpg, { streamFrame }).pixels;
      const rgb = rgbOf(ref);
      const bgr = new Uint8Array(rgb.length);
      for (let p = 0, q = 0; q < rgb.length; p += 4, q += 3) {
        bgr.set([got[p + 2], got[p + 1], got[p]], q);
      }
      assert.deepEqual(bgr, rgb, what);
    }
    assert.notDeepEqual(pic.image, pic.frame, "the two settings differ on this picture");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
