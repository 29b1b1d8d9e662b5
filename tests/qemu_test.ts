import assert from "node:assert/strict";
import {
  freePort,
  hasRedactedSecret,
  qemuCommandLine,
  REDACTED_SECRET,
  redactSecrets,
  restoreSecrets,
  startQemu,
  waitForPort,
} from "../harness/processes/qemu.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { staticGuestImage, usesStaticGuest, withStaticGuest } from "../harness/processes/guest.ts";
import { EnvironmentError } from "../harness/errors.ts";
import { openFiles } from "../harness/processes/launch_files.ts";

const noQemu = missingTools("qemu-system-x86_64") !== undefined;

Deno.test("qemuCommandLine() uses a secret object for a password and escapes commas", () => {
  const argv = qemuCommandLine({ password: "a,b" }, { port: 5999 });
  assert.ok(argv.includes("secret,id=spsec,data=a,,b"));
  const spice = argv[argv.indexOf("-spice") + 1];
  assert.equal(spice, "port=5999,addr=127.0.0.1,password-secret=spsec");
  assert.ok(!argv.join(" ").includes("disable-ticketing"));
});

Deno.test("qemuCommandLine() adds audio and usbredir for all channels, extra args last", () => {
  const argv = qemuCommandLine({ channels: "all", extraArgs: ["-name", "x"] }, { port: 5999 });
  assert.ok(argv.includes("hda-duplex,audiodev=a"));
  assert.ok(argv.includes("usb-redir,chardev=u1"));
  assert.deepEqual(argv.slice(-2), ["-name", "x"]);
  assert.ok(argv[argv.indexOf("-spice") + 1].endsWith("disable-ticketing=on"));
});

Deno.test("waitForPort() names the port that never accepted", async () => {
  const port = freePort();
  await assert.rejects(
    () => waitForPort({ hostname: "127.0.0.1", port }, { timeoutMs: 100 }),
    (e: unknown) => e instanceof EnvironmentError && e.message.includes(`127.0.0.1:${port}`),
  );
});

Deno.test({
  name: "startQemu() starts a SPICE server that accepts and stop() ends the process",
  ignore: noQemu,
  fn: async () => {
    const qemu = await startQemu();
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: qemu.port });
      // The server answers a client link with a link reply starting with REDQ.
      const link = new Uint8Array([
        ...[0x52, 0x45, 0x44, 0x51, 2, 0, 0, 0, 2, 0, 0, 0, 18, 0, 0, 0],
        ...[0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 18, 0, 0, 0],
      ]);
      await conn.write(link);
      const buf = new Uint8Array(16);
      let got = 0;
      while (got < 16) {
        const n = await conn.read(buf.subarray(got));
        assert.ok(n !== null, "QEMU closed the connection before its link reply header");
        got += n;
      }
      assert.equal(new TextDecoder().decode(buf.subarray(0, 4)), "REDQ");
      conn.close();
      assert.ok(qemu.commandLine[0].endsWith("qemu-system-x86_64"));
    } finally {
      await qemu.stop();
    }
    const status = await qemu.exited;
    assert.ok(status.signal === "SIGTERM" || status.code !== undefined);
    await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port: qemu.port }));
    await qemu.stop(); // idempotent
  },
});

Deno.test({
  name: "startQemu() reports QEMU's own error when it cannot start",
  ignore: noQemu,
  fn: async () => {
    await assert.rejects(
      () => startQemu({ extraArgs: ["-no-such-option"] }),
      (e: unknown) =>
        e instanceof EnvironmentError && e.message.includes("QEMU exited") &&
        e.message.includes("no-such-option"),
    );
  },
});

Deno.test("redactSecrets() hides a QEMU secret's data and restoreSecrets() puts a password back", () => {
  const line = qemuCommandLine({ password: "pa,ss" }, { port: 5930 });
  const redacted = redactSecrets(line);
  assert.ok(!redacted.join(" ").includes("pa,,ss"), redacted.join(" "));
  assert.ok(redacted.includes(`secret,id=spsec,data=${REDACTED_SECRET}`));
  assert.ok(hasRedactedSecret(redacted));
  assert.ok(!hasRedactedSecret(line));
  assert.deepEqual(restoreSecrets(redacted, "pa,ss"), line);
  assert.deepEqual(
    redactSecrets(qemuCommandLine({}, { port: 5930 })),
    qemuCommandLine({}, { port: 5930 }),
  );
});

Deno.test("staticGuestImage() is a boot sector and withStaticGuest() gives a line a fresh copy", () => {
  const image = staticGuestImage();
  assert.equal(image.length, 512);
  assert.deepEqual([...image.subarray(510)], [0x55, 0xaa]);
  assert.ok(new TextDecoder().decode(image).includes("spicecap static guest"));
  const line = qemuCommandLine({}, {
    port: 5930,
    guestImage: "/tmp/spicecap-static-guest-a.img",
  });
  assert.ok(usesStaticGuest(line));
  assert.ok(!usesStaticGuest(qemuCommandLine({}, { port: 5930 })));
  const moved = withStaticGuest(line, "/tmp/spicecap-static-guest-b.img");
  assert.ok(
    moved.includes("file=/tmp/spicecap-static-guest-b.img,format=raw,if=floppy,snapshot=on"),
  );
});

Deno.test({
  name: "startQemu({ guest: 'static' }) boots the image, which is off the disk once QEMU listens",
  ignore: missingTools("qemu-system-x86_64") !== undefined,
  fn: async () => {
    const qemu = await startQemu({ guest: "static" });
    const drive = qemu.commandLine[qemu.commandLine.indexOf("-drive") + 1];
    const path = /file=([^,]+)/.exec(drive)![1];
    try {
      // QEMU holds the image open; its directory is already gone, so a kill leaves nothing.
      const open = [...openFiles(qemu.pid)];
      assert.ok(open.includes(`${path} (deleted)`), open.join("\n"));
      await assert.rejects(() => Deno.stat(path.replace(/\/[^/]*$/, "")), Deno.errors.NotFound);
      assert.equal(staticGuestImage().length, 512);
    } finally {
      await qemu.stop();
    }
  },
});
