/**
 * SIGINT stops `replay` cleanly at any point: while its QEMU boots and in the middle of the
 * replay. It exits 130, session.json says `replay.interrupted`, nothing is reported as a
 * divergence, and the QEMU it started is gone.
 */
import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { pollUntil } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { isRunning as alive, qemuDescendants } from "../harness/regress/procs.ts";
import { entryExists } from "../harness/exists.ts";

const skip = missingTools("qemu-system-x86_64") !== undefined;
const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
const GOLDEN = new URL("../fixtures/golden/screenshot", import.meta.url).pathname;

/** A QEMU among `pid`'s descendants, if one runs. */
const qemuUnder = (pid: number): number | undefined => qemuDescendants(pid)[0];

/**
 * Starts `replay` of the golden screenshot session, waits until `ready` (given the QEMU pid),
 * sends SIGINT and checks the clean stop.
 */
async function interruptReplay(ready: (qemuPid: number, out: string) => boolean): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-replay-int-" });
  const out = `${tmp}/r`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "replay", GOLDEN, "--out", out, "--speed", "realtime"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout = new Response(child.stdout).text();
  const stderr = new Response(child.stderr).text();
  let qemuPid: number | undefined;
  try {
    qemuPid = await pollUntil(() => qemuUnder(child.pid), 20_000, "the replay's QEMU");
    await pollUntil(() => ready(qemuPid!, out) || undefined, 20_000, "the moment to interrupt");
    child.kill("SIGINT");
    const status = await child.status;
    const text = `${await stdout}${await stderr}`;
    assert.equal(status.code, 130, text);
    assert.doesNotMatch(text, /diverged/);
    assert.match(text, /interrupted/);
    const manifest = await readManifest(out);
    assert.equal(manifest.replay?.interrupted, true);
    assert.equal(manifest.replay?.diverged, null);
    assert.equal(manifest.complete, true);
    await pollUntil(() => alive(qemuPid!) ? undefined : true, 15_000, `QEMU ${qemuPid} to go`);
  } finally {
    if (qemuPid !== undefined && alive(qemuPid)) Deno.kill(qemuPid, "SIGKILL");
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await child.status;
    await Promise.all([stdout, stderr]);
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test({
  name: "SIGINT while the replay's QEMU boots: exit 130, interrupted in session.json, QEMU gone",
  ignore: skip,
  fn: () => interruptReplay(() => true),
});

Deno.test({
  name: "SIGINT in the middle of a replay: exit 130, interrupted, no divergence, QEMU gone",
  ignore: skip,
  // The replay's session exists once the server is up and linking starts.
  fn: () => interruptReplay((_pid, out) => entryExists(`${out}/session.json`)),
});
