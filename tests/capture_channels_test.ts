import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import {
  captureFiles,
  captureInProcess,
  tshark,
  unitsOf,
  untilRecorded,
} from "../testing/capture_harness.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";
import { missingTools } from "../harness/processes/tools.ts";

const skip = missingTools("qemu-system-x86_64", "spicy", "xvfb-run", "tshark") !== undefined;

Deno.test({
  name: "capture records every channel of spicy under Xvfb as pcapng with per-message comments",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    const cap = captureInProcess([
      ...["--client", "spicy", "--channels", "all"],
      ...["--format", "pcapng", "-o", dir],
    ]);
    try {
      // What the assertions below read: every channel linked, main's INIT, DISPLAY_INIT and
      // usbredir DATA recorded. Then stop the capture as Ctrl-C would.
      const message = (name: string, fromClient: boolean) => (u: SpiceUnit) =>
        u.kind === "message" && u.name === name && u.fromClient === fromClient;
      await untilRecorded(dir, {
        files: {
          "main.pcapng": { has: message("INIT", false) },
          "display.pcapng": { has: message("INIT", true) },
          "inputs.pcapng": {},
          "cursor.pcapng": {},
          "playback.pcapng": {},
          "record.pcapng": {},
          "usbredir.pcapng": { has: (u) => u.kind === "message" && u.name === "DATA" },
        },
      });
      cap.interrupt();
      assert.equal(await cap.done, 0, cap.io.stderr());
      const files = await captureFiles(dir);
      for (
        const name of ["main", "display", "inputs", "cursor", "playback", "record", "usbredir"]
      ) {
        assert.ok(files.includes(`${name}.pcapng`), `${name}.pcapng in ${files.join(", ")}`);
      }
      const manifest = await readManifest(dir);
      assert.equal(manifest.stoppedBy, "signal");
      assert.equal(manifest.captureFormat, "pcapng");

      const comments = await tshark([
        "-r",
        `${dir}/main.pcapng`,
        "-T",
        "fields",
        "-e",
        "frame.comment",
      ]);
      assert.deepEqual(comments.slice(0, 6), [
        "main → link",
        "main ← link reply",
        "main → auth mechanism",
        "main → ticket",
        "main ← link result",
        "main ← INIT",
      ]);
      const display = await tshark([
        "-r",
        `${dir}/display.pcapng`,
        "-T",
        "fields",
        "-e",
        "frame.comment",
      ]);
      assert.ok(display.includes("display → INIT"), "DISPLAY_INIT commented");
      const usbredir = await unitsOf(`${dir}/usbredir.pcapng`);
      assert.deepEqual(usbredir.problems, []);
      assert.ok(
        usbredir.units.some((u) => u.kind === "message" && u.name === "DATA"),
        "usbredir DATA recorded",
      );
    } finally {
      cap.interrupt();
      await cap.done.catch(() => 2);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
