import assert from "node:assert/strict";
import { DisplayModel } from "./display_model.ts";
import { DEFAULT_CODECS } from "./default_codecs.ts";
import { renderFrames } from "./timeline.ts";
import type { TimedDisplayMessage } from "./session_display.ts";
import { drawFill, surfaceCreate } from "../../testing/display_bodies.ts";

const BOX = { top: 0, left: 0, bottom: 1, right: 1 };
const MESSAGES: TimedDisplayMessage[] = [
  {
    index: 0,
    type: 314,
    name: "SURFACE_CREATE",
    body: surfaceCreate({ width: 1, height: 1 }),
    tsNs: 10n,
  },
  {
    index: 1,
    type: 302,
    name: "DRAW_FILL",
    body: drawFill({ box: BOX, color: 0x0000ff }),
    tsNs: 20n,
  },
  { index: 2, type: 102, name: "MARK", body: new Uint8Array(), tsNs: 20n },
  {
    index: 3,
    type: 302,
    name: "DRAW_FILL",
    body: drawFill({ box: BOX, color: 0x00ff00 }),
    tsNs: 30n,
  },
].map((m) => ({ ...m, fromClient: false }));

Deno.test("renderFrames() takes --at frames after messages up to T, input frames before T", () => {
  const frames = [
    ...renderFrames(new DisplayModel({ codecs: DEFAULT_CODECS }), {
      messages: MESSAGES,
      request: { atNs: [5n, 20n], beforeNs: [30n], marks: true, final: true },
    }),
  ];
  const summary = frames.map((f) => [f.reason, f.messageIndex, f.snapshot?.pixels[2]]);
  assert.deepEqual(summary, [
    ["at", -1, undefined],
    ["mark", 2, 0xff],
    ["at", 2, 0xff],
    ["before-input", 2, 0xff],
    ["final", 3, 0],
  ]);
});
