import assert from "node:assert/strict";
import { diffCaptures } from "./diff_captures.ts";
import type { ChannelRef, DiffRecord, DiffSource, DiffSummary } from "./types.ts";
import { hexExcerpt, hexRows } from "./hexdump.ts";
import type { DiffInput } from "./types.ts";
import { formatDiffSummary, formatRecord, recordJson } from "./report.ts";
import { clientLink, fromArray, mainInit, message, u32le } from "../../testing/diff_units.ts";

/** A fake session: channel key → units (both directions, capture order). */
function source(channels: Record<string, DiffInput[]>): DiffSource {
  const refs: ChannelRef[] = Object.keys(channels).map((k) => {
    const [type, id] = k.split(":").map(Number);
    return { channelType: type, channelId: id, file: `${k}.pcap` };
  });
  return {
    channels: refs,
    singleFile: false,
    allUnits: (ref) => fromArray(channels[`${ref.channelType}:${ref.channelId}`].map((u) => [u])),
    units: (ref, fromClient) =>
      fromArray(
        channels[`${ref.channelType}:${ref.channelId}`].filter((u) =>
          u.unit.fromClient === fromClient
        ).map((u) => [u]),
      ),
  };
}

function session(session: number, drawByte: number, extraPing = false): DiffSource {
  const draw = [...u32le(0, 0, 0, 400, 720), 0, ...new Array(40).fill(drawByte)];
  return source({
    "1:0": [
      clientLink(1, 0),
      mainInit(session, 1234 + session),
      message(1, true, 104, [], { index: 0 }),
      ...(extraPing ? [message(1, false, 4, u32le(1, 2, 3), { index: 1 })] : []),
      message(1, false, 104, [...u32le(1), 2, 0], { index: extraPing ? 2 : 1 }),
    ],
    "2:0": [
      clientLink(2, session),
      message(2, true, 101, new Array(14).fill(1), { index: 0 }),
      message(2, false, 3, u32le(1, 20), { index: 0 }),
      message(2, false, 314, u32le(0, 720, 400, 32, 1), { index: 1 }),
      message(2, false, 304, draw, { index: 2 }),
      message(2, true, 1, u32le(1), { index: 1 }),
    ],
  });
}

async function collect(a: DiffSource, g: DiffSource, options = {}) {
  const records: DiffRecord[] = [];
  let summary: DiffSummary | undefined;
  for await (const r of diffCaptures(a, g, options)) {
    if (r.type === "summary") summary = r;
    else records.push(r);
  }
  return { records, summary: summary! };
}

Deno.test("diffCaptures() finds two runs with other session ids, clocks and pings the same", async () => {
  const { records, summary } = await collect(session(0x1111, 7, true), session(0x2222, 7));
  assert.deepEqual(records, []);
  assert.equal(summary.same, true);
  assert.equal(summary.streams.length, 4);
  const display = summary.streams.find((s) =>
    s.channel === "display" && s.direction === "toClient"
  )!;
  assert.equal(display.same, 3);
});

Deno.test("diffCaptures() names channel, index, message name and offset of a changed byte", async () => {
  const { records, summary } = await collect(session(1, 8), session(2, 7));
  assert.equal(records.length, 1);
  const r = records[0];
  assert.equal(r.kind, "changed");
  assert.equal(r.channel, "display");
  assert.equal(r.direction, "toClient");
  assert.equal(r.index, 2);
  assert.equal(r.name, "DRAW_COPY");
  assert.equal(r.offset, 21);
  assert.equal(r.field, "drawData");
  assert.equal(summary.same, false);
  const text = formatRecord(r);
  assert.match(
    text,
    /^display server→client: message #2 DRAW_COPY \(packet 3\) differs at offset 21 \(field drawData\): 40 bytes differ/,
  );
  assert.match(text, /expected 000010 .* 07 07/);
  assert.match(text, /actual {3}000010 .* 08 08/);
  const json = JSON.parse(recordJson(r));
  assert.equal(json.type, "difference");
  assert.equal(json.expectedBytes, undefined);
  assert.equal(json.expected.split(" ").length, 32);
  assert.match(
    formatDiffSummary(summary),
    /display\s+server→client\s+3\s+3\s+2\s+1\s+0\s+0\ndiffers: 1 difference/,
  );
});

Deno.test("diffCaptures() reports a channel present in one capture only", async () => {
  const g = session(1, 7);
  const a: DiffSource = { ...g, channels: g.channels.slice(0, 1) };
  const { records, summary } = await collect(a, g);
  assert.equal(records[0].kind, "channel-missing");
  assert.match(
    formatRecord(records[0]),
    /display: channel display \(2:0\.pcap\) is in the golden capture only/,
  );
  assert.deepEqual(summary.channelsMissing, ["display"]);
});

Deno.test("diffCaptures() reports timing only with a tolerance", async () => {
  const at = (ms: number) => {
    const s = source({
      "3:0": [
        { ...clientLink(3, 0), tsNs: 0n },
        { ...message(3, true, 101, u32le(30), { index: 0 }), tsNs: BigInt(ms) * 1_000_000n },
      ],
    });
    return s;
  };
  assert.equal((await collect(at(100), at(10))).records.length, 0);
  const { records } = await collect(at(100), at(10), { timingToleranceMs: 50 });
  assert.equal(records.length, 1);
  assert.equal(records[0].kind, "timing");
  assert.match(records[0].detail, /at 100\.000 ms, expected 10\.000 ms/);
});

Deno.test("hexExcerpt() and hexRows() show the bytes around the offset", () => {
  const a = new Uint8Array(40).map((_, i) => i);
  const b = a.slice();
  b[20] = 0xff;
  assert.equal(hexExcerpt(a, 20, { before: 2, after: 2 }), "12 13 14 15");
  const rows = hexRows(a, b, { offset: 20, indent: "" });
  assert.equal(rows[0], "expected 000000  00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
  assert.equal(rows[3], "actual   000010  10 11 12 13 ff 15 16 17 18 19 1a 1b 1c 1d 1e 1f");
  assert.equal(rows[4], "                             ^^");
});

Deno.test("diffCaptures() falls back to one pass per direction when interleavings differ", async () => {
  // Actual: all 50 client messages first; golden: all 50 server messages first.
  const c = (i: number) => message(3, true, 101, u32le(i), { index: i });
  const sv = (i: number) => message(3, false, 102, u32le(i % 3 === 0 ? 99 : i), { index: i });
  const build = (clientFirst: boolean, alter: boolean) => {
    const cs = Array.from({ length: 50 }, (_, i) => c(i));
    const ss = Array.from(
      { length: 50 },
      (_, i) => alter && i === 40 ? message(3, false, 102, u32le(1000), { index: i }) : sv(i),
    );
    return source({
      "3:0": [clientLink(3, 0), ...(clientFirst ? [...cs, ...ss] : [...ss, ...cs])],
    });
  };
  const onePass = await collect(build(true, false), build(false, true), { splitQueueLimit: 1_000 });
  const fallback = await collect(build(true, false), build(false, true), { splitQueueLimit: 5 });
  const perDirection = await collect(
    { ...build(true, false), allUnits: undefined },
    { ...build(false, true), allUnits: undefined },
  );
  for (const r of [onePass, fallback]) {
    assert.deepEqual(r.summary, perDirection.summary);
    assert.deepEqual(r.records.map((x) => x.detail), perDirection.records.map((x) => x.detail));
  }
  assert.equal(perDirection.records.length, 1);
  assert.equal(perDirection.records[0].index, 40);
});
