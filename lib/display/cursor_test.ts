import assert from "node:assert/strict";
import { CursorModel } from "./cursor.ts";
import type { DisplayMessage, DisplaySnapshot } from "./display_model.ts";
import { BodyBuilder } from "../../testing/display_bodies.ts";

function message(index: number, type: number, body: Uint8Array): DisplayMessage {
  return { index, type, name: `cursor ${type}`, fromClient: false, body };
}

function blank(width: number, height: number, rgb = 0): DisplaySnapshot {
  const pixels = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    pixels.set([rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff, 255], i * 4);
  }
  return { surfaceId: 0, width, height, format: 32, pixels, unknown: [] };
}

/** CURSOR_SET at (x, y), visible, with a cursor header and shape bytes. */
function set(
  o: {
    x: number;
    y: number;
    flags: number;
    unique: bigint;
    type: number;
    w: number;
    h: number;
    hot: number;
    data: number[];
  },
): Uint8Array {
  const b = new BodyBuilder().u16(o.x).u16(o.y).u8(1).u16(o.flags);
  b.u64(o.unique).u8(o.type).u16(o.w).u16(o.h).u16(o.hot).u16(o.hot);
  for (const v of o.data) b.u8(v);
  return b.build();
}

Deno.test("CursorModel draws an ALPHA cursor at position − hot spot, and caches it", () => {
  const model = new CursorModel();
  // 1x1 opaque red (B,G,R,A), CACHE_ME, hot spot (0,0), at (2,1)
  model.push(
    message(
      0,
      103,
      set({
        x: 2,
        y: 1,
        flags: 2,
        unique: 9n,
        type: 0,
        w: 1,
        h: 1,
        hot: 0,
        data: [0, 0, 255, 255],
      }),
    ),
  );
  const snap = blank(4, 3);
  model.overlay(snap);
  assert.deepEqual([...snap.pixels.subarray((1 * 4 + 2) * 4, (1 * 4 + 2) * 4 + 4)], [
    255,
    0,
    0,
    255,
  ]);
  assert.deepEqual([...snap.pixels.subarray(0, 4)], [0, 0, 0, 255]);

  model.push(message(1, 104, new BodyBuilder().u16(0).u16(0).build()));
  const fromCache = new BodyBuilder().u16(3).u16(2).u8(1).u16(4).u64(9n).u8(0).u16(1).u16(1).u16(0)
    .u16(0).build();
  model.push(message(2, 103, fromCache));
  const moved = blank(4, 3);
  model.overlay(moved);
  assert.deepEqual([...moved.pixels.subarray((2 * 4 + 3) * 4, (2 * 4 + 3) * 4 + 3)], [255, 0, 0]);
  assert.deepEqual(model.problems, []);

  model.push(message(3, 105, new Uint8Array()));
  const hidden = blank(4, 3);
  model.overlay(hidden);
  assert.ok(hidden.pixels.every((v, i) => i % 4 === 3 ? v === 255 : v === 0), "HIDE removes it");
});

Deno.test("CursorModel draws MONO cursors (black, white, transparent, invert) and reports COLOR ones", () => {
  const model = new CursorModel();
  // 4x1: AND bits 0011, XOR bits 0101 → black, white, transparent, invert
  model.push(
    message(
      0,
      103,
      set({ x: 0, y: 0, flags: 0, unique: 1n, type: 1, w: 4, h: 1, hot: 0, data: [0x30, 0x50] }),
    ),
  );
  const snap = blank(4, 1, 0x336699);
  model.overlay(snap);
  const rgb = (x: number) => [...snap.pixels.subarray(x * 4, x * 4 + 3)];
  assert.deepEqual(rgb(0), [0, 0, 0]);
  assert.deepEqual(rgb(1), [255, 255, 255]);
  assert.deepEqual(rgb(2), [0x33, 0x66, 0x99]);
  assert.deepEqual(rgb(3), [0xcc, 0x99, 0x66]);
  model.push(
    message(
      1,
      103,
      set({ x: 0, y: 0, flags: 0, unique: 2n, type: 6, w: 1, h: 1, hot: 0, data: [] }),
    ),
  );
  assert.equal(model.problems[0].kind, "unimplemented");
  assert.equal(model.problems[0].messageIndex, 1);
});
