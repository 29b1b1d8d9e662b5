/** Bad input through the CLI: a one-line message naming the file and the problem, exit 2. */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";

async function run(...argv: string[]): Promise<{ code: number; stderr: string; all: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, stderr: io.stderr(), all: io.stdout() + io.stderr() };
}

Deno.test("every reading command rejects a newer manifest version with exit 2 and no stack", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/session.json`,
      JSON.stringify({ format: "spicecap-session", version: 99, channels: [] }),
    );
    for (
      const argv of [
        ["check", dir],
        ["inspect", dir],
        ["merge", dir, "-o", `${dir}/out.pcapng`],
        ["diff", dir, dir],
        ["replay", dir],
      ]
    ) {
      // check reports it as a finding on stdout; the others as their error on stderr
      const { code, all } = await run(...argv);
      assert.equal(code, 2, `${argv[0]}: ${all}`);
      assert.match(all, /session\.json.*(newer|version)/, argv[0]);
      assert.doesNotMatch(all, /internal error|\n\s+at /, `${argv[0]} printed a stack`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI names an unknown command and a missing file with exit 2", async () => {
  assert.equal((await run("nope")).code, 2);
  const missing = await run("inspect", "/nonexistent/x.pcap");
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /\/nonexistent\/x\.pcap/);
});
