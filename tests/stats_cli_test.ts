/**
 * `stats` on the golden sessions: its counts and bytes are those of `inspect --messages --json`,
 * its round trips pair PINGs with PONGs, and every bad input is one line and exit 2.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import type { StatsReport } from "../lib/session/stats.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const SESSIONS = ["all_channels", "password", "screenshot"].map((n) => GOLDEN + n);

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

interface InspectMessage {
  channel: string;
  channelId: number;
  direction: string;
  name: string;
  size: number;
  tsNs: string;
}

Deno.test("stats counts what inspect --messages --json prints, per channel, direction and name", async () => {
  for (const dir of SESSIONS) {
    const inspect = await run("inspect", "--messages", "--json", dir);
    assert.equal(inspect.code, 0, inspect.stderr);
    const messages: InspectMessage[] = inspect.stdout.trim().split("\n").map((l) => JSON.parse(l));
    const expected = new Map<string, { count: number; bytes: number }>();
    for (const m of messages) {
      const label = m.channelId ? `${m.channel}-${m.channelId}` : m.channel;
      const key = `${label} ${m.direction} ${m.name}`;
      const e = expected.get(key) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += m.size;
      expected.set(key, e);
    }
    const stats = await run("stats", "--json", dir);
    assert.equal(stats.code, 0, stats.stderr);
    const report: StatsReport & { type: string } = JSON.parse(stats.stdout);
    assert.equal(report.type, "stats");
    const got = new Map<string, { count: number; bytes: number }>();
    for (const c of report.channels) {
      for (const t of c.types) {
        got.set(`${c.channel} ${c.direction} ${t.name}`, {
          count: t.count,
          bytes: t.bytes,
        });
      }
      assert.equal(c.count, c.types.reduce((a, t) => a + t.count, 0));
    }
    assert.deepEqual(got, expected, dir);
    assert.equal(report.count, messages.length);
    assert.equal(report.rate.reduce((a, b) => a + b.count, 0), messages.length);
    assert.equal(report.bytes, messages.reduce((a, m) => a + m.size, 0));
    for (const rt of report.roundTrips) {
      assert.ok(rt.minMs <= rt.medianMs && rt.medianMs <= rt.maxMs, JSON.stringify(rt));
      const pongs = messages.filter((m) =>
        m.name === "PONG" &&
        (m.channelId ? `${m.channel}-${m.channelId}` : m.channel) === rt.channel
      );
      assert.ok(rt.count >= 1 && rt.count <= pongs.length);
    }
    const links = messages.filter((m) => m.name === "LINK").length;
    assert.equal(report.links.length, links);
    for (const l of report.links) assert.ok(l.ms !== undefined && l.ms >= 0 && l.result === 0);
  }
});

Deno.test("stats text: size columns say the header is included; --interval sets the bars", async () => {
  const { code, stdout } = await run("stats", "--interval", "0.5", SESSIONS[0]);
  assert.equal(code, 0);
  assert.match(stdout, /bytes \(with header\)/);
  assert.match(stdout, /Rate over time \(0\.5 s per bar/);
  assert.match(stdout, /\+0\.500s/);
  assert.match(stdout, /PING → PONG round trips \(ms\):\n +channel +count +min +median +max\n/);
  assert.match(stdout, /Link times \(LINK to LINK_RESULT, ms\):\n +main +\d+\.\d{3}/);
});

Deno.test("stats: every bad input is one line on stderr and exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["stats"], /^spicecap stats: expected exactly one PATH \(file or dir\)\n/],
    [
      ["stats", "--interval", "0", SESSIONS[0]],
      /--interval expects a positive number of seconds, got 0\n/,
    ],
    [
      ["stats", "--interval", "soon", SESSIONS[0]],
      /--interval expects a positive number of seconds, got soon\n/,
    ],
    [
      ["stats", "--interval", "0.0001", SESSIONS[0]],
      /makes \d+ buckets, more than 10000; give a longer one\n/,
    ],
    [
      ["stats", "--intreval", "1", SESSIONS[0]],
      /unknown option --intreval; did you mean --interval\?\n/,
    ],
    [["stats", `${GOLDEN}no_such_session`], /^spicecap stats: .*no_such_session/],
  ];
  for (const [argv, re] of cases) {
    const { code, stdout, stderr } = await run(...argv);
    assert.equal(code, 2, `${argv.join(" ")}: ${stderr}`);
    assert.equal(stdout, "");
    assert.match(stderr, re);
    assert.doesNotMatch(stderr, /internal error/);
  }
  const help = await run("stats", "--help");
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: deno task stats/);
});
