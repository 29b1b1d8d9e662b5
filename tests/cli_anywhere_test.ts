/**
 * A new user's first session with the installed command: `./run install` writes `spicecap`
 * (here into a temporary bin directory), and from an empty directory elsewhere it records,
 * inspects, checks, replays, diffs, renders and imports, with every path relative to that
 * directory and every default output under it.
 */
import assert from "node:assert/strict";
import { missingTools } from "../harness/processes/tools.ts";
import { installLauncher } from "../tools/install.ts";

const RAW = new URL("../fixtures/raw/screenshot_lo.pcapng", import.meta.url).pathname;
const noTools = missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined;

/** Runs the installed command in `cwd` with a PATH that holds nothing of the repository. */
async function spicecap(
  bin: string,
  cwd: string,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(`${bin}/spicecap`, {
    args,
    cwd,
    env: { PATH: "/usr/local/bin:/usr/bin:/bin" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

async function withInstalled(fn: (bin: string, cwd: string) => Promise<void>): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-anywhere-" });
  try {
    await installLauncher(`${tmp}/bin`);
    await Deno.mkdir(`${tmp}/work`);
    await fn(`${tmp}/bin`, `${tmp}/work`);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

Deno.test("the installed spicecap answers --version and --help from any directory", () =>
  withInstalled(async (bin, cwd) => {
    const version = await spicecap(bin, cwd, "--version");
    assert.equal(version.code, 0, version.stderr);
    assert.match(version.stdout, /^spicecap \d+\.\d+\.\d+\n$/);
    const help = await spicecap(bin, cwd, "--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: spicecap <command>/);
    const bad = await spicecap(bin, cwd, "inspect", "--type", "DRAW_COPPY", "x.pcap");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean DRAW_COPY\?/);
  }));

Deno.test("import writes under captures/ of the current directory, and names a directory input", () =>
  withInstalled(async (bin, cwd) => {
    await Deno.copyFile(RAW, `${cwd}/lo.pcapng`);
    const imported = await spicecap(bin, cwd, "import", "lo.pcapng");
    assert.equal(imported.code, 0, imported.stderr);
    assert.match(imported.stdout, /^captures\/lo: /);
    assert.ok((await Deno.stat(`${cwd}/captures/lo/session.json`)).isFile);
    const check = await spicecap(bin, cwd, "check", "captures/lo");
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const dir = await spicecap(bin, cwd, "import", "captures");
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /^spicecap import: captures: is a directory/);
  }));

Deno.test({
  name: "from an empty directory: record, inspect, check, replay, diff and render with spicecap",
  ignore: noTools,
  fn: () =>
    withInstalled(async (bin, cwd) => {
      const run = async (...args: string[]) => {
        const r = await spicecap(bin, cwd, ...args);
        assert.equal(r.code, 0, `spicecap ${args.join(" ")}: ${r.stderr}`);
        return r;
      };
      const rec = await run(
        "capture",
        "--client",
        "spicy-screenshot",
        "--guest",
        "static",
        "-o",
        "rec",
      );
      assert.match(rec.stderr, /session: rec\n/);
      assert.match(rec.stderr, /^ {2}screenshot\.ppm$/m, "the summary names the screenshot");
      assert.doesNotMatch(rec.stderr, /exited with code 143/);
      const inspect = await run("inspect", "--messages", "--type", "INIT", "rec");
      assert.match(inspect.stdout, /main +← #0 INIT /);
      await run("check", "rec");
      await run("replay", "rec", "-o", "again");
      const diff = await run("diff", "again", "rec");
      assert.match(diff.stdout, /same/);
      await run("render", "rec", "--final", "-o", "frames");
      const frames = [...Deno.readDirSync(`${cwd}/frames`)].map((e) => e.name);
      assert.ok(frames.some((f) => f.endsWith(".png")), frames.join(", "));
      await run("merge", "rec", "-o", "rec.pcapng");
      assert.ok((await Deno.stat(`${cwd}/rec.pcapng`)).size > 0);
    }),
});
