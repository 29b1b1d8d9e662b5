/**
 * End to end, the replay's pre-link gate: a golden whose guest is held paused (`-S`) well past
 * the recorded first-connection delay still replays equal to the golden, because replay links
 * only once QEMU's console shows the recorded first screen (without the gate it links too
 * early and differs); a guest that never shows that screen is a divergence before any link,
 * exit 1, with the three pictures.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { QmpClient } from "../harness/replay/qmp_client.ts";
import { qmpSocketArgs } from "../lib/replay/qmp.ts";
import { GOLDEN_DIR } from "../tools/make_golden_fixtures.ts";

const noQemu = missingTools("qemu-system-x86_64") !== undefined;
/** Longer than the golden's recorded first-connection delay (847 ms). */
const PAUSED_MS = 2500;

/** A copy of the screenshot golden whose recorded command line `edit` changed. */
async function editedGolden(tmp: string, edit: (line: string[]) => string[]): Promise<string> {
  const dir = `${tmp}/golden`;
  await new Deno.Command("cp", { args: ["-r", `${GOLDEN_DIR}screenshot`, dir] }).output();
  const manifest = JSON.parse(await Deno.readTextFile(`${dir}/session.json`));
  manifest.server.commandLine = edit(manifest.server.commandLine);
  await Deno.writeTextFile(`${dir}/session.json`, JSON.stringify(manifest, null, 2));
  return dir;
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/**
 * Replays `dir` with `args` while the test resumes the paused guest after {@link PAUSED_MS}
 * through its own QMP socket; `resumed` says whether QEMU still ran then.
 */
async function replayResumedLate(dir: string, socket: string, args: string[]) {
  const replay = cli(["replay", dir, "--trust", ...args]);
  const resume = (async () => {
    const qmp = await QmpClient.connect(socket, { timeoutMs: 15_000 });
    try {
      await new Promise((r) => setTimeout(r, PAUSED_MS));
      await qmp.execute("cont");
      return true;
    } catch {
      return false; // the replay had ended and stopped its QEMU
    } finally {
      qmp.close();
    }
  })();
  const [r, resumed] = await Promise.all([replay, resume]);
  return { ...r, resumed };
}

Deno.test({
  name: "a guest paused past the recorded delay: replay waits for the first screen, diffs equal",
  ignore: noQemu,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-prelink-" });
    try {
      const socket = `${tmp}/test-qmp.sock`;
      const dir = await editedGolden(tmp, (l) => [...l, "-S", ...qmpSocketArgs(socket)]);
      const r = await replayResumedLate(dir, socket, ["--out", `${tmp}/gated`]);
      assert.equal(r.code, 0, r.err);
      assert.ok(r.resumed, "the replay waited for the guest");
      assert.match(r.err, /pre-link gate: the console showed the recorded first screen/);
      const recorded = JSON.parse(await Deno.readTextFile(`${tmp}/gated/session.json`));
      assert.ok(recorded.server.firstConnectionDelayMs >= PAUSED_MS, "linked after the resume");
      const line: string[] = recorded.server.commandLine;
      assert.equal(line.filter((a) => a === "-qmp").length, 1, "replay's own socket not recorded");
      const diff = await cli(["diff", `${tmp}/gated`, `${GOLDEN_DIR}screenshot`]);
      assert.equal(diff.code, 0, diff.out + diff.err);

      // The old behaviour links at the recorded delay, while the guest is still paused.
      const ungated = await replayResumedLate(dir, socket, [
        ...["--out", `${tmp}/ungated`, "--gate", "none"],
      ]);
      assert.equal(ungated.code, 0, ungated.err);
      const differs = await cli(["diff", `${tmp}/ungated`, `${GOLDEN_DIR}screenshot`]);
      assert.equal(differs.code, 1, differs.out + differs.err);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "a guest that never shows the recorded first screen diverges at the pre-link gate, exit 1",
  ignore: noQemu,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-prelink-" });
    try {
      // Not the static guest: a floppy without a boot sector (SeaBIOS says so instead).
      await Deno.writeFile(`${tmp}/blank.img`, new Uint8Array(512));
      const dir = await editedGolden(
        tmp,
        (l) => l.map((a) => a.replace(/^file=[^,]*/, `file=${tmp}/blank.img`)),
      );
      const out = `${tmp}/replay`;
      const r = await cli([
        ...["replay", dir, "--trust", "--ignore-env", "--timeout", "2000", "--out", out],
      ]);
      assert.equal(r.code, 1, r.err);
      assert.match(
        r.err,
        /diverged: pre-link gate: QEMU's console never showed the recorded first screen \(720×400.*nothing was linked/,
      );
      for (const png of ["expected.png", "actual.png", "diff.png"]) {
        assert.ok((await Deno.stat(`${out}/${png}`)).size > 0, png);
      }
      const facts = JSON.parse(await Deno.readTextFile(`${out}/session.json`));
      assert.match(facts.replay.diverged, /^pre-link gate/);
      assert.equal(facts.replay.sent, 0);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
