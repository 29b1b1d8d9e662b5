/**
 * Replay does not trust session.json: a recorded command line runs only a qemu-system-* binary
 * with options the policy allows (docs/replay_policy.md); `--trust` runs the rest, `--qemu`
 * another qemu-system-* binary, and QEMU's output files land in the replay's own directory.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { validManifest } from "../testing/hostile_manifests.ts";
import { entryExists } from "../harness/exists.ts";

const noQemu = missingTools("qemu-system-x86_64") !== undefined;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-policy-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A session directory whose manifest records `commandLine` (no channel files needed). */
async function sessionWith(dir: string, commandLine: string[]): Promise<string> {
  const m = validManifest();
  m.server.commandLine = commandLine;
  await Deno.mkdir(`${dir}/s`);
  await Deno.writeTextFile(`${dir}/s/session.json`, JSON.stringify(m));
  return `${dir}/s`;
}

async function replay(...args: string[]) {
  const io = memoryIo();
  const code = await main(["replay", ...args], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

Deno.test("replay refuses a recorded command line that is not QEMU, and runs nothing", async () => {
  await withTemp(async (tmp) => {
    const s = await sessionWith(tmp, ["sh", "-c", "id > PWNED", "-spice", "port=1"]);
    for (const extra of [[], ["--trust"]]) {
      const r = await replay(s, "--out", `${tmp}/r`, ...extra);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /^spicecap replay: refusing to run the QEMU command line: sh: /);
      assert.match(r.err, /command: sh -c 'id > PWNED' -spice port=1\n$/);
    }
    assert.equal(entryExists("PWNED"), false, "nothing ran in the working directory");
    assert.equal(entryExists(`${tmp}/PWNED`), false);
    assert.equal(entryExists(`${tmp}/r`), false, "no replay directory was made");
  });
});

Deno.test("replay refuses -pidfile and the file it names survives", async () => {
  await withTemp(async (tmp) => {
    const victim = `${tmp}/victim.txt`;
    await Deno.writeTextFile(victim, "precious\n");
    const s = await sessionWith(tmp, [
      "qemu-system-x86_64",
      "-pidfile",
      victim,
      "-spice",
      "port=1",
    ]);
    const r = await replay(s, "--out", `${tmp}/r`);
    assert.equal(r.code, 2, r.err);
    assert.ok(
      r.err.includes(`: -pidfile ${victim}: writes a host file (run it anyway with --trust`),
    );
    assert.ok(r.err.includes(`command: qemu-system-x86_64 -pidfile ${victim} -spice port=1`));
    assert.equal(await Deno.readTextFile(victim), "precious\n");
  });
});

Deno.test("replay --qemu runs only a binary named qemu-system-*, and never with --target", async () => {
  await withTemp(async (tmp) => {
    const s = await sessionWith(tmp, ["qemu-system-x86_64", "-spice", "port=1"]);
    const r = await replay(s, "--out", `${tmp}/r`, "--qemu", "/bin/true");
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /: \/bin\/true: --qemu is not a qemu-system-\* binary/);
    const t = await replay(s, "--qemu", "qemu-system-x86_64", "--target", "127.0.0.1:1");
    assert.equal(t.code, 2);
    assert.match(t.err, /--qemu starts a server for the replay; it cannot go with --target/);
  });
});

Deno.test({
  name: "--trust runs an option outside the table; -serial file: output goes to the replay dir",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      await Deno.mkdir(`${tmp}/s`);
      for (const e of Deno.readDirSync("fixtures/golden/screenshot")) {
        await Deno.copyFile(`fixtures/golden/screenshot/${e.name}`, `${tmp}/s/${e.name}`);
      }
      const m = JSON.parse(await Deno.readTextFile(`${tmp}/s/session.json`));
      const elsewhere = `${tmp}/elsewhere/serial.log`;
      m.server.commandLine.push("-msg", "timestamp=on", "-serial", `file:${elsewhere}`);
      await Deno.writeTextFile(`${tmp}/s/session.json`, JSON.stringify(m));

      const refused = await replay(`${tmp}/s`, "--out", `${tmp}/r0`);
      assert.equal(refused.code, 2, refused.err);
      assert.match(refused.err, /: -msg timestamp=on: not an option replay knows to be harmless/);

      const r = await replay(`${tmp}/s`, "--out", `${tmp}/r`, "--trust");
      assert.equal(r.code, 0, r.err);
      assert.ok(r.err.includes(`QEMU output moved: -serial file:${elsewhere} → -serial file:`));
      assert.ok(
        entryExists(`${tmp}/r/qemu-serial.log`),
        "QEMU wrote its serial output in the replay",
      );
      assert.equal(entryExists(elsewhere), false, "nothing written where the recording said");
      const replayed = JSON.parse(await Deno.readTextFile(`${tmp}/r/session.json`));
      assert.ok(replayed.server.commandLine.includes(`file:${tmp}/r/qemu-serial.log`));
    }),
});
