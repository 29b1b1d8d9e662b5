import assert from "node:assert/strict";
import {
  masksAt,
  parseScreenMasks,
  screenDiffImage,
  ScreenMaskError,
  screensMatch,
} from "./masks.ts";
import type { DisplaySnapshot } from "./display_model.ts";

function snap(width: number, height: number, set: [number, number][] = []): DisplaySnapshot {
  const pixels = new Uint8Array(width * height * 4).fill(255);
  for (const [x, y] of set) pixels.set([1, 2, 3, 255], (y * width + x) * 4);
  return { surfaceId: 0, width, height, format: 32, pixels, unknown: [] };
}

Deno.test("screen rules are read from a rules file beside byte rules", () => {
  const text = JSON.stringify([
    { channel: "main", message: "INIT", action: "mask" },
    { kind: "screen", rect: [10, 20, 30, 40], from: 1.5, until: 2 },
    { kind: "screen", rect: [0, 0, 1, 1], surface: 3 },
  ]);
  const masks = parseScreenMasks(text, "r.json");
  assert.deepEqual(masks[0].rect, { left: 10, top: 20, right: 40, bottom: 60 });
  assert.equal(masks[0].fromNs, 1_500_000_000n);
  assert.equal(masks[1].surface, 3);
  assert.equal(masksAt(masks, { surfaceId: 0, primary: true, relNs: 1_000_000_000n }).length, 0);
  assert.equal(masksAt(masks, { surfaceId: 0, primary: true, relNs: 1_600_000_000n }).length, 1);
  assert.equal(masksAt(masks, { surfaceId: 3, primary: false, relNs: 0n }).length, 1);
  for (const bad of [{ rect: [0, 0, 0, 1] }, { rect: [1, 2] }, { rect: [0, 0, 1, 1], x: 1 }]) {
    assert.throws(
      () => parseScreenMasks(JSON.stringify([{ kind: "screen", ...bad }]), "r.json"),
      (e) => e instanceof ScreenMaskError && /r\.json: rule 0/.test(e.message),
    );
  }
});

Deno.test("screens match outside masks and unknown rects only", () => {
  const a = snap(4, 4);
  const b = snap(4, 4, [[2, 1]]);
  assert.equal(screensMatch(a, a), true);
  assert.equal(screensMatch(a, b), false);
  assert.equal(screensMatch(a, b, { masks: [{ top: 1, left: 2, bottom: 2, right: 3 }] }), true);
  assert.equal(
    screensMatch(a, { ...b, unknown: [{ top: 0, left: 0, bottom: 4, right: 4 }] }),
    true,
  );
  assert.equal(screensMatch(a, snap(4, 5)), false);
  const diff = screenDiffImage(a, b);
  assert.equal(diff.differing, 1);
  assert.deepEqual([...diff.pixels.subarray((1 * 4 + 2) * 4, (1 * 4 + 2) * 4 + 4)], [
    255,
    0,
    0,
    255,
  ]);
});
