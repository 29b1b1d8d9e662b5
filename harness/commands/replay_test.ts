/** `replay` argument parsing and usage errors. */
import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { memoryIo } from "../io.ts";
import { parseSpeed } from "../args.ts";
import { defaultReplayDir } from "../replay/driver.ts";
import { withSpicePort } from "../processes/qemu.ts";
import { parseTarget } from "./replay.ts";

Deno.test("parseSpeed() accepts max, realtime and positive factors only", () => {
  assert.deepEqual(parseSpeed("max"), { kind: "max" });
  assert.deepEqual(parseSpeed("realtime"), { kind: "factor", factor: 1 });
  assert.deepEqual(parseSpeed("2.5"), { kind: "factor", factor: 2.5 });
  assert.deepEqual(parseSpeed("4x"), { kind: "factor", factor: 4 });
  for (const bad of ["0", "-1", "fast", ""]) {
    assert.throws(() => parseSpeed(bad), /--speed expects max, realtime or a positive number/);
  }
});

Deno.test("withSpicePort() replaces the recorded SPICE port and keeps the rest", () => {
  const line = [
    "qemu-system-x86_64",
    "-m",
    "128",
    "-spice",
    "port=5930,addr=127.0.0.1,disable-ticketing=on",
  ];
  assert.deepEqual(withSpicePort(line, { port: 4000 }), [
    "qemu-system-x86_64",
    "-m",
    "128",
    "-spice",
    "port=4000,addr=127.0.0.1,disable-ticketing=on",
  ]);
  assert.throws(
    () => withSpicePort(["qemu-system-x86_64"], { port: 1 }),
    /no '-spice port=N' option/,
  );
});

Deno.test("parseTarget() and defaultReplayDir() shape their inputs", () => {
  assert.deepEqual(parseTarget("127.0.0.1:5930"), { hostname: "127.0.0.1", port: 5930 });
  assert.deepEqual(parseTarget("[::1]:5930"), { hostname: "::1", port: 5930 });
  assert.throws(() => parseTarget("localhost"), /--target expects HOST:PORT/);
  assert.equal(
    defaultReplayDir("captures/x/", new Date("2026-01-02T03:04:05Z")),
    "captures/x-replay-20260102T030405Z",
  );
  assert.equal(defaultReplayDir("a/main.pcap", new Date(0)), "a/main-replay-19700101T000000Z");
});

Deno.test("replay bad usage exits 2 with a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [[], /expected one session directory or channel file, got 0/],
    [["a", "b"], /got 2/],
    [["--speed", "warp", "x"], /--speed expects max, realtime or a positive number, got 'warp'/],
    [["--target", "nohost", "x"], /--target expects HOST:PORT/],
    [["--timeout", "0", "x"], /--timeout expects a positive integer/],
    [["--bogus", "x"], /unknown option --bogus\n.*spicecap replay --help/],
    [["/nonexistent/session"], /\/nonexistent\/session: no such file or directory/],
  ];
  for (const [args, re] of cases) {
    const io = memoryIo();
    assert.equal(await main(["replay", ...args], io), 2, args.join(" "));
    assert.match(io.stderr(), re);
  }
  const io = memoryIo();
  assert.equal(await main(["replay", "--help"], io), 0);
  assert.match(io.stdout(), /Usage: deno task replay/);
});
