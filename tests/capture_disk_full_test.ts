/**
 * A capture file that cannot be written (a full disk: a 300 KiB tmpfs) never breaks the session
 * it watches: relaying goes on, each failure is reported once and counted, and the manifest is
 * final. (A file planted in the output directory to fail on purpose, such as a link to
 * /dev/full, is now refused before anything starts: tests/output_dir_test.ts.)
 */
import assert from "node:assert/strict";
import { readManifest } from "../lib/capture/manifest.ts";
import { captureInProcess } from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";

/** Mounts a tmpfs of `size` at `dir`; the reason it could not, or undefined. */
async function mountTmpfs(dir: string, size: string): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir],
      stdout: "null",
      stderr: "piped",
    }).output();
    return out.success ? undefined : new TextDecoder().decode(out.stderr).trim();
  } catch (e) {
    return (e as Error).message;
  }
}

Deno.test({
  name: "capture on a full disk reports once, counts, keeps relaying and writes a final manifest",
  ignore: missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-capture-" });
    const why = await mountTmpfs(tmp, "300k");
    if (why !== undefined) {
      console.warn(`SKIPPED: cannot mount a 300 KiB tmpfs to fill (${why})`);
      await Deno.remove(tmp);
      return;
    }
    const dir = `${tmp}/session`;
    try {
      const cap = captureInProcess(["--client", "spicy-screenshot", "-o", dir, "--json"]);
      const code = await cap.done;
      const stderr = cap.io.stderr();
      assert.equal(code, 1, `capture errors give exit 1, not an internal error: ${stderr}`);
      assert.doesNotMatch(stderr, /internal error/);
      const summary = JSON.parse(cap.io.stdout());

      const names = [...Deno.readDirSync(dir)].map((e) => e.name);
      assert.ok(!names.includes("session.json.tmp"), `no stray temporary file: ${names}`);
      const manifest = await readManifest(dir);
      assert.equal(manifest.complete, true, "the final manifest");
      assert.ok(manifest.stopped !== undefined);
      const failed = manifest.channels.filter((c) => c.errors > 0);
      assert.ok(failed.length >= 1, "a channel file failed");
      assert.equal(manifest.errors.length, failed.length, "each failure reported once");
      for (const c of failed) {
        const warnings = stderr.match(new RegExp(`${c.file}: [^\\n]*No space left`, "g")) ?? [];
        assert.equal(warnings.length, 1, `${c.file} warned once: ${stderr}`);
        const lost = (c.droppedBytes?.sent ?? 0) + (c.droppedBytes?.received ?? 0);
        assert.ok(c.dropped > 0 && lost > 0, `${c.file}: what did not reach the file is counted`);
      }
      assert.equal(manifest.dropped, manifest.channels.reduce((n, c) => n + c.dropped, 0));
      const recorded = manifest.channels.reduce((n, c) => n + c.bytes.received, 0);
      assert.ok(summary.proxy.bytesToClient > recorded, "relaying went on past the full disk");
    } finally {
      await new Deno.Command("umount", { args: [tmp] }).output();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
