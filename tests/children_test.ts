import assert from "node:assert/strict";
import { killChildrenNow, trackChild } from "../harness/processes/children.ts";

Deno.test("killChildrenNow() kills the whole process group of every tracked child", async () => {
  // A shell whose own child would outlive it if only the shell were killed.
  const child = new Deno.Command("sh", {
    args: ["-c", "sleep 30 & echo $!; wait"],
    stdout: "piped",
    detached: true,
  }).spawn();
  trackChild(child);
  const reader = child.stdout.getReader();
  const { value } = await reader.read();
  const grandchild = Number(new TextDecoder().decode(value).trim());
  reader.releaseLock();
  killChildrenNow();
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  await child.stdout.cancel();
  // The grandchild shared the group, so it got SIGKILL too (poll: the kernel reaps it async).
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const stat = await Deno.readTextFile(`/proc/${grandchild}/stat`).catch(() => "");
    if (stat === "" || stat.split(" ")[2] === "Z") return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`sleep ${grandchild} is still running after killChildrenNow()`);
});
