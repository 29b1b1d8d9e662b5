/**
 * README.md's Library example, run as it is: tests/fixture_api_test.ts checks that the README's
 * code block is the rest of this file after this comment, byte for byte.
 */
import assert from "node:assert/strict";
import { assertMatchesGolden, readSession, replay } from "@spicecap/spicecap";

Deno.test("a replayed golden session matches the golden", async () => {
  await using run = await replay("fixtures/golden/screenshot");
  assert.equal(run.status, 0, run.divergence);
  await assertMatchesGolden(run.dir, "fixtures/golden/screenshot");
  const messages = await Array.fromAsync(readSession(run.dir));
  const init = messages.find((m) => m.channel === "main" && m.name === "INIT");
  assert.equal(init?.fields?.currentMouseMode, 1);
});
