import assert from "node:assert/strict";
import {
  bitNames,
  BUTTON_BITS,
  keyCodeEvents,
  keyEventText,
  scancodeEvents,
  TypedText,
} from "./scancodes.ts";

Deno.test("scancodes are named with their wire byte and direction", () => {
  assert.deepEqual(scancodeEvents([0x12, 0x92]).map(keyEventText), ["0x12 e↓", "0x92 e↑"]);
  assert.deepEqual(scancodeEvents([0xe0, 0x48]).map(keyEventText), ["0xe0 0x48 Up↓"]);
  assert.deepEqual(keyCodeEvents(0x1de0).map(keyEventText), ["0xe0 0x1d RCtrl↓"]);
  assert.equal(bitNames(5, BUTTON_BITS), "left|right");
  assert.equal(bitNames(0, BUTTON_BITS), "none");
});

Deno.test("typed text follows Shift, Caps Lock and Backspace on a US layout", () => {
  const t = new TypedText();
  const press = (...codes: number[]) => scancodeEvents(codes).forEach((e) => t.push(e));
  press(0x12, 0x92, 0x2a, 0x34, 0xb4, 0xaa, 0x3a, 0xba, 0x1e, 0x9e, 0x0e, 0x8e, 0x30, 0x1c);
  assert.equal(t.text, "e>B\n");
});
