/** The repository stays formatted, lint-clean, type-checked, and documented on every export. */
import assert from "node:assert/strict";

async function deno(...args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, `deno ${args.join(" ")} failed:\n${text.slice(-4000)}`);
}

Deno.test("deno fmt --check passes", () => deno("fmt", "--check"));
Deno.test("deno lint passes", () => deno("lint"));
Deno.test("deno check passes on the library, the CLI, the tests and the benches", () =>
  deno("check", "mod.ts", "harness/", "tests/", "bench/", "lib/", "testing/", "tools/"));
Deno.test("every export of mod.ts has a doc comment (deno doc --lint)", () =>
  deno("doc", "--lint", "mod.ts"));
