import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { u32le } from "../lib/bytes.ts";
import { startQemu } from "../harness/processes/qemu.ts";
import { captureInProcess, tshark, unitsOf } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

const skip = missingTools("qemu-system-x86_64", "spicy-screenshot", "tshark") !== undefined;

Deno.test({
  name: "capture links through the proxy with the right password",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    try {
      const cap = captureInProcess([
        ...["--client", "spicy-screenshot", "--password", "pa,ss word", "-o", dir, "--json"],
      ]);
      assert.equal(await cap.done, 0, cap.io.stderr());
      assert.equal(JSON.parse(cap.io.stdout()).client.exitCode, 0, cap.io.stderr());
      assert.ok(!cap.io.stderr().includes("pa,ss word"), "the password is not printed");
      const results = (await unitsOf(`${dir}/main.pcap`)).units.filter((u) =>
        u.kind === "linkResult"
      );
      assert.deepEqual(results.map((u) => u32le(u.bytes, 0)), [0]);
      const ticket = (await unitsOf(`${dir}/display.pcap`)).units.find((u) => u.kind === "ticket");
      assert.ok(ticket?.bytes.every((b) => b === 0), "ticket scrubbed");
      const manifestText = await Deno.readTextFile(`${dir}/session.json`);
      assert.ok(!manifestText.includes("pa,,ss word"), "the password is not in session.json");
      const manifest = await readManifest(dir);
      assert.deepEqual(manifest.scrubbed, ["ticket", "password"]);
      assert.ok(manifest.server?.commandLine.includes("secret,id=spsec,data=<redacted>"));
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture records the refusal of a wrong password as link result 7",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const dir = `${tmp}/session`;
    const qemu = await startQemu({ password: "right" });
    try {
      const cap = captureInProcess([
        ...["--target", `127.0.0.1:${qemu.port}`, "--password", "wrong"],
        ...["--client", "spicy-screenshot", "-o", dir, "--json", "--keep-ticket"],
      ]);
      assert.equal(await cap.done, 0, cap.io.stderr());
      const summary = JSON.parse(cap.io.stdout());
      assert.notEqual(summary.client.exitCode, 0, "the client was refused");
      const manifest = await readManifest(dir);
      assert.equal(manifest.target, `127.0.0.1:${qemu.port}`);
      assert.equal(manifest.server, null);
      assert.deepEqual(manifest.scrubbed, []);
      const results = await tshark([
        "-r",
        `${dir}/main.pcap`,
        "-Y",
        "spice.ticket_server",
        "-T",
        "fields",
        "-e",
        "spice.ticket_server",
      ]);
      assert.deepEqual(results, ["7"]);
      const ticket = (await unitsOf(`${dir}/main.pcap`)).units.find((u) => u.kind === "ticket");
      assert.ok(ticket?.bytes.some((b) => b !== 0), "--keep-ticket keeps the ticket");
    } finally {
      await qemu.stop();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
