import assert from "node:assert/strict";
import type { DisplaySnapshot } from "../display/display_model.ts";
import { compareScreens, screenDiffPicture } from "./screen_compare.ts";

function screen(width: number, height: number, paint: [number, number, number][] = []) {
  const pixels = new Uint8Array(width * height * 4).fill(255);
  for (const [x, y, v] of paint) pixels.set([v, v, v, 255], (y * width + x) * 4);
  return { surfaceId: 0, width, height, format: 32, pixels, unknown: [] } as DisplaySnapshot;
}

Deno.test("compareScreens() counts differing pixels and bounds them", () => {
  const a = screen(20, 10);
  const b = screen(20, 10, [[3, 2, 0], [7, 5, 0]]);
  assert.deepEqual(compareScreens(a, a), { differing: 0, sizeDiffers: false });
  assert.deepEqual(compareScreens(a, b), {
    differing: 2,
    box: { top: 2, left: 3, bottom: 6, right: 8 },
    sizeDiffers: false,
  });
});

Deno.test("compareScreens() skips masks and unknown regions, and allows a tolerance", () => {
  const a = screen(20, 10);
  const b = screen(20, 10, [[3, 2, 250], [7, 5, 0]]);
  assert.equal(compareScreens(a, b, { tolerance: 5 }).differing, 1);
  assert.equal(compareScreens(a, b, { tolerance: 4 }).differing, 2);
  const mask = { left: 6, top: 4, right: 8, bottom: 6 };
  assert.equal(compareScreens(a, b, { masks: [mask], tolerance: 5 }).differing, 0);
  b.unknown.push({ left: 0, top: 0, right: 4, bottom: 3 });
  assert.equal(compareScreens(a, b, { masks: [mask] }).differing, 0);
});

Deno.test("compareScreens() counts the area outside the smaller screen; the picture marks it red", () => {
  const c = compareScreens(screen(4, 2), screen(4, 3));
  assert.equal(c.sizeDiffers, true);
  assert.equal(c.differing, 4);
  assert.deepEqual(c.box, { top: 2, left: 0, bottom: 3, right: 4 });
  const p = screenDiffPicture(screen(4, 2), screen(4, 3), {
    masks: [{ left: 0, top: 0, right: 1, bottom: 1 }],
  });
  assert.deepEqual([...p.pixels.subarray(0, 4)], [0, 0, 160, 255]);
  assert.deepEqual([...p.pixels.subarray(4, 8)], [63, 63, 63, 255]);
  assert.deepEqual([...p.pixels.subarray(32, 36)], [255, 0, 0, 255]);
});
