/**
 * Resync on draw shape (type, surface id, box) and the GLZ image id mask: two extra frames
 * before a run of draws must not shift every later pair by one.
 */
import assert from "node:assert/strict";
import { type AlignEvent, alignStreams } from "./align.ts";
import { BindingMap, compareUnits } from "./compare.ts";
import { createNormalise } from "./normalise.ts";
import type { DiffInput, NormalisedUnit, NormaliseOptions } from "./types.ts";
import { fromArray, message, u32le } from "../../testing/diff_units.ts";

const DISPLAY = 2;
const DRAW_COPY = 304;
/** The source image descriptor sits after base, clip, src_bitmap, src_area, rop, scale, mask. */
const DESCRIPTOR = 57;

function u64be(v: number): number[] {
  return [0, 0, 0, 0, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function u32be(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** A DRAW_COPY of a GLZ_RGB image: box at (left, top), 9×10, image `id`, `payload` bytes. */
export function glzCopy(
  at: { left: number; top: number; id: number; payload: number[]; index: number },
): DiffInput {
  const { left, top, id } = at;
  const base = [...u32le(0, top, left, top + 10, left + 9), 0];
  const copy = [...u32le(DESCRIPTOR), ...u32le(0, 0, 10, 9), 8, 0, 0, 0, ...u32le(0, 0, 0)];
  const glz = [
    ...[0x20, 0x20, 0x5a, 0x4c, 0, 1, 0, 1, 8],
    ...u32be(9),
    ...u32be(10),
    ...u32be(36),
    ...u64be(id),
    ...u32be(id),
    ...at.payload,
  ];
  const descriptor = [...u64be(id).reverse(), 102, 0, ...u32le(9, 10, glz.length)];
  const body = [...base, ...copy, ...descriptor, ...glz];
  assert.equal(base.length + copy.length, DESCRIPTOR);
  return message(DISPLAY, false, DRAW_COPY, body, { index: at.index });
}

async function align(actual: DiffInput[], golden: DiffInput[], options: NormaliseOptions = {}) {
  const n = createNormalise(options);
  const batches = (xs: DiffInput[]) => fromArray([xs.map((x) => n(x)!)]);
  const out: string[] = [];
  const index = (u: NormalisedUnit) => u.input.unit.kind === "message" ? u.input.unit.index : -1;
  const describe = (e: AlignEvent) =>
    e.kind === "same"
      ? `same ${index(e.actual)}/${index(e.golden)}`
      : e.kind === "changed"
      ? `changed ${index(e.actual)}/${index(e.golden)}`
      : e.kind === "extra"
      ? `extra ${index(e.actual)}`
      : `missing ${index(e.golden)}`;
  for await (
    const b of alignStreams(batches(actual), batches(golden), { bindings: new BindingMap() })
  ) out.push(...b.map(describe));
  return out;
}

/** Golden: 50 glyph draws; actual: two extra frames first, every later image id 2 higher. */
function cascade(): { actual: DiffInput[]; golden: DiffInput[] } {
  const glyph = (i: number) => [i, i * 3, 7, 1, 2];
  const golden = Array.from(
    { length: 50 },
    (_, i) => glzCopy({ left: 9 * i, top: 114, id: 100 + i, payload: glyph(i), index: i }),
  );
  const extra = [0, 1].map((i) =>
    glzCopy({ left: 300, top: 200 + 20 * i, id: 100 + i, payload: [9, 9, 9, i], index: i })
  );
  const actual = [
    ...extra,
    ...Array.from(
      { length: 50 },
      (_, i) => glzCopy({ left: 9 * i, top: 114, id: 102 + i, payload: glyph(i), index: i + 2 }),
    ),
  ];
  return { actual, golden };
}

Deno.test("image-ids masks the GLZ header's image id and window head distance", () => {
  const n = createNormalise();
  const a = n(glzCopy({ left: 0, top: 0, id: 7, payload: [1, 2, 3], index: 0 }))!;
  const g = n(glzCopy({ left: 0, top: 0, id: 9, payload: [1, 2, 3], index: 0 }))!;
  assert.deepEqual(
    a.masks.map((m) => [m.field, m.start, m.end]),
    [["image.id", DESCRIPTOR, DESCRIPTOR + 8], ["glz.id", DESCRIPTOR + 43, DESCRIPTOR + 55]],
  );
  assert.equal(compareUnits(a, g, { bindings: new BindingMap() }), undefined);
  const k = createNormalise({ keep: ["image-ids"] });
  const d = compareUnits(
    k(glzCopy({ left: 0, top: 0, id: 7, payload: [1], index: 0 }))!,
    k(
      glzCopy({ left: 0, top: 0, id: 9, payload: [1], index: 0 }),
    )!,
    { bindings: new BindingMap() },
  );
  assert.equal(d?.offset, DESCRIPTOR);
});

Deno.test("draw-images compares DRAW_* bodies of different lengths as equal up to the box", () => {
  const n = createNormalise({ enable: ["draw-images"] });
  const a = n(glzCopy({ left: 0, top: 0, id: 7, payload: [1, 2, 3, 4, 5], index: 0 }))!;
  const g = n(glzCopy({ left: 0, top: 0, id: 9, payload: [6], index: 0 }))!;
  assert.equal(compareUnits(a, g, { bindings: new BindingMap() }), undefined);
  const moved = n(glzCopy({ left: 9, top: 0, id: 9, payload: [6], index: 0 }))!;
  assert.equal(compareUnits(a, moved, { bindings: new BindingMap() })?.field, "box.left");
  const plain = createNormalise();
  const d = compareUnits(plain(a.input)!, plain(g.input)!, { bindings: new BindingMap() });
  assert.equal(d?.kind, "length");
});

Deno.test("two extra frames, then 50 draws equal but for their image ids: no cascade", async () => {
  const { actual, golden } = cascade();
  const expected = ["extra 0", "extra 1", ...golden.map((_, i) => `same ${i + 2}/${i}`)];
  assert.deepEqual(await align(actual, golden), expected);
});

Deno.test("with image ids compared, the draws still pair by box: changed in place, no cascade", async () => {
  const { actual, golden } = cascade();
  const expected = ["extra 0", "extra 1", ...golden.map((_, i) => `changed ${i + 2}/${i}`)];
  assert.deepEqual(await align(actual, golden, { keep: ["image-ids"] }), expected);
});

Deno.test("a draw cut at another point (box.right 99 vs 128) is changed, its remainder extra", async () => {
  const draw = (left: number, right: number, index: number) =>
    message(DISPLAY, false, DRAW_COPY, [...u32le(0, 66, left, 76, right), 0, 1, 2, 3], { index });
  const golden = [draw(0, 128, 0), draw(0, 32, 1), draw(32, 64, 2)];
  const actual = [draw(0, 99, 0), draw(99, 128, 1), draw(0, 32, 2), draw(32, 64, 3)];
  assert.deepEqual(await align(actual, golden), [
    "changed 0/0",
    "extra 1",
    "same 2/1",
    "same 3/2",
  ]);
});
