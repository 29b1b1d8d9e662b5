/** `inspect`: packet and message lines, filters, JSON, counts, and a closed pipe. */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { type Io, memoryIo } from "../harness/io.ts";

const RAW = new URL("../fixtures/raw/", import.meta.url).pathname;
const SHOT = `${RAW}screenshot_lo.pcapng`;
const ALL = `${RAW}spicy_all_channels.pcapng`;

async function inspect(...args: string[]): Promise<{ code: number; lines: string[]; err: string }> {
  const io = memoryIo();
  const code = await main(["inspect", ...args], io);
  return { code, lines: io.stdout().split("\n").filter((l) => l), err: io.stderr() };
}

Deno.test("inspect prints one tcpdump-like line per packet", async () => {
  const { code, lines } = await inspect(SHOT);
  assert.equal(code, 0);
  assert.equal(lines.length, 59);
  assert.match(
    lines[0],
    /^\d\d:\d\d:\d\d\.\d{6} IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.\d+: Flags \[S\]/,
  );
});

Deno.test("inspect --messages prints one line per SPICE unit with arrows and fields", async () => {
  const { code, lines } = await inspect("--messages", "--relative-time", SHOT);
  assert.equal(code, 0);
  assert.equal(lines.length, 29);
  assert.match(lines[0], /^00:00:00\.\d{6} main +→ LINK 42 channel="main"/);
  assert.ok(lines.some((l) => /main +← #0 INIT 38 sessionId=\d+ /.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => /display +← #\d+ DRAW_COPY \d+ surface(Id)?=0 /.test(l)));
  assert.ok(lines.some((l) => /main +→ #\d+ PONG 18 id=3 /.test(l)));
});

Deno.test("inspect --type and --channel select messages", async () => {
  const pings = await inspect("--type", "ping", ALL);
  assert.ok(pings.lines.length >= 3);
  assert.ok(pings.lines.every((l) => / ← #\d+ PING /.test(l)), pings.lines.join("\n"));
  const cursor = await inspect("--messages", "--channel", "cursor", ALL);
  assert.ok(cursor.lines.length > 0);
  assert.ok(cursor.lines.every((l) => / cursor +[→←] /.test(l)));
  const cursorPackets = await inspect("--channel", "cursor", ALL);
  const all = await inspect(ALL);
  assert.ok(cursorPackets.lines.length > 0 && cursorPackets.lines.length < all.lines.length);
});

Deno.test("inspect --json gives NDJSON packets and messages", async () => {
  const packets = await inspect("--json", SHOT);
  const first = JSON.parse(packets.lines[0]);
  assert.equal(first.type, "packet");
  assert.equal(first.packetNumber, 1);
  assert.equal(typeof first.tsNs, "string");
  const messages = await inspect("--messages", "--json", SHOT);
  const parsed = messages.lines.map((l) => JSON.parse(l));
  const init = parsed.find((m) => m.name === "INIT" && m.channel === "main");
  assert.equal(init.direction, "toClient");
  assert.equal(init.messageType, 103);
  assert.equal(init.fields.agentTokens, 10);
  const ping = parsed.find((m) => m.name === "PING");
  assert.equal(typeof ping.fields.timestamp, "string", "bigint fields become strings");
});

Deno.test("inspect -c stops after n lines and --filter selects packets", async () => {
  assert.equal((await inspect("-c", "5", SHOT)).lines.length, 5);
  assert.equal((await inspect("-c", "3", "--messages", SHOT)).lines.length, 3);
  const syns = await inspect("--filter", "tcp and not port 1", SHOT);
  assert.equal(syns.lines.length, 59);
  const none = await inspect("--filter", "udp", SHOT);
  assert.deepEqual(none.lines, []);
});

Deno.test("inspect exits 2 on a bad filter, pointing at the column", async () => {
  const { code, err, lines } = await inspect("--filter", "port 5930 and (", SHOT);
  assert.equal(code, 2);
  assert.deepEqual(lines, []);
  assert.match(err, /column 16/);
  const caret = err.split("\n").find((l) => l.trim() === "^")!;
  assert.equal(caret.indexOf("^"), 2 + 15);
});

Deno.test("inspect exits 2 naming an unreadable file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.pcap`, "garbage, not a capture");
    const { code, err } = await inspect(`${dir}/bad.pcap`);
    assert.equal(code, 2);
    assert.match(err, /bad\.pcap.*byte 0/);
    const missing = await inspect(`${dir}/missing.pcap`);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /missing\.pcap/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect stops at once and exits 0 when stdout is closed", async () => {
  let writes = 0;
  const io: Io = {
    out: () => {
      writes++;
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
    },
    err: () => Promise.resolve(),
    signal: new AbortController().signal,
  };
  assert.equal(await main(["inspect", ALL], io), 0);
  assert.equal(writes, 1);
});
