/**
 * Output is never clobbered: every command that writes a directory (capture, replay, render,
 * import) refuses one that is not empty
 * (naming what is there), creates its own 0700, and creates every file new (0600), so a planted
 * symbolic link is refused, never followed.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { CaptureSession } from "../lib/capture/session.ts";
import { writeManifest } from "../lib/capture/manifest.ts";
import { fileSink, writeNewFile } from "../lib/capture/file_sink.ts";
import { prepareOutputDir } from "../lib/capture/out_dir.ts";
import { sessionSerialLog } from "../harness/processes/linux_guest.ts";
import { UsageError } from "../harness/errors.ts";

const GOLDEN = new URL("../fixtures/golden/screenshot", import.meta.url).pathname;
const RAW = new URL("../fixtures/raw/screenshot_lo.pcapng", import.meta.url).pathname;
const VICTIM_TEXT = "the victim's own contents\n";

async function cli(...argv: string[]): Promise<{ code: number; err: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, err: io.stderr() };
}

/** A temporary directory holding `victim` (a file someone cares about) and `out/`. */
async function scene(): Promise<{ tmp: string; victim: string; out: string }> {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-outdir-" });
  const victim = `${tmp}/victim`;
  await Deno.writeTextFile(victim, VICTIM_TEXT, { mode: 0o644 });
  return { tmp, victim, out: `${tmp}/out` };
}

async function assertVictimUnchanged(victim: string): Promise<void> {
  assert.equal(await Deno.readTextFile(victim), VICTIM_TEXT, "the victim file is unchanged");
  assert.equal((await Deno.stat(victim)).mode! & 0o777, 0o644, "its mode too");
}

/** Every command that writes a directory, pointed at `out`. */
const COMMANDS: Record<string, (out: string) => string[]> = {
  capture: (out) => ["capture", "-o", out, "--duration", "1"],
  replay: (out) => ["replay", GOLDEN, "--out", out, "--target", "127.0.0.1:1"],
  render: (out) => ["render", "--final", "-o", out, GOLDEN],
  import: (out) => ["import", RAW, "-o", out],
};

for (const [name, argv] of Object.entries(COMMANDS)) {
  for (const entry of ["main.pcap", "session.json.tmp", "screenshot.ppm", "serial.log"]) {
    Deno.test(`${name} refuses an --out holding a planted ${entry} link, and names it`, async () => {
      const { tmp, victim, out } = await scene();
      try {
        await Deno.mkdir(out);
        await Deno.symlink(victim, `${out}/${entry}`);
        const r = await cli(...argv(out));
        assert.equal(r.code, 2, r.err);
        assert.match(r.err, new RegExp(`output directory ${out} is not empty \\(${entry}\\)`));
        assert.equal(r.err.trim().split("\n").length, 1, `one line: ${r.err}`);
        await assertVictimUnchanged(victim);
      } finally {
        await Deno.remove(tmp, { recursive: true });
      }
    });
  }

  Deno.test(`${name} says a file given as --out is a file, not a directory`, async () => {
    const { tmp, victim } = await scene();
    try {
      const r = await cli(...argv(victim));
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, new RegExp(`output directory ${victim} is a file, not a directory`));
      assert.doesNotMatch(r.err, /already holds a session/);
      await assertVictimUnchanged(victim);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });

  Deno.test(`${name} refuses an --out that is a symbolic link to a directory`, async () => {
    const { tmp, out } = await scene();
    try {
      await Deno.mkdir(`${tmp}/elsewhere`);
      await Deno.symlink(`${tmp}/elsewhere`, out);
      const r = await cli(...argv(out));
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, new RegExp(`output directory ${out} is a symbolic link`));
      assert.deepEqual([...Deno.readDirSync(`${tmp}/elsewhere`)], []);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

Deno.test("a refused session directory keeps what it held: no file and no mode changes", async () => {
  const { tmp, out } = await scene();
  try {
    await Deno.mkdir(out, { mode: 0o755 });
    await Deno.chmod(out, 0o755);
    await Deno.writeTextFile(`${out}/main.pcap`, "mine", { mode: 0o644 });
    await assert.rejects(CaptureSession.create(out), /is not empty \(main\.pcap\)/);
    assert.equal(await Deno.readTextFile(`${out}/main.pcap`), "mine");
    assert.equal((await Deno.stat(`${out}/main.pcap`)).mode! & 0o777, 0o644);
    assert.equal((await Deno.stat(out)).mode! & 0o777, 0o755);
    await Deno.writeTextFile(`${out}/session.json`, "{}");
    await assert.rejects(CaptureSession.create(out), /already holds a session/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("prepareOutputDir() makes a new or empty directory ours, 0700", async () => {
  const { tmp } = await scene();
  try {
    await prepareOutputDir(`${tmp}/a/b/new`);
    assert.equal((await Deno.lstat(`${tmp}/a/b/new`)).mode! & 0o777, 0o700);
    await Deno.mkdir(`${tmp}/empty`, { mode: 0o755 });
    await Deno.chmod(`${tmp}/empty`, 0o755);
    await prepareOutputDir(`${tmp}/empty`);
    assert.equal((await Deno.lstat(`${tmp}/empty`)).mode! & 0o777, 0o700);
    // Prepared once by this thread, it may be filled before the session is created in it.
    await Deno.writeTextFile(`${tmp}/empty/qemu-serial.log`, "");
    await prepareOutputDir(`${tmp}/empty`);
    const session = await CaptureSession.create(`${tmp}/empty`, { flushIntervalMs: 0 });
    await session.close();
    for (const name of ["session.json"]) {
      assert.equal((await Deno.lstat(`${tmp}/empty/${name}`)).mode! & 0o777, 0o600, name);
    }
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("files in a session are created new: planted links are refused, never followed", async () => {
  const { tmp, victim, out } = await scene();
  try {
    await prepareOutputDir(out);
    await Deno.symlink(victim, `${out}/session.json.tmp`);
    await assert.rejects(
      writeManifest(out, JSON.parse(await Deno.readTextFile(`${GOLDEN}/session.json`))),
    );
    await Deno.symlink(victim, `${out}/main.pcap`);
    const writer = fileSink(`${out}/main.pcap`).getWriter();
    await assert.rejects(writer.write(new Uint8Array([1, 2, 3])), /main\.pcap already exists/);
    await assert.rejects(writeNewFile(`${out}/main.pcap`, new Uint8Array(1)), /already exists/);
    await Deno.symlink(victim, `${out}/serial.log`);
    await assert.rejects(sessionSerialLog(out), (e) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /serial\.log already exists/);
      return true;
    });
    await assertVictimUnchanged(victim);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
