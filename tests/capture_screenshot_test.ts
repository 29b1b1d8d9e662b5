import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { main } from "../harness/cli.ts";
import { ppmInfo } from "../harness/processes/clients.ts";
import { memoryIo } from "../harness/io.ts";
import { captureFiles, captureInProcess, tshark, unitsOf } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

const skip = missingTools("qemu-system-x86_64", "spicy-screenshot", "tshark") !== undefined;

Deno.test({
  name: "capture records spicy-screenshot against its own QEMU and tshark reads the same messages",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    try {
      const cap = captureInProcess(["--client", "spicy-screenshot", "-o", dir, "--json"]);
      const code = await cap.done;
      assert.equal(code, 0, cap.io.stderr());
      const summary = JSON.parse(cap.io.stdout());
      assert.equal(summary.stoppedBy, "client-exit");
      assert.equal(summary.client.exitCode, 0, cap.io.stderr());

      const shot = ppmInfo(await Deno.readFile(`${dir}/screenshot.ppm`));
      assert.ok(shot.width > 0 && shot.nonBlack, "the screenshot shows something");

      assert.deepEqual(await captureFiles(dir), ["display.pcap", "main.pcap"]);
      const manifest = await readManifest(dir);
      assert.equal(manifest.complete, true);
      assert.equal(manifest.stoppedBy, "client-exit");
      assert.deepEqual(manifest.scrubbed, ["ticket"]);
      assert.equal(typeof manifest.sessionId, "number");
      assert.ok(manifest.server && manifest.server.commandLine[0] === "qemu-system-x86_64");
      assert.ok((manifest.server.firstConnectionDelayMs ?? -1) >= 0);

      for (const file of ["main.pcap", "display.pcap"]) {
        const path = `${dir}/${file}`;
        const { units, problems } = await unitsOf(path);
        assert.deepEqual(problems, [], `${file} reads back cleanly`);
        const ours = units.filter((u) => u.kind === "message").map((u) => String(u.type));
        const theirs =
          (await tshark(["-r", path, "-Y", "spice", "-T", "fields", "-e", "spice.message_type"]))
            .flatMap((l) => l.split(","));
        assert.ok(theirs.length > 0, `tshark decodes SPICE in ${file}`);
        assert.deepEqual(theirs, ours, `tshark and our framer see the same messages in ${file}`);
        const ticket = units.find((u) => u.kind === "ticket");
        assert.ok(ticket && ticket.bytes.every((b) => b === 0), `${file}: ticket scrubbed`);
      }
      const mainTypes = (await unitsOf(`${dir}/main.pcap`)).units.map((u) =>
        u.kind === "message" ? u.name : u.kind
      );
      assert.deepEqual(mainTypes.slice(0, 6), [
        "link",
        "linkReply",
        "authMechanism",
        "ticket",
        "linkResult",
        "INIT",
      ]);
      const sessionIds = await tshark([
        "-r",
        `${dir}/main.pcap`,
        "-Y",
        "spice.main_session_id",
        "-T",
        "fields",
        "-e",
        "spice.main_session_id",
      ]);
      assert.equal(sessionIds.length, 1, "one MAIN_INIT with a session id");
      const checkIo = memoryIo();
      assert.equal(await main(["check", dir], checkIo), 0, checkIo.stdout() + checkIo.stderr());
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
