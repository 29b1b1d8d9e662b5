import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import { runClient } from "../harness/processes/clients.ts";
import { captureChild, captureInProcess, pollUntil, unitsOf } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

const skip = missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined;
const skipX = missingTools("qemu-system-x86_64", "spicy", "xvfb-run") !== undefined;

/** Runs spicy-screenshot through the proxy and waits for it. */
async function screenshot(port: number, dir: string): Promise<number> {
  const c = await runClient("spicy-screenshot", {
    host: "127.0.0.1",
    port,
    outFile: `${dir}/shot.ppm`,
  });
  return (await c.exited).code;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return undefined;
  }
}

Deno.test({
  name: "capture exits 0 on SIGINT and writes stoppedBy into session.json",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    const cap = captureChild(["-o", dir]);
    try {
      const port = await cap.port;
      assert.equal(await screenshot(port, tmp), 0);
      cap.child.kill("SIGINT");
      const status = await cap.status;
      assert.equal(status.code, 0, cap.stderr());
      const manifest = await readManifest(dir);
      assert.equal(manifest.stoppedBy, "signal");
      assert.equal(manifest.complete, true);
      assert.ok(cap.stderr().includes(`session: ${dir}`), "the summary names the directory");
      const { units, problems } = await unitsOf(`${dir}/main.pcap`);
      assert.deepEqual(problems, []);
      assert.ok(units.some((u) => u.kind === "message" && u.name === "CHANNELS_LIST"));
      const pid = cap.qemuPid()!;
      assert.throws(() => Deno.kill(pid, "SIGCONT"), "QEMU was stopped");
    } finally {
      await cap.status;
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture files stay readable up to the cut after SIGKILL",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    const cap = captureChild(["-o", dir]);
    let qemuPid: number | undefined;
    try {
      const port = await cap.port;
      qemuPid = cap.qemuPid();
      assert.equal(await screenshot(port, tmp), 0);
      // The session flushes every second: wait for main.pcap to hold the big ping.
      await pollUntil(
        async () => ((await fileSize(`${dir}/main.pcap`)) ?? 0) > 256_000 ? true : undefined,
        5000,
        "main.pcap to be flushed",
      );
      cap.child.kill("SIGKILL");
      await cap.status;
      let records = 0;
      for await (const _ of readCaptureFile(`${dir}/main.pcap`)) records++;
      assert.ok(records >= 20, `${records} packets readable`);
      const manifest = await readManifest(dir);
      assert.equal(manifest.complete, false, "the provisional manifest says incomplete");
    } finally {
      await cap.status;
      if (qemuPid !== undefined) {
        try {
          Deno.kill(qemuPid, "SIGKILL"); // orphaned by the SIGKILL; we started it
        } catch {
          // already gone
        }
      }
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture survives a killed client and records the next one",
  ignore: skipX,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    const cap = captureInProcess(["-o", dir, "--json"]);
    try {
      const port = await cap.port();
      const spicy = await runClient("spicy", { host: "127.0.0.1", port });
      try {
        // Wait until spicy's display channel is past DISPLAY_INIT (the server's SET_ACK is in
        // the flushed file): killing a client between the display link and DISPLAY_INIT can
        // crash QEMU itself (docs/protocol.md "Live duties of a replayer"), which is not what
        // this test is about.
        await pollUntil(
          async () => {
            const units = await unitsOf(`${dir}/display.pcap`).then((r) => r.units, () => []);
            return units.some((u) => u.kind === "message" && u.name === "SET_ACK")
              ? true
              : undefined;
          },
          10_000,
          "spicy's display channel to get SET_ACK",
        );
        spicy.kill("SIGKILL");
        const status = await spicy.exited;
        assert.notEqual(status.code, 0, "spicy was killed");
      } finally {
        await spicy.stop();
      }
      assert.equal(await screenshot(port, tmp), 0, "a new client works through the same proxy");
      cap.interrupt();
      assert.equal(await cap.done, 0, cap.io.stderr());
      const manifest = await readManifest(dir);
      const main = manifest.channels.find((c) => c.typeName === "main")!;
      assert.equal(main.connections.length, 2, "two main connections");
      assert.equal(manifest.stoppedBy, "signal");
    } finally {
      cap.interrupt();
      await cap.done.catch(() => 2);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture stops cleanly when its QEMU dies mid-session",
  ignore: skipX,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    const cap = captureInProcess(["--client", "spicy", "-o", dir, "--duration", "30"]);
    try {
      await cap.port();
      const pid = await pollUntil(
        () => {
          const m = /QEMU pid (\d+)/.exec(cap.io.stderr());
          return m ? Number(m[1]) : undefined;
        },
        5000,
        "the QEMU pid on stderr",
      );
      await pollUntil(
        async () => (await fileSize(`${dir}/display.pcap`)) !== undefined ? true : undefined,
        10_000,
        "spicy to link its display channel",
      );
      Deno.kill(pid, "SIGKILL");
      assert.equal(await cap.done, 0, cap.io.stderr());
      const manifest = await readManifest(dir);
      assert.equal(manifest.stoppedBy, "server-exit");
      assert.equal(manifest.complete, true);
      const { problems } = await unitsOf(`${dir}/main.pcap`);
      assert.deepEqual(problems, []);
    } finally {
      cap.interrupt();
      await cap.done.catch(() => 2);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
