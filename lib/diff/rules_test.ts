import assert from "node:assert/strict";
import { BindingMap, compareUnits } from "./compare.ts";
import { createNormalise } from "./normalise.ts";
import type { NormalisedUnit } from "./types.ts";
import { parseRules, RulesError } from "./rules.ts";
import { mainInit, message, u32le } from "../../testing/diff_units.ts";

Deno.test("parseRules() resolves a field name to its byte range", () => {
  const [r] = parseRules(
    JSON.stringify([{ channel: "main", message: "INIT", field: "ramHint", action: "mask" }]),
    "r.json",
  );
  assert.deepEqual(r, {
    channel: 1,
    message: "INIT",
    field: "ramHint",
    start: 28,
    end: 32,
    action: "mask",
  });
});

Deno.test("parseRules() accepts the channel-prefixed name and a range", () => {
  const rules = parseRules(
    JSON.stringify([
      { channel: "main", message: "MAIN_INIT", field: "ramHint", action: "mask" },
      { channel: 2, direction: "toClient", message: "DRAW_COPY", range: [20], action: "mask" },
    ]),
    "r.json",
  );
  assert.equal(rules[0].start, 28);
  assert.deepEqual([rules[1].channel, rules[1].fromClient, rules[1].start, rules[1].end], [
    2,
    false,
    20,
    undefined,
  ]);
});

Deno.test("parseRules() names the file, the rule and the problem", () => {
  const bad: [unknown, RegExp][] = [
    ["{", /r\.json: not valid JSON/],
    [{}, /r\.json: expected a JSON list/],
    [[{ action: "hide" }], /rule 0: 'action' must be "mask" or "ignore"/],
    [[{ action: "mask", channel: "nope" }], /rule 0: unknown channel "nope"/],
    [[{ action: "mask", range: [4, 2] }], /rule 0: 'range' must be/],
    [
      [{ action: "mask", message: "INIT", channel: "main", field: "zzz" }],
      /field "zzz" is not known/,
    ],
    [[{ action: "mask", colour: 1 }], /rule 0: unknown key 'colour'/],
  ];
  for (const [input, re] of bad) {
    const text = typeof input === "string" ? input : JSON.stringify(input);
    assert.throws(() => parseRules(text, "r.json"), (e: unknown) => {
      assert.ok(e instanceof RulesError);
      assert.match(e.message, re);
      return true;
    });
  }
});

Deno.test("a mask rule hides a field difference and an ignore rule drops the message", () => {
  const rules = parseRules(
    JSON.stringify([
      { channel: "main", message: "INIT", field: "ramHint", action: "mask" },
      { channel: "main", message: "CHANNELS_LIST", action: "ignore" },
    ]),
    "r.json",
  );
  const n = createNormalise({ rules });
  const a = n(mainInit(1, 0, 1)) as NormalisedUnit;
  const g = n(mainInit(1, 0, 2)) as NormalisedUnit;
  assert.equal(compareUnits(a, g, { bindings: new BindingMap() }), undefined);
  assert.equal(n(message(1, false, 104, u32le(0))), undefined);
  const plain = createNormalise();
  assert.ok(
    compareUnits(plain(mainInit(1, 0, 1))!, plain(mainInit(1, 0, 2))!, {
      bindings: new BindingMap(),
    }),
  );
});
