/**
 * Children die with spicecap: a SIGKILL of `capture` or `replay` (which cannot clean up) still
 * takes its QEMU down (parent-death signal), and leaves no static guest image in the temp dir.
 */
import assert from "node:assert/strict";
import { captureChild, pollUntil } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { STATIC_GUEST_MARKER } from "../harness/processes/guest.ts";
import { descendantPids as descendants, isRunning as alive } from "../harness/regress/procs.ts";
import { entryExists } from "../harness/exists.ts";

const skip = missingTools("qemu-system-x86_64", "setpriv") !== undefined;
const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
const GOLDEN = new URL("../fixtures/golden/screenshot", import.meta.url).pathname;

/** The argv of a running process. */
function cmdline(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/** The directory of the static guest image on a QEMU command line. */
function imageDir(argv: string[]): string {
  const drive = argv.find((a) => a.includes(STATIC_GUEST_MARKER));
  assert.ok(drive, `a static guest drive in ${argv.join(" ")}`);
  const path = /file=([^,]+)/.exec(drive)![1];
  return path.slice(0, path.lastIndexOf("/"));
}

/** SIGKILLs `child`, then asserts its QEMU goes too and no image is left. */
async function killAndCheck(child: Deno.ChildProcess, qemuPid: number): Promise<void> {
  const dir = imageDir(cmdline(qemuPid));
  child.kill("SIGKILL");
  await child.status;
  await pollUntil(() => alive(qemuPid) ? undefined : true, 10_000, `QEMU ${qemuPid} to die`);
  assert.equal(entryExists(dir), false, `the static guest image's directory ${dir} is gone`);
}

Deno.test({
  name: "SIGKILL of capture takes its QEMU down and leaves no guest image behind",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-lifetime-" });
    const cap = captureChild(["-o", `${tmp}/s`, "--guest", "static"]);
    let qemuPid: number | undefined;
    try {
      await cap.port;
      qemuPid = cap.qemuPid()!;
      assert.ok(alive(qemuPid));
      await killAndCheck(cap.child, qemuPid);
    } finally {
      if (qemuPid !== undefined && alive(qemuPid)) Deno.kill(qemuPid, "SIGKILL");
      await cap.status;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "SIGKILL of replay takes its QEMU down and leaves no guest image behind",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-lifetime-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "replay", GOLDEN, "--out", `${tmp}/r`, "--speed", "realtime"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let qemuPid: number | undefined;
    try {
      // Started: QEMU runs, holds its image open, and the image's directory is gone already.
      qemuPid = await pollUntil(
        () =>
          descendants(child.pid).find((p) => {
            const argv = cmdline(p);
            return argv[0]?.includes("qemu-system") && !entryExists(imageDir(argv));
          }),
        20_000,
        "the replay's QEMU",
      );
      await killAndCheck(child, qemuPid);
    } finally {
      if (qemuPid !== undefined && alive(qemuPid)) Deno.kill(qemuPid, "SIGKILL");
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
      await child.status;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
