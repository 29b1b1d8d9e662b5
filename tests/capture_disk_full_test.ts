/**
 * A capture file that cannot be written (here: display.pcap is /dev/full, so every write fails
 * with ENOSPC) never breaks the session it watches: the client still gets its screenshot, the
 * other channels are recorded and check out, the failure is reported once and counted.
 */
import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { ppmInfo } from "../harness/processes/clients.ts";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { captureInProcess } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

Deno.test({
  name: "capture keeps the session going when a channel's file fails (disk full)",
  ignore: missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    try {
      await Deno.mkdir(dir, { mode: 0o700 });
      await Deno.symlink("/dev/full", `${dir}/display.pcap`);
      const cap = captureInProcess(["--client", "spicy-screenshot", "-o", dir, "--json"]);
      const code = await cap.done;
      assert.equal(code, 1, `capture errors give exit 1: ${cap.io.stderr()}`);
      const summary = JSON.parse(cap.io.stdout());
      assert.equal(summary.client.exitCode, 0, "the client finished its session");
      const shot = ppmInfo(await Deno.readFile(`${dir}/screenshot.ppm`));
      assert.ok(shot.nonBlack, "the screenshot came through the proxy");

      const manifest = await readManifest(dir);
      const display = manifest.channels.find((c) => c.typeName === "display")!;
      assert.ok(display.errors >= 1);
      assert.deepEqual(manifest.errors.length, 1, "the failure is reported once");
      assert.match(manifest.errors[0], /display\.pcap: .*(No space left|os error 28)/i);
      const warnings = cap.io.stderr().match(/display\.pcap: [^\n]*No space left/gi) ?? [];
      assert.equal(warnings.length, 1, cap.io.stderr());

      // main was recorded whole: check passes on its file.
      const io = memoryIo();
      assert.equal(await main(["check", `${dir}/main.pcap`], io), 0, io.stdout() + io.stderr());
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
