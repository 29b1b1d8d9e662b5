import assert from "node:assert/strict";
import { DEFAULT_CODECS } from "../display/default_codecs.ts";
import { decodePpm, encodePpm } from "../display/image_files.ts";
import { readDisplaySession, type TimedDisplayMessage } from "../display/session_display.ts";
import {
  consoleShows,
  consoleSnapshot,
  firstRecordedScreen,
  firstScreenMasks,
  opaque,
  QUIET_NS,
} from "./first_screen.ts";

const GOLDEN = new URL("../../fixtures/golden/screenshot", import.meta.url).pathname;
/** The golden's display: SET_ACK, INVAL_ALL_PALETTES, SURFACE_CREATE, DRAW_COPY, MONITORS_CONFIG, MARK. */
const recorded = (await readDisplaySession(GOLDEN)).messages;
const server = recorded.filter((m) => !m.fromClient);
const at = (name: string) => server.find((m) => m.name === name)!;
const later = (m: TimedDisplayMessage, ns: bigint) => ({ ...m, tsNs: m.tsNs + ns });

Deno.test("the first screen ends at the first MARK after SURFACE_CREATE: the whole 720×400 screen", () => {
  const first = firstRecordedScreen(recorded, DEFAULT_CODECS)!;
  assert.equal(first.endedBy, "mark");
  assert.equal(first.tsNs, at("MARK").tsNs);
  assert.equal(first.serverMessages, 6);
  assert.deepEqual([first.snapshot.width, first.snapshot.height], [720, 400]);
  assert.ok(first.snapshot.pixels.some((v, i) => i % 4 !== 3 && v !== 0), "text was drawn");
});

Deno.test("a long wait before SURFACE_CREATE does not end the burst; after it, quiet does", () => {
  const slowCreate = recorded.map((
    m,
    i,
  ) => (i >= recorded.indexOf(at("SURFACE_CREATE")) ? later(m, 5n * QUIET_NS) : m));
  assert.equal(firstRecordedScreen(slowCreate, DEFAULT_CODECS)!.endedBy, "mark");
  // no MARK, and the next draw comes after the display went quiet
  const noMark = recorded.filter((m) => m.name !== "MARK");
  const redraw = { ...at("DRAW_COPY"), tsNs: at("MONITORS_CONFIG").tsNs + QUIET_NS };
  const quiet = firstRecordedScreen([...noMark, redraw], DEFAULT_CODECS)!;
  assert.equal(quiet.endedBy, "quiet");
  assert.equal(quiet.tsNs, at("MONITORS_CONFIG").tsNs);
  assert.equal(quiet.serverMessages, 5);
  const end = firstRecordedScreen(noMark, DEFAULT_CODECS)!;
  assert.equal(end.endedBy, "end");
  assert.deepEqual(end.snapshot.pixels, quiet.snapshot.pixels);
});

Deno.test("no primary surface ever created: no first screen (nothing to wait for)", () => {
  const before = recorded.filter((m) => m.name === "SET_ACK" || m.name === "INVAL_ALL_PALETTES");
  assert.equal(firstRecordedScreen(before, DEFAULT_CODECS), undefined);
  assert.equal(firstRecordedScreen([], DEFAULT_CODECS), undefined);
});

Deno.test("the console matches in RGB at the recorded size only; masks and unknown regions skipped", () => {
  const first = firstRecordedScreen(recorded, DEFAULT_CODECS)!;
  const want = opaque(first.snapshot);
  const ppm = decodePpm(encodePpm(first.snapshot));
  assert.ok(consoleShows(want, consoleSnapshot(ppm)), "a screendump of the same screen matches");
  // another alpha in the recording does not matter: RGB only
  const translucent = {
    ...first.snapshot,
    pixels: first.snapshot.pixels.map((v, i) => (i % 4 === 3 ? 0 : v)),
  };
  assert.ok(consoleShows(opaque(translucent), consoleSnapshot(ppm)));
  const changed = { ...ppm, rgb: ppm.rgb.slice() };
  changed.rgb[(10 * 720 + 20) * 3] ^= 0xff;
  assert.equal(consoleShows(want, consoleSnapshot(changed)), false);
  const box = { top: 10, left: 20, bottom: 11, right: 21 };
  assert.ok(consoleShows(want, consoleSnapshot(changed), { masks: [box] }), "masked");
  assert.ok(consoleShows({ ...want, unknown: [box] }, consoleSnapshot(changed)), "unknown");
  const vga = { width: 640, height: 480, rgb: new Uint8Array(640 * 480 * 3) };
  assert.equal(consoleShows(want, consoleSnapshot(vga)), false, "another size never matches");
});

Deno.test("firstScreenMasks() takes the screen rules in force at the first screen's time", () => {
  const first = firstRecordedScreen(recorded, DEFAULT_CODECS)!;
  const t0 = first.tsNs - 1_000_000_000n;
  const rect = { top: 0, left: 0, bottom: 16, right: 720 };
  const masks = [
    { rect },
    { rect: { ...rect, top: 100 }, fromNs: 2_000_000_000n },
    { rect: { ...rect, top: 200 }, surface: 5 },
  ];
  assert.deepEqual(firstScreenMasks(first, { masks, t0Ns: t0 }), [rect]);
});
