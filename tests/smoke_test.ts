import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";

Deno.test("cli rejects an unknown command with exit 2", async () => {
  const io = memoryIo();
  assert.equal(await main(["nope"], io), 2);
});
