/**
 * One Ctrl-C is one Ctrl-C: a terminal signals the whole process group (and `deno task` forwards
 * the signal again), so signals arriving together stop the capture cleanly, once.
 */
import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { interruptCounter, SAME_INTERRUPT_MS } from "../harness/interrupts.ts";
import { captureChild, pollUntil } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

const skip = missingTools("qemu-system-x86_64", "setsid") !== undefined;
const ROOT = new URL("..", import.meta.url).pathname;
const URL_PATTERN = /recorded at spice:\/\//;

Deno.test("interruptCounter() counts a burst once and a later signal as the second", () => {
  let t = 0;
  const calls: string[] = [];
  const onSignal = interruptCounter({
    onFirst: () => calls.push("first"),
    onSecond: () => calls.push("second"),
    now: () => t,
  });
  onSignal();
  t = 5;
  onSignal(); // deno task's forwarded copy
  t = SAME_INTERRUPT_MS - 1;
  onSignal();
  assert.deepEqual(calls, ["first"]);
  t = SAME_INTERRUPT_MS + 200;
  onSignal();
  assert.deepEqual(calls, ["first", "second"]);
});

async function assertCompleteSession(dir: string): Promise<void> {
  const manifest = await readManifest(dir);
  assert.equal(manifest.complete, true, "one Ctrl-C stops cleanly");
  assert.equal(manifest.stoppedBy, "signal");
}

Deno.test({
  name: "Ctrl-C to the process group of `deno task capture` stops it cleanly (exit 0)",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-interrupt-" });
    const dir = `${tmp}/s`;
    // setsid: its own process group, as a terminal's foreground job has
    const child = new Deno.Command("setsid", {
      args: [Deno.execPath(), "task", "capture", "-o", dir],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let stderr = "";
    const drained = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of child.stderr) stderr += decoder.decode(chunk, { stream: true });
    })();
    try {
      await pollUntil(() => URL_PATTERN.test(stderr) ? true : undefined, 20_000, "capture URL");
      Deno.kill(-child.pid, "SIGINT"); // the whole group, as the terminal does
      const status = await child.status;
      await drained;
      assert.equal(status.code, 0, stderr);
      await assertCompleteSession(dir);
    } finally {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // exited
      }
      await child.status;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "two SIGINTs 50 ms apart count as one Ctrl-C",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-interrupt-" });
    const dir = `${tmp}/s`;
    const cap = captureChild(["-o", dir]);
    try {
      await cap.port;
      cap.child.kill("SIGINT");
      // the stimulus is the spacing itself, not a wait for a condition
      await new Promise((r) => setTimeout(r, 50));
      try {
        cap.child.kill("SIGINT");
      } catch {
        // already exited: it certainly did not count twice
      }
      const status = await cap.status;
      assert.equal(status.code, 0, cap.stderr());
      await assertCompleteSession(dir);
    } finally {
      await cap.status;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
