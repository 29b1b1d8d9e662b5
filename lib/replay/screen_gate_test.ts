import assert from "node:assert/strict";
import { DEFAULT_CODECS } from "../display/default_codecs.ts";
import type { TimedDisplayMessage } from "../display/session_display.ts";
import { drawFill, surfaceCreate } from "../../testing/display_bodies.ts";
import { isScreenGated, ScreenGate } from "./screen_gate.ts";

const DRAW_FILL = 302;
const box = (left: number, top: number) => ({ top, left, bottom: top + 2, right: left + 2 });
const create = (tsNs: bigint): TimedDisplayMessage => ({
  index: 0,
  type: 314,
  name: "SURFACE_CREATE",
  fromClient: false,
  body: surfaceCreate({ width: 8, height: 8 }),
  tsNs,
});
const fill = (index: number, tsNs: bigint, at: [number, number]): TimedDisplayMessage => ({
  index,
  type: DRAW_FILL,
  name: "DRAW_FILL",
  fromClient: false,
  body: drawFill({ box: box(...at), color: 0xffffff }),
  tsNs,
});

/** Recorded: surface at 10, a fill at 20 (echo of the first key), another at 40. */
const RECORDED = [create(10n), fill(1, 20n, [0, 0]), fill(2, 40n, [4, 4])];

function gate(gatedNs: bigint[], masks = []): ScreenGate {
  return new ScreenGate({
    display: RECORDED,
    cursor: [],
    gatedNs,
    masks,
    t0Ns: 0n,
    codecs: DEFAULT_CODECS,
  });
}

Deno.test("inputs and main's mouse mode and agent data are gated; main's others are not", () => {
  assert.equal(isScreenGated(3, 104), true);
  assert.equal(isScreenGated(3, 3), false);
  assert.equal(isScreenGated(1, 105), true);
  assert.equal(isScreenGated(1, 107), true);
  assert.equal(isScreenGated(1, 104), false);
  assert.equal(isScreenGated(2, 101), false);
});

Deno.test("an input waits until the replayed screen shows what the recording showed", () => {
  const g = gate([5n, 15n, 30n, 31n]);
  assert.equal(g.states.length, 3, "no surface, blank, first fill (30 and 31 share one)");
  assert.equal(g.isReached(5n), true, "no recorded surface: nothing to wait for");
  assert.equal(g.isReached(15n), false);
  g.pushDisplay(create(0n));
  assert.equal(g.isReached(15n), true);
  assert.equal(g.isReached(30n), false);
  g.pushDisplay(fill(1, 0n, [4, 4]));
  assert.equal(g.isReached(30n), false, "a different picture does not count");
  g.pushDisplay(fill(2, 0n, [0, 0]));
  assert.equal(g.isReached(30n), false, "still one extra fill");
});

Deno.test("a state passed before its input is asked about still counts", () => {
  const g = gate([15n, 30n, 50n]);
  g.pushDisplay(create(0n));
  g.pushDisplay(fill(1, 0n, [0, 0]));
  g.pushDisplay(fill(2, 0n, [4, 4]));
  assert.equal(g.isReached(15n), true);
  assert.equal(g.isReached(30n), true, "passed through on the way");
  assert.equal(g.isReached(50n), true);
});

Deno.test("a screen rule masks the area that differs, within its time window", () => {
  const rect = { top: 4, left: 4, bottom: 6, right: 6 };
  const g = gate([30n, 50n], [{ rect, fromNs: 45n }] as never);
  g.pushDisplay(create(0n));
  g.pushDisplay(fill(1, 0n, [0, 0]));
  assert.equal(g.isReached(30n), true);
  assert.equal(g.isReached(50n), true, "the second fill is masked at 50");
  const early = gate([30n, 50n], [{ rect, untilNs: 45n }] as never);
  early.pushDisplay(create(0n));
  early.pushDisplay(fill(1, 0n, [0, 0]));
  assert.equal(early.isReached(50n), false, "the mask ended before 50");
});
