/**
 * `deno task diff` on real golden sessions: a golden equals itself, a deliberately altered golden
 * is reported with channel, index, message name and offset, --json and --update work, and bad
 * usage exits 2. No external tools needed.
 */
import assert from "node:assert/strict";
import { CaptureSession } from "../lib/capture/session.ts";
import { steppingClock } from "../lib/capture/clock.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import { readSpiceMessages } from "../lib/session/messages.ts";
import { openSession } from "../lib/session/session_files.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { GOLDEN_DIR } from "../tools/make_golden_fixtures.ts";

const SCREENSHOT = `${GOLDEN_DIR}screenshot`;

/**
 * Re-records a session unit by unit through CaptureSession, letting `alter` change units: a
 * valid capture (fresh TCP framing and checksums) with exactly the changes made.
 */
async function rewrite(
  src: string,
  dst: string,
  alter: (channelType: number, unit: SpiceUnit) => Uint8Array = (_, u) => u.bytes,
): Promise<void> {
  const session = await CaptureSession.create(dst, { clock: steppingClock(), flushIntervalMs: 0 });
  for (const f of (await openSession(src)).files) {
    const conns = new Map<number, ReturnType<CaptureSession["openConnection"]>>();
    for await (const ev of readSpiceMessages(readCaptureFile(f.path), { file: f.file })) {
      const type = ev.connection.channelType ?? f.channelType!;
      let c = conns.get(ev.connection.index);
      if (c === undefined) {
        c = session.openConnection(type, ev.connection.channelId ?? f.channelId ?? 0);
        conns.set(ev.connection.index, c);
      }
      const bytes = alter(type, ev.unit);
      if (ev.unit.fromClient) c!.sent(bytes);
      else c!.received(bytes);
    }
  }
  await session.close();
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-diff-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function diff(...args: string[]) {
  const io = memoryIo();
  const code = await main(["diff", ...args], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** Flips body byte 100 of display server message #3 (the first DRAW_COPY). */
function alterDrawCopy(channelType: number, u: SpiceUnit): Uint8Array {
  if (channelType !== 2 || u.fromClient || u.kind !== "message" || u.index !== 3) return u.bytes;
  const b = u.bytes.slice();
  b[u.headerSize + 100] ^= 0xff;
  return b;
}

Deno.test("diff of a golden session with itself exits 0 and prints the summary table", async () => {
  const r = await diff(SCREENSHOT, SCREENSHOT);
  assert.equal(r.code, 0, r.err);
  assert.match(
    r.out,
    /^channel\s+direction\s+actual\s+golden\s+same\s+changed\s+missing\s+extra$/m,
  );
  assert.match(r.out, /same: no differences after normalisation\n$/);
});

Deno.test("diff of a re-recorded (re-framed) golden is the same: frames do not matter", async () => {
  await withTemp(async (tmp) => {
    await rewrite(SCREENSHOT, `${tmp}/copy`);
    const r = await diff(`${tmp}/copy`, SCREENSHOT);
    assert.equal(r.code, 0, r.out + r.err);
  });
});

Deno.test("diff against an altered golden names channel, index, message name and offset", async () => {
  await withTemp(async (tmp) => {
    await rewrite(SCREENSHOT, `${tmp}/altered`, alterDrawCopy);
    const r = await diff(SCREENSHOT, `${tmp}/altered`);
    assert.equal(r.code, 1, r.err);
    assert.match(
      r.out,
      /^display server→client: message #3 DRAW_COPY \(packet \d+\) differs at offset 100 \(field drawData\): 1 byte differ$/m,
    );
    assert.match(r.out, /^ {4}expected 000060 /m);
    assert.match(r.out, /^display\s+server→client\s+\d+\s+\d+\s+\d+\s+1\s+0\s+0$/m);
    assert.match(r.out, /differs: 1 difference\n$/);

    const j = await diff("--json", SCREENSHOT, `${tmp}/altered`);
    assert.equal(j.code, 1);
    const lines = j.out.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(
      [lines[0].type, lines[0].channel, lines[0].index, lines[0].name, lines[0].offset],
      ["difference", "display", 3, "DRAW_COPY", 100],
    );
    assert.equal(lines.at(-1).type, "summary");
    assert.equal(lines.at(-1).same, false);
  });
});

Deno.test("diff --update rewrites the golden from the actual after showing the diff", async () => {
  await withTemp(async (tmp) => {
    await rewrite(SCREENSHOT, `${tmp}/golden`, alterDrawCopy);
    const first = await diff("--update", SCREENSHOT, `${tmp}/golden`);
    assert.equal(first.code, 1);
    assert.match(first.out, /DRAW_COPY/);
    assert.match(first.err, /rewrote/);
    assert.equal((await diff(SCREENSHOT, `${tmp}/golden`)).code, 0);
  });
});

Deno.test("diff --ignore-type and --rules hide the altered message", async () => {
  await withTemp(async (tmp) => {
    await rewrite(SCREENSHOT, `${tmp}/altered`, alterDrawCopy);
    assert.equal((await diff("--ignore-type", "DRAW_COPY", SCREENSHOT, `${tmp}/altered`)).code, 0);
    const rules = `${tmp}/rules.json`;
    await Deno.writeTextFile(
      rules,
      JSON.stringify([{
        channel: "display",
        message: "DRAW_COPY",
        range: [96, 104],
        action: "mask",
      }]),
    );
    assert.equal((await diff("--rules", rules, SCREENSHOT, `${tmp}/altered`)).code, 0);
  });
});

Deno.test("diff bad usage exits 2 with a clear message", async () => {
  await withTemp(async (tmp) => {
    const cases: [string[], RegExp][] = [
      [[SCREENSHOT], /expected ACTUAL and GOLDEN, got 1 path/],
      [["--keep", "nope", SCREENSHOT, SCREENSHOT], /unknown normaliser 'nope'; known: session-id/],
      [["--frobnicate", SCREENSHOT, SCREENSHOT], /unknown option --frobnicate\n/],
      [["--timing", "soon", SCREENSHOT, SCREENSHOT], /--timing expects a non-negative number/],
      [[`${tmp}/none`, SCREENSHOT], /none/],
      [["--rules", `${tmp}/none.json`, SCREENSHOT, SCREENSHOT], /none\.json/],
    ];
    await Deno.writeTextFile(`${tmp}/bad.json`, "[{}]");
    cases.push([
      ["--rules", `${tmp}/bad.json`, SCREENSHOT, SCREENSHOT],
      /bad\.json: rule 0: 'action'/,
    ]);
    for (const [args, re] of cases) {
      const r = await diff(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, re);
    }
    const h = await diff("--help");
    assert.equal(h.code, 0);
    assert.match(h.out, /Usage: deno task diff/);
    assert.match(h.out, /draw-images/);
  });
});
