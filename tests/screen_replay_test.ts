/**
 * Screen-gated replay against the real Linux guest: a recording of spicy typing
 * `echo hello-spice >/dev/ttyS0` replays at the default speed (max, screens gated) and the
 * replayed guest's serial log holds the echo; a guest whose shell never starts diverges at the
 * first gated input with the three pictures; a changed initrd is refused with both hashes
 * unless --ignore-env.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";

/** The guest is built with apt-get and dpkg-deb (tests/linux_guest_test.ts says more). */
const noTyping = missingTools(
  ...["qemu-system-x86_64", "spicy", "xvfb-run", "xdotool", "apt-get", "dpkg-deb"],
) !== undefined;
const TEXT = "hello-spice";

let tmp: string | undefined;
let recording: Promise<string> | undefined;

/** The recording, made once for the file (`--bundle`: kernel and initrd copied in). */
function recorded(): Promise<string> {
  recording ??= (async () => {
    tmp = await Deno.makeTempDir({ prefix: "spicecap-screen-replay-" });
    const dir = `${tmp}/rec`;
    const cap = await captureTyping(dir, {
      lines: [{ type: `echo ${TEXT} >/dev/ttyS0`, serial: TEXT }],
      captureArgs: ["--bundle"],
    });
    assert.equal(cap.exitCode, 0, cap.stderr);
    return dir;
  })();
  return recording;
}

/** A copy of the recording that a test may change. */
async function copyOf(name: string): Promise<string> {
  const from = await recorded();
  const to = `${tmp}/${name}`;
  await new Deno.Command("cp", { args: ["-r", from, to] }).output();
  return to;
}

async function replay(args: string[]): Promise<{ code: number; stderr: string }> {
  const io = memoryIo();
  const code = await main(["replay", ...args], io);
  return { code, stderr: io.stderr() };
}

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

Deno.test({
  name: "a typed recording replays at the default speed: the replayed guest echoes, exit 0",
  ignore: noTyping,
  fn: async () => {
    const rec = await recorded();
    const manifest = JSON.parse(await Deno.readTextFile(`${rec}/session.json`));
    const options = manifest.qemuFiles.map((f: { option: string }) => f.option);
    assert.deepEqual(options, ["-kernel", "-initrd"]);
    const out = `${tmp}/replay-ok`;
    const r = await replay([rec, "--out", out, "--timeout", "30000"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(readText(`${out}/qemu-serial.log`), new RegExp(TEXT));
    const facts = JSON.parse(await Deno.readTextFile(`${out}/session.json`)).replay;
    assert.equal(facts.gate, "screen");
    assert.equal(facts.short, null);
  },
});

Deno.test({
  name: "a guest whose shell never starts diverges at the first gated input, pictures written",
  ignore: noTyping,
  fn: async () => {
    const rec = await copyOf("no-shell");
    const manifest = JSON.parse(await Deno.readTextFile(`${rec}/session.json`));
    const line: string[] = manifest.server.commandLine;
    const append = line.indexOf("-append") + 1;
    line[append] += " rdinit=/bin/busybox"; // busybox as init prints its help and exits: panic
    await Deno.writeTextFile(`${rec}/session.json`, JSON.stringify(manifest, null, 2));
    const out = `${tmp}/replay-no-shell`;
    const r = await replay([rec, "--out", out, "--timeout", "5000"]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /diverged: inputs message #\d+ KEY_\w+: the replayed screen did not/);
    for (const png of ["expected.png", "actual.png", "diff.png"]) {
      assert.ok((await Deno.stat(`${out}/${png}`)).size > 0, png);
    }
    assert.ok(!readText(`${out}/qemu-serial.log`).includes(TEXT));
  },
});

Deno.test({
  name: "an initrd changed after recording is refused with both hashes; --ignore-env proceeds",
  ignore: noTyping,
  fn: async () => {
    const rec = await copyOf("changed-initrd");
    const pinned = JSON.parse(await Deno.readTextFile(`${rec}/session.json`)).qemuFiles
      .find((f: { option: string }) => f.option === "-initrd");
    const file = `${rec}/bundle/${pinned.bundled}`;
    await Deno.writeFile(file, new Uint8Array(4), { append: true });
    const refused = await replay([rec, "--out", `${tmp}/replay-refused`]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(
      refused.stderr,
      new RegExp(`-initrd .*sha256 [0-9a-f]{64}, recorded ${pinned.sha256}`),
    );
    const out = `${tmp}/replay-ignored`;
    const r = await replay([rec, "--out", out, "--ignore-env", "--gate", "none", "--allow-short"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: --ignore-env: -initrd/);
    await Deno.remove(tmp!, { recursive: true });
  },
});
