/**
 * Real sessions recorded by tools/make_raw_fixtures.ts: `check` passes on them, and the SPICE
 * message sequence we read per connection equals tshark's SPICE dissector, message for message.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import { readSpiceMessages } from "../lib/session/messages.ts";
import type { StreamProblem } from "../lib/session/types.ts";
import { runTshark } from "../testing/tshark.ts";

const RAW = new URL("../fixtures/raw/", import.meta.url).pathname;
const FIXTURES = ["screenshot_lo.pcapng", "screenshot_sll2.pcap", "spicy_all_channels.pcapng"];

/** Our reading: per connection index, the message types in order, and the server port. */
async function ourMessages(path: string) {
  const perStream = new Map<number, number[]>();
  const problems: StreamProblem[] = [];
  let serverPort = 0;
  let links = 0;
  for await (
    const ev of readSpiceMessages(readCaptureFile(path), { onProblem: (p) => problems.push(p) })
  ) {
    serverPort = ev.connection.serverPort;
    if (ev.unit.kind === "link") links++;
    if (ev.unit.kind !== "message") continue;
    const list = perStream.get(ev.connection.index) ?? [];
    list.push(ev.unit.type);
    perStream.set(ev.connection.index, list);
  }
  return { perStream, problems, serverPort, links };
}

/** tshark's reading of the same file with the SPICE dissector forced on the server port. */
async function tsharkMessages(path: string, port: number): Promise<Map<number, number[]>> {
  const out = await runTshark([
    "-r",
    path,
    "-d",
    `tcp.port==${port},spice`,
    "-T",
    "fields",
    "-e",
    "tcp.stream",
    "-e",
    "spice.message_type",
  ]);
  const perStream = new Map<number, number[]>();
  for (const line of out.stdout.split("\n")) {
    const [stream, types] = line.split("\t");
    if (!types) continue;
    const list = perStream.get(Number(stream)) ?? [];
    list.push(...types.split(",").map(Number));
    perStream.set(Number(stream), list);
  }
  return perStream;
}

for (const name of FIXTURES) {
  Deno.test(`check passes on the real session ${name}`, async () => {
    const io = memoryIo();
    const code = await main(["check", `${RAW}${name}`], io);
    assert.equal(code, 0, io.stdout() + io.stderr());
    assert.match(io.stdout(), /^OK: 1 file/m);
  });

  Deno.test({
    name: `readSpiceMessages matches tshark's SPICE messages per connection in ${name}`,
    ignore: missingTools("tshark") !== undefined,
    fn: async () => {
      const ours = await ourMessages(`${RAW}${name}`);
      // Loopback does retransmit under a zero window (tshark flags the same frames).
      assert.deepEqual(ours.problems.filter((p) => p.kind !== "retransmission"), []);
      assert.ok(ours.links >= 2, "expected at least main and display links");
      const theirs = await tsharkMessages(`${RAW}${name}`, ours.serverPort);
      assert.ok(theirs.size >= 2);
      assert.deepEqual(
        [...ours.perStream.entries()].sort((a, b) => a[0] - b[0]),
        [...theirs.entries()].sort((a, b) => a[0] - b[0]),
      );
    },
  });
}
