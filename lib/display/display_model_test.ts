import assert from "node:assert/strict";
import { type DisplayMessage, DisplayModel } from "./display_model.ts";
import { DEFAULT_CODECS } from "./default_codecs.ts";
import {
  BodyBuilder,
  drawCopy,
  drawFill,
  serverMessages,
  surfaceCreate,
  writeBase,
} from "../../testing/display_bodies.ts";

const W = 4;
const H = 3;
const FULL = { top: 0, left: 0, bottom: H, right: W };

function run(list: [string, number, Uint8Array][]): DisplayModel {
  const model = new DisplayModel({ codecs: DEFAULT_CODECS });
  for (
    const m of serverMessages([
      ["SURFACE_CREATE", 314, surfaceCreate({ width: W, height: H })],
      ...list,
    ])
  ) {
    model.push(m);
  }
  return model;
}

/** RGB at (x, y) of the primary as 0xRRGGBB. */
function rgb(model: DisplayModel, x: number, y: number): number {
  const s = model.snapshot()!;
  const o = (y * s.width + x) * 4;
  return (s.pixels[o] << 16) | (s.pixels[o + 1] << 8) | s.pixels[o + 2];
}

Deno.test("DisplayModel fills a box with a solid colour and leaves the rest zero", () => {
  const m = run([[
    "DRAW_FILL",
    302,
    drawFill({ box: { top: 1, left: 1, bottom: 3, right: 3 }, color: 0x123456 }),
  ]]);
  assert.equal(rgb(m, 1, 1), 0x123456);
  assert.equal(rgb(m, 2, 2), 0x123456);
  assert.equal(rgb(m, 0, 0), 0);
  assert.equal(rgb(m, 3, 1), 0);
  assert.deepEqual(m.snapshot()!.unknown, []);
  assert.equal(m.snapshot()!.pixels[3], 255, "xRGB surfaces snapshot as opaque RGBA");
});

Deno.test("DisplayModel fills only inside the clip rects", () => {
  const clip = [{ top: 0, left: 0, bottom: 1, right: 1 }, { top: 2, left: 3, bottom: 3, right: 4 }];
  const m = run([["DRAW_FILL", 302, drawFill({ box: FULL, clip, color: 0xff0000 })]]);
  assert.equal(rgb(m, 0, 0), 0xff0000);
  assert.equal(rgb(m, 3, 2), 0xff0000);
  assert.equal(rgb(m, 1, 0), 0);
  assert.equal(rgb(m, 3, 1), 0);
});

Deno.test("DisplayModel copies a 32-bit BITMAP image to its box, offset by src_area", () => {
  const pixels = [0x010203, 0x040506, 0x070809, 0x0a0b0c];
  const image = { id: 1n, width: 2, height: 2, pixels };
  const box = { top: 1, left: 2, bottom: 3, right: 4 };
  const m = run([["DRAW_COPY", 304, drawCopy({ box, image })]]);
  assert.equal(rgb(m, 2, 1), 0x010203);
  assert.equal(rgb(m, 3, 1), 0x040506);
  assert.equal(rgb(m, 2, 2), 0x070809);
  assert.equal(rgb(m, 3, 2), 0x0a0b0c);
  assert.equal(rgb(m, 1, 1), 0);
  const cropped = run([[
    "DRAW_COPY",
    304,
    drawCopy({
      box: { top: 0, left: 0, bottom: 1, right: 1 },
      srcArea: { top: 1, left: 1, bottom: 2, right: 2 },
      image,
    }),
  ]]);
  assert.equal(rgb(cropped, 0, 0), 0x0a0b0c);
});

Deno.test("DisplayModel applies the ROP descriptor: XOR twice restores the screen", () => {
  const xor = 1 << 6;
  const fill = drawFill({ box: FULL, color: 0x00ff00 });
  const x = drawFill({ box: FULL, color: 0xffffff, ropd: xor });
  const once = run([["DRAW_FILL", 302, fill], ["DRAW_FILL", 302, x]]);
  assert.equal(rgb(once, 0, 0), 0xff00ff);
  const twice = run([["DRAW_FILL", 302, fill], ["DRAW_FILL", 302, x], ["DRAW_FILL", 302, x]]);
  assert.equal(rgb(twice, 0, 0), 0x00ff00);
  const blackness = run([["DRAW_FILL", 302, fill], [
    "DRAW_FILL",
    302,
    drawFill({ box: FULL, color: 0xffffff, ropd: 1 << 7 }),
  ]]);
  assert.equal(rgb(blackness, 1, 1), 0);
});

