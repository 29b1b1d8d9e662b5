import assert from "node:assert/strict";
import { reserveXServerNumber } from "./x_server.ts";

Deno.test("reserveXServerNumber() never gives one number twice, even when asked at once", async () => {
  const taken = await Promise.all(Array.from({ length: 32 }, () => reserveXServerNumber()));
  try {
    assert.equal(new Set(taken.map((t) => t.number)).size, taken.length);
  } finally {
    for (const t of taken) await t.release();
  }
});

Deno.test("reserveXServerNumber() takes over a number whose holder is gone", async () => {
  const first = await reserveXServerNumber();
  const lock = `/tmp/spicecap-x${first.number}.lock`;
  // pid 2^22 + 1 is above Linux's pid_max: no such process
  await Deno.writeTextFile(lock, `${2 ** 22 + 1}\n`);
  const again = await reserveXServerNumber();
  try {
    assert.equal(again.number, first.number, "the stale lock was removed and the number reused");
    assert.equal((await Deno.readTextFile(lock)).trim(), String(Deno.pid));
  } finally {
    await again.release();
  }
});
