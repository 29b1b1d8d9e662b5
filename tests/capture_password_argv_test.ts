/**
 * The SPICE password never sits in a process's arguments (`ps`, /proc/PID/cmdline): QEMU reads
 * it from a `secret,file=` object and remote-viewer from a `.vv` file, both removed once read.
 */
import assert from "node:assert/strict";
import { u32le } from "../lib/bytes.ts";
import { captureInProcess, pollUntil, unitsOf } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

const skip = missingTools("qemu-system-x86_64", "remote-viewer", "xvfb-run") !== undefined;
const PASSWORD = "s3cret,pass word";

/** Pids whose command line holds `needle`, with the command line. */
function processesHolding(needle: string): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ");
      if (argv.includes(needle)) found.push(`${entry.name}: ${argv}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function linkResults(path: string): Promise<number[] | undefined> {
  try {
    const { units } = await unitsOf(path);
    const results = units.filter((u) => u.kind === "linkResult").map((u) => u32le(u.bytes, 0));
    return results.length > 0 ? results : undefined;
  } catch {
    return undefined;
  }
}

Deno.test({
  name: "a password-protected capture keeps the password out of every process's arguments",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-password-" });
    const dir = `${tmp}/session`;
    const cap = captureInProcess([
      ...["--password", PASSWORD, "--client", "remote-viewer", "-o", dir, "--duration", "30"],
    ]);
    try {
      await cap.port();
      // remote-viewer has linked main (the flushed file holds its link result) and still runs.
      const results = await pollUntil(
        () => linkResults(`${dir}/main.pcap`),
        20_000,
        `remote-viewer's main link (stderr: ${cap.io.stderr()})`,
      );
      assert.deepEqual(results, [0], "the password was accepted");
      const qemuPid = Number(/QEMU pid (\d+)/.exec(cap.io.stderr())![1]);
      const qemuArgv = Deno.readTextFileSync(`/proc/${qemuPid}/cmdline`).split("\0");
      assert.ok(qemuArgv.some((a) => /^secret,id=spsec,file=/.test(a)), qemuArgv.join(" "));
      // The password and its QEMU-escaped form: in no process's arguments.
      assert.deepEqual(processesHolding(PASSWORD), []);
      assert.deepEqual(processesHolding(PASSWORD.replaceAll(",", ",,")), []);
      assert.deepEqual(processesHolding("s3cret"), []);
      cap.interrupt();
      assert.equal(await cap.done, 0, cap.io.stderr());
      assert.ok(!cap.io.stderr().includes("s3cret"), "the password is not printed");
    } finally {
      cap.interrupt();
      await cap.done.catch(() => 2);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
