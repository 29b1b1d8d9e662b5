/**
 * Every command that reads a session directory validates its session.json the same way: a
 * hostile manifest is exit 2 with one line naming the file and the field, never a stack.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { HOSTILE_MANIFESTS, type HostileCase, hostileText } from "../testing/hostile_manifests.ts";

function commands(tmp: string, dir: string): string[][] {
  return [
    ["check", dir],
    ["inspect", dir],
    ["merge", dir, "-o", `${tmp}/merged.pcapng`],
    ["diff", dir, dir],
    ["replay", dir, "--out", `${tmp}/replay`],
  ];
}

for (const c of HOSTILE_MANIFESTS) {
  Deno.test(`inspect, merge, diff, check and replay refuse ${c.name} with exit 2`, async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-manifest-" });
    const dir = `${tmp}/s`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/session.json`, hostileText(c));
    try {
      await refusedByAll(c, tmp, dir);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  });
}

async function refusedByAll(c: HostileCase, tmp: string, dir: string): Promise<void> {
  for (const argv of commands(tmp, dir)) {
    const io = memoryIo();
    const code = await main(argv, io);
    const all = io.stdout() + io.stderr();
    assert.equal(code, 2, `${argv[0]}: ${all}`);
    assert.doesNotMatch(all, /internal error|TypeError|\n\s+at /, `${argv[0]}: ${all}`);
    // check reports the manifest as a finding (stdout); the others as their error (stderr)
    const named = c.field === ""
      ? /not a manifest|expected (an object|valid JSON)/
      : `'${c.field}'`;
    if (typeof named === "string") assert.ok(all.includes(named), `${argv[0]}: ${all}`);
    else assert.match(all, named, argv[0]);
    assert.ok(all.includes("session.json"), `${argv[0]} names the file: ${all}`);
    if (argv[0] !== "check") {
      assert.equal(io.stderr().split("\n").length, 2, `one line: ${io.stderr()}`);
    }
  }
  assert.equal((await Array.fromAsync(Deno.readDir(tmp))).length, 1, "nothing written");
}
