/**
 * One vocabulary across commands: usage mistakes end with the shared hint (no stray quotes),
 * `replay --until` takes inspect's `CHANNEL:#N` numbering, and regress finds the goldens from
 * wherever it runs.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { defaultGoldens } from "../harness/commands/regress.ts";
import { parseUntil, vettedServerCommandLine } from "../harness/commands/replay.ts";
import { replaySession } from "../harness/replay/driver.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { openSession } from "../lib/session/session_files.ts";

const SHOT = new URL("../fixtures/golden/screenshot", import.meta.url).pathname;
const noQemu = missingTools("qemu-system-x86_64") !== undefined;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

Deno.test("a wrong number of paths ends with the shared hint, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["diff", SHOT], /^spicecap diff: expected ACTUAL and GOLDEN, got 1 path\(s\)\n/],
    [["serve"], /^spicecap serve: expected one session directory or channel file, got 0\n/],
    [["replay"], /^spicecap replay: expected one session directory or channel file, got 0\n/],
    [["report", "-o", "x.html"], /^spicecap report: expected exactly one PATH\n/],
  ];
  for (const [argv, re] of cases) {
    const { code, stderr } = await run(...argv);
    assert.equal(code, 2, `${argv.join(" ")}: ${stderr}`);
    assert.match(stderr, re);
    assert.match(stderr, new RegExp(`\\nRun spicecap ${argv[0]} --help for the options\\.\\n$`));
    assert.doesNotMatch(stderr, /'|deno task|for usage/);
  }
});

Deno.test("replay --until takes CHANNEL:#N as inspect numbers it, or N", async () => {
  assert.deepEqual(parseUntil("main:#3"), { untilMessage: { channel: "main", index: 3 } });
  assert.deepEqual(parseUntil("display-1:#0"), {
    untilMessage: { channel: "display-1", index: 0 },
  });
  assert.deepEqual(parseUntil("INPUTS#12"), { untilMessage: { channel: "inputs", index: 12 } });
  assert.deepEqual(parseUntil("7"), { until: 7 });
  assert.deepEqual(parseUntil(undefined), {});
  const cases: [string, RegExp][] = [
    ["dispaly:#2", /--until: unknown channel dispaly; did you mean display\?\n/],
    [
      "0",
      /--until expects CHANNEL:#N \(inspect's numbering, e\.g\. main:#3\) or N \(from 1\), got 0\n/,
    ],
    ["main:3", /--until expects CHANNEL:#N .*got main:3\n/],
    ["main:#", /--until expects CHANNEL:#N .*got main:#\n/],
  ];
  for (const [value, re] of cases) {
    const { code, stderr } = await run("replay", "--until", value, SHOT);
    assert.equal(code, 2, `${value}: ${stderr}`);
    assert.match(stderr, re);
    assert.match(stderr, /Run spicecap replay --help for the options\.\n$/);
  }
  const help = await run("replay", "--help");
  assert.match(help.stdout, /--until CHANNEL:#N +stop after the client message inspect --messages/);
});

Deno.test({
  name: "replay --until main:#N stops after that main message and keeps the server",
  ignore: noQemu,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-until-" });
    try {
      const result = await replaySession({
        source: SHOT,
        outDir: `${tmp}/r`,
        serverCommandLine: await vettedServerCommandLine(SHOT, { trust: false, outDir: tmp }),
        untilMessage: { channel: "main", index: 0 },
        holdMs: 0,
      });
      try {
        assert.equal(result.divergence, undefined);
        assert.ok(result.server, "server kept");
        assert.equal(result.sent, 1);
        // The recording's main #0 is ATTACH_CHANNELS; PONGs and ACKs are the replay's own answers.
        const argv = ["inspect", "--messages", "--json", "--channel", "main", `${tmp}/r`];
        const sent = (await run(...argv)).stdout.trim().split("\n").map((l) => JSON.parse(l))
          .filter((m) => m.direction === "toServer" && m.kind === "message")
          .filter((m) => m.name !== "PONG" && m.name !== "ACK");
        assert.deepEqual(sent.map((m) => m.name), ["ATTACH_CHANNELS"]);
      } finally {
        await result.server?.stop();
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("regress finds fixtures/golden from the module, whatever the current directory", async () => {
  const before = Deno.cwd();
  const elsewhere = await Deno.makeTempDir({ prefix: "spicecap-cwd-" });
  try {
    Deno.chdir(elsewhere);
    const found = defaultGoldens();
    assert.ok(!found.startsWith("/"), found);
    assert.ok((await openSession(`${found}/screenshot`)).files.length > 0);
    Deno.chdir(new URL("..", import.meta.url).pathname);
    assert.equal(defaultGoldens(), "fixtures/golden");
  } finally {
    Deno.chdir(before);
    await Deno.remove(elsewhere, { recursive: true });
  }
});