Deno.test("DisplayModel caches CACHE_ME images, draws FROM_CACHE hits, forgets after INVAL_LIST", () => {
  const image = { id: 77n, flags: 1, width: 1, height: 1, pixels: [0xabcdef] };
  const hit = { id: 77n, fromCache: true as const, width: 1, height: 1 };
  const first = drawCopy({ box: { top: 0, left: 0, bottom: 1, right: 1 }, image });
  const again = drawCopy({ box: { top: 2, left: 3, bottom: 3, right: 4 }, image: hit });
  const m = run([["DRAW_COPY", 304, first], ["DRAW_COPY", 304, again]]);
  assert.equal(rgb(m, 3, 2), 0xabcdef);
  assert.deepEqual(m.problems, []);

  const inval = new BodyBuilder().u16(1).u8(1).u64(77n).build();
  const missed = run([["DRAW_COPY", 304, first], ["INVAL_LIST", 105, inval], [
    "DRAW_COPY",
    304,
    again,
  ]]);
  assert.deepEqual(missed.snapshot()!.unknown, [{ top: 2, left: 3, bottom: 3, right: 4 }]);
  assert.equal(missed.problems.length, 1);
  assert.equal(missed.problems[0].kind, "cache-miss");
  assert.equal(missed.problems[0].messageIndex, 3);
  assert.equal(missed.problems[0].messageName, "DRAW_COPY");

  const all = run([["DRAW_COPY", 304, first], ["INVAL_ALL_PIXMAPS", 106, new Uint8Array([0])], [
    "DRAW_COPY",
    304,
    again,
  ]]);
  assert.equal(all.problems[0]?.kind, "cache-miss");
});

Deno.test("DisplayModel marks unimplemented draws unknown and reports them with the message index", () => {
  const b = new BodyBuilder();
  writeBase(b, { box: { top: 0, left: 1, bottom: 2, right: 3 } });
  const m = run([["DRAW_TEXT", 311, b.build()]]);
  assert.deepEqual(m.snapshot()!.unknown, [{ top: 0, left: 1, bottom: 2, right: 3 }]);
  assert.equal(m.problems[0].kind, "unimplemented");
  assert.equal(m.problems[0].messageIndex, 1);
  const healed = run([["DRAW_TEXT", 311, b.build()], [
    "DRAW_FILL",
    302,
    drawFill({ box: FULL, color: 1 }),
  ]]);
  assert.deepEqual(healed.snapshot()!.unknown, [], "a covering fill makes the pixels known again");
});

Deno.test("DisplayModel reports a pointer past the body end as a parse problem naming the field", () => {
  const body = drawCopy({ box: FULL, image: { id: 1n, width: 1, height: 1, pixels: [0] } });
  const cut = body.subarray(0, body.length - 20);
  const m = run([["DRAW_COPY", 304, cut]]);
  assert.equal(m.problems.length, 1);
  assert.equal(m.problems[0].kind, "parse");
  assert.match(m.problems[0].message, /^message 1 DRAW_COPY body byte \d+: src/);
});

Deno.test("DisplayModel RESET clears the primary; MODE creates a 32-bit primary", () => {
  const m = run([["DRAW_FILL", 302, drawFill({ box: FULL, color: 0xffffff })], [
    "RESET",
    103,
    new Uint8Array(),
  ]]);
  assert.equal(rgb(m, 0, 0), 0);
  const mode: DisplayMessage = {
    index: 0,
    type: 101,
    name: "MODE",
    fromClient: false,
    body: new BodyBuilder().u32(8).u32(2).u32(32).build(),
  };
  const fresh = new DisplayModel({ codecs: DEFAULT_CODECS });
  fresh.push(mode);
  assert.equal(fresh.snapshot()?.width, 8);
});

Deno.test("DisplayModel draws nothing and reports when the surface does not exist", () => {
  const m = new DisplayModel({ codecs: DEFAULT_CODECS });
  m.push(serverMessages([["DRAW_FILL", 302, drawFill({ box: FULL, color: 1, surfaceId: 5 })]])[0]);
  assert.equal(m.snapshot(), undefined);
  assert.equal(m.problems[0].kind, "no-surface");
});

