/**
 * Runs the whole test suite with the given deno binary, passes its output through, and ends
 * with the plain line `N passed, N failed[, N skipped]` that CI reads.
 * Usage: deno run -A testing/test_runner.ts DENO [extra deno test args…]
 */
const [deno = "deno", ...extra] = Deno.args;
const child = new Deno.Command(deno, {
  args: ["test", "-A", "--parallel", ...extra],
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "inherit",
}).spawn();

let tail = "";
const decoder = new TextDecoder();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const { code } = await child.status;
const summary = tail.match(
  /(?:ok|FAILED) \| (\d+) passed[^|]*\| (\d+) failed(?: \| (\d+) ignored)?/,
);
if (summary) {
  const [, passed, failed, ignored] = summary;
  console.log(`\n${passed} passed, ${failed} failed${ignored ? `, ${ignored} skipped` : ""}`);
} else {
  console.log(`\n0 passed, 1 failed`);
  console.error("test_runner: deno test printed no summary (exit code " + code + ")");
}
Deno.exit(code);
