import assert from "node:assert/strict";
import { BlinkFolder } from "./blink.ts";
import { diffCaptures } from "./diff_captures.ts";
import { createNormalise } from "./normalise.ts";
import type { DiffInput, DiffRecord, DiffSource, DiffSummary } from "./types.ts";
import { fromArray, message, u32le } from "../../testing/diff_units.ts";

const MS = 1_000_000n;

/** A DRAW_FILL of `box` [left, top, w, h] whose brush colour is `content`, at `ms`. */
function fill(box: number[], at: { content: number; ms: number; index: number }): DiffInput {
  const [left, top, w, h] = box;
  const body = [...u32le(0, top, left, top + h, left + w), 0, 1, ...u32le(at.content)];
  return message(2, false, 302, body, { index: at.index, tsNs: BigInt(at.ms) * MS });
}

const CURSOR = [100, 114, 9, 2];

/** The cursor blinking on and off every `period` ms, `n` draws from `t0`. */
function blink(n: number, opts: { period: number; t0?: number; first?: number }) {
  return Array.from({ length: n }, (_, i) => ({
    box: CURSOR,
    content: (i + (opts.first ?? 0)) % 2 === 0 ? 0xffffff : 0,
    ms: (opts.t0 ?? 0) + i * opts.period,
  }));
}

function folded(draws: { box: number[]; content: number; ms: number }[]): boolean[] {
  const n = createNormalise();
  const f = new BlinkFolder();
  return draws.map((d, index) => f.fold(n(fill(d.box, { ...d, index }))!));
}

Deno.test("a small box redrawn with two alternating images at a steady period: from the third draw on", () => {
  assert.deepEqual(folded(blink(6, { period: 500 })), [false, false, true, true, true, true]);
});

Deno.test("not a blink: the same image again, an unsteady or too short period, a large box", () => {
  const same = blink(5, { period: 500 }).map((d) => ({ ...d, content: 1 }));
  assert.deepEqual(folded(same), [false, false, false, false, false]);
  const unsteady = blink(4, { period: 500 });
  unsteady[3].ms = unsteady[2].ms + 900;
  assert.deepEqual(folded(unsteady), [false, false, true, false]);
  assert.deepEqual(folded(blink(4, { period: 50 })), [false, false, false, false]);
  const large = blink(4, { period: 500 }).map((d) => ({ ...d, box: [0, 0, 100, 16] }));
  assert.deepEqual(folded(large), [false, false, false, false]);
});

Deno.test("a draw of another shape over the box starts its history over", () => {
  const draws = blink(6, { period: 500 });
  draws.splice(3, 0, { box: [96, 110, 32, 16], content: 5, ms: 1100 });
  assert.deepEqual(folded(draws), [false, false, true, false, false, false, true]);
});

/** A display-only capture of these draws. */
function source(draws: DiffInput[]): DiffSource {
  const ref = { channelType: 2, channelId: 0, file: "display.pcap" };
  return {
    channels: [ref],
    singleFile: false,
    units: (_r, fromClient) => fromArray(fromClient ? [] : [draws]),
  };
}

async function diff(a: DiffInput[], g: DiffInput[], enable: string[]): Promise<DiffSummary> {
  const out: (DiffRecord | DiffSummary)[] = [];
  for await (const r of diffCaptures(source(a), source(g), { enable })) out.push(r);
  return out.at(-1) as DiffSummary;
}

Deno.test("--normalise blink: a run that blinked longer diffs the same; without it, extra draws", async () => {
  const text = (t0: number, index: number) =>
    fill([0, 130, 9, 10], { content: 0x777777, ms: t0, index });
  const mk = (n: number) => [
    ...blink(n, { period: 530, t0: 1000 }).map((d, i) => fill(d.box, { ...d, index: i })),
    text(1000 + n * 530, n),
  ];
  const actual = mk(9);
  const golden = mk(5);
  assert.equal((await diff(actual, golden, ["blink"])).same, true);
  const plain = await diff(actual, golden, []);
  assert.equal(plain.same, false);
});