/** DRAW_COPY of a 1x1 8BIT bitmap: inline palette (cached) or a cached palette id. */
function copyIndexed(palette: { id: bigint; colors?: number[] }): Uint8Array {
  const b = new BodyBuilder();
  writeBase(b, { box: { top: 0, left: 0, bottom: 1, right: 1 } });
  const image = b.pointer();
  b.rect({ top: 0, left: 0, bottom: 1, right: 1 }).u16(8).u8(1).u8(0).u32(0).u32(0).u32(0);
  image();
  b.u64(5n).u8(0).u8(0).u32(1).u32(1); // descriptor: BITMAP 1x1
  const flags = palette.colors ? 1 | 4 : 2 | 4; // PAL_CACHE_ME or PAL_FROM_CACHE, TOP_DOWN
  b.u8(5).u8(flags).u32(1).u32(1).u32(4); // 8BIT, 1x1, stride 4
  const pal = palette.colors ? b.pointer() : (b.u64(palette.id), undefined);
  b.u8(1).u8(0).u8(0).u8(0); // the pixel: index 1
  if (pal && palette.colors) {
    pal();
    b.u64(palette.id).u16(palette.colors.length);
    for (const c of palette.colors) b.u32(c);
  }
  return b.build();
}

Deno.test("DisplayModel keeps PAL_CACHE_ME palettes until INVAL_ALL_PALETTES", () => {
  const inline = copyIndexed({ id: 3n, colors: [0x000000, 0x00ff7f] });
  const cached = copyIndexed({ id: 3n });
  const m = run([
    ["DRAW_COPY", 304, inline],
    ["DRAW_FILL", 302, drawFill({ box: FULL, color: 0 })],
    [
      "DRAW_COPY",
      304,
      cached,
    ],
  ]);
  assert.deepEqual(m.problems, []);
  assert.equal(rgb(m, 0, 0), 0x00ff7f);
  const missed = run([["DRAW_COPY", 304, inline], ["INVAL_ALL_PALETTES", 108, new Uint8Array()], [
    "DRAW_COPY",
    304,
    cached,
  ]]);
  assert.equal(missed.problems[0]?.kind, "cache-miss");
  assert.match(missed.problems[0].message, /palette 3/);
});

Deno.test("DisplayModel copies unknown pixels along from an off-screen surface", () => {
  const offscreen = surfaceCreate({ id: 1, width: 2, height: 1, flags: 0 });
  const b = new BodyBuilder();
  writeBase(b, { surfaceId: 1, box: { top: 0, left: 1, bottom: 1, right: 2 } });
  const text = b.build(); // DRAW_TEXT on surface 1, pixel (1,0): not rendered
  const copy = new BodyBuilder();
  writeBase(copy, { box: { top: 0, left: 0, bottom: 1, right: 2 } });
  const image = copy.pointer();
  copy.rect({ top: 0, left: 0, bottom: 1, right: 2 }).u16(8).u8(1).u8(0).u32(0).u32(0).u32(0);
  image();
  copy.u64(9n).u8(104).u8(0).u32(2).u32(1).u32(1); // SURFACE image: surface 1
  const m = run([["SURFACE_CREATE", 314, offscreen], ["DRAW_TEXT", 311, text], [
    "DRAW_COPY",
    304,
    copy.build(),
  ]]);
  assert.deepEqual(m.snapshot()!.unknown, [{ top: 0, left: 1, bottom: 1, right: 2 }]);
});

/** DRAW_COMPOSITE of a 1x1 RGBA bitmap (format 9) over (0,0). */
function composite(flags: number, argb: number): Uint8Array {
  const b = new BodyBuilder();
  writeBase(b, { box: { top: 0, left: 0, bottom: 1, right: 1 } });
  b.u32(flags);
  const image = b.pointer();
  b.u16(0).u16(0).u16(0).u16(0); // src_origin, mask_origin
  image();
  b.u64(11n).u8(0).u8(0).u32(1).u32(1); // descriptor: BITMAP 1x1
  b.u8(9).u8(4).u32(1).u32(1).u32(4).u32(0).u32(argb); // RGBA, TOP_DOWN, no palette, the pixel
  return b.build();
}

Deno.test("DisplayModel draws DRAW_COMPOSITE with SRC and OVER, reports other operators", () => {
  const white = drawFill({ box: FULL, color: 0xffffff });
  const src = run([["DRAW_FILL", 302, white], ["DRAW_COMPOSITE", 318, composite(1, 0x80402010)]]);
  assert.equal(rgb(src, 0, 0), 0x402010);
  // premultiplied 50% black over white: 0 + 255·(255−128)/255 = 127
  const over = run([["DRAW_FILL", 302, white], ["DRAW_COMPOSITE", 318, composite(3, 0x80000000)]]);
  assert.equal(rgb(over, 0, 0), 0x7f7f7f);
  const xor = run([["DRAW_COMPOSITE", 318, composite(11, 0)]]);
  assert.equal(xor.problems[0].kind, "unimplemented");
  assert.deepEqual(xor.snapshot()!.unknown, [{ top: 0, left: 0, bottom: 1, right: 1 }]);
});
