/**
 * The Linux test guest end to end: it boots in our QEMU and says GUEST READY on its serial port;
 * keys typed into a real spicy (under Xvfb, with xdotool) reach its shell through the recording
 * proxy, the recording holds them and checks clean; spicy-screenshot then shows the typed line.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { ppmInfo, runClient } from "../harness/processes/clients.ts";
import {
  ensureLinuxGuest,
  LINUX_GUEST_APPEND,
  LINUX_GUEST_READY,
  linuxGuestArgs,
  resolveLinuxGuest,
  usesLinuxGuest,
  withLinuxGuest,
} from "../harness/processes/linux_guest.ts";
import { startQemu } from "../harness/processes/qemu.ts";
import { hasTool, missingTools } from "../harness/processes/tools.ts";
import { EnvironmentError } from "../harness/errors.ts";
import { CAPTURE_HELP, parseCaptureArgs } from "../harness/commands/capture_args.ts";
import { readManifest } from "../lib/capture/manifest.ts";
import { unitsOf } from "../testing/capture_harness.ts";
import { captureTyping, waitForSerial } from "../testing/linux_guest_capture.ts";

/** The guest is built with apt-get and dpkg-deb unless .tools/guest/ already holds it. */
function guestUnbuildable(): string | undefined {
  const missing = ["apt-get", "dpkg-deb"].filter((t) => !hasTool(t));
  if (missing.length === 0) return undefined;
  const reason = `skipped: ${missing.join(", ")} not installed (the Linux guest is built from ` +
    "Debian packages)";
  console.warn(reason);
  return reason;
}

const noBoot = missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined ||
  guestUnbuildable() !== undefined;
const noTyping = noBoot || missingTools("spicy", "xvfb-run", "xdotool") !== undefined;

/** Whether a P6 PPM has at least two different pixel values. */
function nonUniform(ppm: Uint8Array): boolean {
  const { width, height } = ppmInfo(ppm);
  const pixels = ppm.subarray(ppm.length - width * height * 3);
  return pixels.some((b, i) => b !== pixels[i % 3]);
}

Deno.test("withLinuxGuest() points a recorded line at this machine's guest and serial log", () => {
  const old = {
    kernel: "/a/spicecap-linux-guest-1/vmlinuz",
    initrd: "/a/spicecap-linux-guest-1/initramfs.cpio.gz",
    append: LINUX_GUEST_APPEND,
  };
  const line = ["qemu-system-x86_64", "-m", "128", ...linuxGuestArgs(old, "/old/serial.log")];
  assert.ok(usesLinuxGuest(line));
  assert.ok(!usesLinuxGuest(["qemu-system-x86_64", "-kernel", "/boot/vmlinuz"]));
  const fresh = { ...old, kernel: "/b/k", initrd: "/b/i" };
  assert.deepEqual(withLinuxGuest(line, fresh, { serialLog: "/new/serial.log" }), [
    ...["qemu-system-x86_64", "-m", "128", "-kernel", "/b/k", "-initrd", "/b/i"],
    ...["-append", LINUX_GUEST_APPEND, "-serial", "file:/new/serial.log"],
  ]);
  assert.equal(withLinuxGuest(line, fresh).at(-1), "null", "no serial log: never the old one");
  assert.equal(parseCaptureArgs(["--guest", "linux"]).guest, "linux");
  assert.match(CAPTURE_HELP, /--guest <none\|static\|linux>/);
});

Deno.test("ensureLinuxGuest() without apt-get says how to get the guest", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "spicecap-no-guest-" });
  const path = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", cacheDir); // an empty directory: no apt-get, no dpkg-deb
  try {
    await assert.rejects(ensureLinuxGuest({ cacheDir }), (e: Error) => {
      assert.ok(e instanceof EnvironmentError);
      assert.match(e.message, /apt-get, apt-cache, dpkg-deb, gzip are not installed/);
      assert.match(e.message, /build_linux_guest\.sh/);
      return true;
    });
  } finally {
    Deno.env.set("PATH", path);
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test({
  name: "the Linux guest boots in our QEMU, says GUEST READY on serial and shows it on screen",
  ignore: noBoot,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-linux-guest-" });
    await ensureLinuxGuest();
    const serialLog = `${tmp}/serial.log`;
    const t0 = performance.now();
    const qemu = await startQemu({ guest: "linux", serialLog });
    try {
      assert.ok(usesLinuxGuest(qemu.commandLine), qemu.commandLine.join(" "));
      await waitForSerial(serialLog, { text: LINUX_GUEST_READY, timeoutMs: 40_000 });
      console.log(`linux guest: GUEST READY ${Math.round(performance.now() - t0)} ms after start`);
      const shot = await runClient("spicy-screenshot", {
        host: "127.0.0.1",
        port: qemu.port,
        outFile: `${tmp}/ready.ppm`,
        durationMs: 20_000,
      });
      assert.ok((await shot.exited).success, shot.stderrText());
      assert.ok(nonUniform(await Deno.readFile(`${tmp}/ready.ppm`)), "the screen shows text");
    } finally {
      await qemu.stop();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture --guest linux --client spicy records keys typed with xdotool; check passes",
  ignore: noTyping,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-linux-typing-" });
    const dir = `${tmp}/session`;
    try {
      const t0 = performance.now();
      const run = await captureTyping(dir, {
        lines: [{ type: "echo hello-spice >/dev/ttyS0", serial: "hello-spice" }],
        screenshot: `${tmp}/final.ppm`,
      });
      console.log(
        `linux guest typing: boot ${Math.round(run.bootMs)} ms, ` +
          `whole capture ${Math.round(performance.now() - t0)} ms`,
      );
      assert.equal(run.exitCode, 0, run.stderr);

      const { units, problems } = await unitsOf(`${dir}/inputs.pcap`);
      assert.deepEqual(problems, []);
      // spice-gtk sends a key pressed and released at once as one KEY_SCANCODE (down and up
      // codes), others (Shift, Return) as KEY_DOWN + KEY_UP
      const names = units.flatMap((u) => u.kind === "message" ? [u.name] : []);
      const count = (name: string) => names.filter((n) => n === name).length;
      assert.ok(count("KEY_SCANCODE") > 0, `no KEY_SCANCODE in inputs.pcap: ${names.join(" ")}`);
      const keys = count("KEY_SCANCODE") + count("KEY_DOWN");
      assert.ok(keys >= 28, `28 characters typed, ${keys} key presses recorded`);

      const manifest = await readManifest(dir);
      const commandLine = manifest.server?.commandLine ?? [];
      assert.ok(usesLinuxGuest(commandLine), commandLine.join(" "));
      assert.ok(commandLine.includes(`file:${dir}/serial.log`), "serial port into the session");
      // what replay does with the recorded line: the cached guest, and no old serial log
      const replayed = (await resolveLinuxGuest({ commandLine })).commandLine!;
      await Deno.stat(replayed[replayed.indexOf("-kernel") + 1]);
      assert.ok(!replayed.includes(`file:${dir}/serial.log`));

      const checkIo = memoryIo();
      assert.equal(await main(["check", dir], checkIo), 0, checkIo.stdout() + checkIo.stderr());
      assert.ok(nonUniform(await Deno.readFile(`${tmp}/final.ppm`)), "the final screen shows text");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
