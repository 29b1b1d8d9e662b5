/**
 * `deno task bench --quick` runs every bench module to the end and prints its table, so the
 * benchmarks cannot rot between the runs that measure. No timing is asserted here: speed goals
 * are judged by the full bench, never by a test.
 */
import assert from "node:assert/strict";

Deno.test("deno task bench --quick runs every module and prints the table", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../bench/run.ts", import.meta.url).pathname, "--quick"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.doesNotMatch(stderr, /failed|not available/, stderr);
  assert.match(stdout, /^benchmark\s+ours\s+unit/m);
  for (
    const row of [
      /write pcap 64 B/,
      /CaptureSession records/,
      /check 200k|check \d+k/,
      /proxy throughput/,
      /replay realtime/,
      /diff two \d+k-message captures/,
    ]
  ) {
    assert.match(stdout, row, `no ${row} row`);
  }
});
