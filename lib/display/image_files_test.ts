import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { decodePpm, encodePng, encodePpm } from "./image_files.ts";

const IMAGE = { width: 2, height: 1, pixels: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 255]) };

Deno.test("encodePpm() writes P6 RGB that decodePpm() reads back", () => {
  const bytes = encodePpm(IMAGE);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, 11)), "P6\n2 1\n255\n");
  const back = decodePpm(bytes);
  assert.deepEqual([back.width, back.height, ...back.rgb], [2, 1, 1, 2, 3, 4, 5, 6]);
  assert.throws(() => decodePpm(bytes.subarray(0, 14)), /need 6 pixel bytes, found 3/);
});

Deno.test("encodePng() writes RGB rows with filter 0 in one IDAT, RGBA when alpha varies", () => {
  const png = encodePng(IMAGE);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const dv = new DataView(png.buffer, png.byteOffset);
  assert.equal(new TextDecoder().decode(png.subarray(12, 16)), "IHDR");
  assert.deepEqual([dv.getUint32(16), dv.getUint32(20), png[24], png[25]], [2, 1, 8, 2]);
  const idatLength = dv.getUint32(33);
  assert.equal(new TextDecoder().decode(png.subarray(37, 41)), "IDAT");
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  assert.deepEqual([...raw], [0, 1, 2, 3, 4, 5, 6]);
  const rgba = encodePng({ ...IMAGE, pixels: new Uint8Array([1, 2, 3, 0, 4, 5, 6, 255]) });
  assert.equal(rgba[25], 6, "colour type RGBA");
});
