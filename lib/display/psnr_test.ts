import assert from "node:assert/strict";
import { psnr } from "./psnr.ts";

Deno.test("psnr() is Infinity for equal pictures and 10·log10(255²/MSE) otherwise", () => {
  const a = { width: 2, height: 1, rgb: new Uint8Array([10, 20, 30, 40, 50, 60]) };
  assert.equal(psnr(a, { ...a, rgb: a.rgb.slice() }), Infinity);
  const b = { ...a, rgb: a.rgb.map((v) => v + 1) }; // MSE 1
  assert.equal(psnr(b, a).toFixed(3), (20 * Math.log10(255)).toFixed(3));
  assert.throws(() => psnr(a, { width: 1, height: 2, rgb: a.rgb }), RangeError);
});
