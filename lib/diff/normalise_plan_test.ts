import assert from "node:assert/strict";
import { nameMatches } from "./normalise_plan.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import { LINK_UNIT_NAMES } from "../spice/types.ts";

Deno.test("nameMatches() takes a message name with or without its channel prefix", () => {
  const init = { channelType: CHANNEL_TYPES.main, name: "INIT" };
  for (const given of ["INIT", "init", "MAIN_INIT", "main_init"]) {
    assert.ok(nameMatches(given, init), given);
  }
  assert.ok(!nameMatches("DISPLAY_INIT", init));
  assert.ok(!nameMatches("PING", init));
});

Deno.test("nameMatches() spells link-phase units like messages, and still takes their kind", () => {
  const reply = { channelType: CHANNEL_TYPES.inputs, name: LINK_UNIT_NAMES.linkReply };
  for (const given of ["LINK_REPLY", "link_reply", "linkReply", "INPUTS_LINK_REPLY"]) {
    assert.ok(nameMatches(given, reply), given);
  }
  assert.ok(!nameMatches("LINK", reply));
  assert.ok(!nameMatches("LINK_RESULT", reply));
});
