import assert from "node:assert/strict";
import { TcpFlow } from "../net/tcp_flow.ts";
import type { Direction } from "../net/types.ts";
import type { CaptureRecord } from "../pcap/types.ts";
import { buildLinkMessage, buildLinkReply, buildMessage, buildU32 } from "../spice/link.ts";
import { readSpiceMessages, SpiceStreamReader } from "./messages.ts";
import type { MessageEvent, StreamProblem } from "./types.ts";

/** Frames → records (Ethernet, 1 µs apart). */
function records(frames: Uint8Array[]): CaptureRecord[] {
  return frames.map((data, i) => ({
    packetNumber: i + 1,
    offset: 0,
    tsNs: 1_000n * BigInt(i),
    interfaceId: 0,
    linkType: 1,
    data,
    originalLength: data.length,
  }));
}

const LINK = buildLinkMessage({
  major: 2,
  minor: 2,
  connectionId: 0,
  channelType: 1,
  channelId: 0,
  commonCaps: [0x0d],
  channelCaps: [0x0f],
});
const REPLY = buildLinkReply({
  major: 2,
  minor: 2,
  error: 0,
  pubKey: new Uint8Array(162),
  commonCaps: [0x0b],
  channelCaps: [0x0f],
});

/** A main channel conversation as (direction, bytes) steps. */
function mainSteps(): [Direction, Uint8Array][] {
  return [
    ["toServer", LINK],
    ["toClient", REPLY],
    ["toServer", buildU32(1)],
    ["toServer", new Uint8Array(128)],
    ["toClient", buildU32(0)],
    ["toClient", buildMessage(103, new Uint8Array(32))],
    ["toServer", buildMessage(104, new Uint8Array(0))],
  ];
}

function flow(clientPort = 10001): TcpFlow {
  return new TcpFlow({ clientIp: 0x0a000001, serverIp: 0x0a000002, clientPort, serverPort: 5930 });
}

async function read(
  recs: CaptureRecord[],
): Promise<{ events: MessageEvent[]; problems: StreamProblem[] }> {
  const problems: StreamProblem[] = [];
  const events: MessageEvent[] = [];
  async function* source() {
    yield* recs;
  }
  for await (
    const ev of readSpiceMessages(source(), {
      file: "t.pcap",
      onProblem: (p) => problems.push(p),
    })
  ) {
    events.push(ev);
  }
  return { events, problems };
}

Deno.test("readSpiceMessages frames a connection's link phase and messages in order", async () => {
  const f = flow();
  const frames = [...f.open(), ...mainSteps().flatMap(([d, b]) => f.send(d, b)), ...f.close()]
    .map((x) => x.frame);
  const { events, problems } = await read(records(frames));
  assert.deepEqual(problems, []);
  assert.deepEqual(events.map((e) => [e.unit.kind, e.unit.kind === "message" ? e.unit.name : ""]), [
    ["link", ""],
    ["linkReply", ""],
    ["authMechanism", ""],
    ["ticket", ""],
    ["linkResult", ""],
    ["message", "INIT"],
    ["message", "ATTACH_CHANNELS"],
  ]);
  const c = events[0].connection;
  assert.deepEqual([c.index, c.clientIp, c.clientPort, c.serverIp, c.serverPort, c.channelType], [
    0,
    "10.0.0.1",
    10001,
    "10.0.0.2",
    5930,
    1,
  ]);
  assert.equal(events[5].file, "t.pcap");
  assert.equal(events[5].packetNumber, 4 + 5); // handshake (3), then one packet per unit
});

Deno.test("readSpiceMessages joins a message split across segments and splits one holding two", async () => {
  const f = flow();
  const steps = mainSteps();
  const init = steps[5][1];
  const two = new Uint8Array([
    ...buildMessage(4, new Uint8Array(12)),
    ...buildMessage(4, new Uint8Array(12)),
  ]);
  const frames = [
    ...f.open(),
    ...steps.slice(0, 5).flatMap(([d, b]) => f.send(d, b)),
    ...f.send("toClient", init.subarray(0, 3)),
    ...f.send("toClient", init.subarray(3)),
    ...f.send("toClient", two),
  ].map((x) => x.frame);
  const { events } = await read(records(frames));
  const messages = events.filter((e) => e.unit.kind === "message");
  assert.deepEqual(
    messages.map((e) => [e.unit.kind === "message" ? e.unit.name : e.unit.kind, e.packetNumber]),
    [
      ["INIT", 10],
      ["PING", 11],
      ["PING", 11],
    ],
  );
});

Deno.test("readSpiceMessages takes the REDQ sender as client when the SYN was not captured", async () => {
  const f = flow(10002);
  f.open();
  // the capture starts with the server's reply to a link we did not see... then a fresh link
  const frames = mainSteps().flatMap(([d, b]) => f.send(d, b)).map((x) => x.frame);
  const { events, problems } = await read(records(frames));
  assert.deepEqual(problems, []);
  assert.equal(events[0].connection.clientPort, 10002);
  assert.equal(events.length, 7);
});

Deno.test("readSpiceMessages reports a connection that starts after its link phase", async () => {
  const f = flow();
  f.open();
  const frames = mainSteps().slice(5).flatMap(([d, b]) => f.send(d, b)).map((x) => x.frame);
  const { events, problems } = await read(records(frames));
  assert.deepEqual(events, []);
  assert.deepEqual(problems.map((p) => [p.kind, p.packetNumber]), [["no-link", 1]]);
});

Deno.test("readSpiceMessages reports a lost segment as a gap and resynchronises on the ack", async () => {
  const f = flow();
  const frames = [...f.open(), ...mainSteps().flatMap(([d, b]) => f.send(d, b))].map((x) =>
    x.frame
  );
  frames.splice(8, 1); // MAIN_INIT, the server's last segment
  const { events, problems } = await read(records(frames));
  // the client's ack of MAIN_INIT (packet 9 now) reveals the loss
  assert.deepEqual(problems.map((p) => [p.kind, p.packetNumber, p.fromClient]), [[
    "gap",
    9,
    false,
  ]]);
  assert.deepEqual(
    events.filter((e) => e.unit.kind === "message").map((
      e,
    ) => (e.unit.kind === "message" ? e.unit.name : e.unit.kind)),
    [
      "ATTACH_CHANNELS",
    ],
  );
});

Deno.test("readSpiceMessages reports bytes left over at the end as an incomplete message", async () => {
  const f = flow();
  const steps = mainSteps();
  const frames = [
    ...f.open(),
    ...steps.slice(0, 5).flatMap(([d, b]) => f.send(d, b)),
    ...f.send("toClient", steps[5][1].subarray(0, 10)),
  ].map((x) => x.frame);
  const { problems } = await read(records(frames));
  assert.deepEqual(problems.map((p) => [p.kind, p.fromClient]), [["incomplete-message", false]]);
});

Deno.test("readSpiceMessages numbers connections in order of their first packet, reused ports too", async () => {
  const a = flow(10001);
  const b = flow(10002);
  const again = flow(10001);
  const frames = [
    ...a.open(),
    ...b.open(),
    ...a.send("toServer", LINK),
    ...b.send("toServer", LINK),
    ...a.close(),
    ...again.open(),
    ...again.send("toServer", LINK),
  ].map((x) => x.frame);
  const { events } = await read(records(frames));
  assert.deepEqual(events.map((e) => e.connection.index), [0, 1, 2]);
});

Deno.test("readSpiceMessages reports non-TCP packets and carries on", async () => {
  const f = flow();
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  const frames = [arp, ...f.open(), ...f.send("toServer", LINK)].map((x) =>
    x instanceof Uint8Array ? x : x.frame
  );
  const { events, problems } = await read(records(frames));
  assert.deepEqual(problems.map((p) => [p.kind, p.packetNumber]), [
    ["not-tcp", 1],
    ["link-incomplete", 5], // the capture ends before the link reply
  ]);
  assert.equal(events.length, 1);
});

Deno.test("SpiceStreamReader.events() completes the same units as push(), whatever came before", () => {
  const f = flow();
  const g = flow(10002);
  const arp = new Uint8Array(42);
  arp[12] = 0x08;
  arp[13] = 0x06;
  // Two connections interleaved, a non-TCP packet between: the reused packet object must not
  // carry a field from one record into the next.
  const a = [...f.open(), ...mainSteps().flatMap(([d, b]) => f.send(d, b))];
  const b = [...g.open(), ...mainSteps().flatMap(([d, b]) => g.send(d, b))];
  const frames = a.flatMap((x, i) => [x.frame, ...(i === 3 ? [arp] : []), b[i]?.frame])
    .filter((x): x is Uint8Array => x !== undefined);
  const recs = records(frames);
  const shape = (evs: readonly MessageEvent[]) =>
    evs.map((e) => [e.packetNumber, e.connection.index, e.unit.kind, e.unit.bytes.length]);
  const problems: [StreamProblem[], StreamProblem[]] = [[], []];
  const byPush = new SpiceStreamReader({ onProblem: (p) => problems[0].push(p) });
  const byEvents = new SpiceStreamReader({ onProblem: (p) => problems[1].push(p) });
  const pushed = recs.flatMap((r) => shape(byPush.push(r).events));
  const evented = recs.flatMap((r) => shape(byEvents.events(r)));
  assert.equal(pushed.length, 2 * mainSteps().length, "both connections' units");
  assert.equal(problems[0].length, 1, "the non-TCP packet");
  assert.deepEqual(evented, pushed);
  assert.deepEqual(problems[1], problems[0]);
  assert.deepEqual(byEvents.connections.map((c) => c.info), byPush.connections.map((c) => c.info));
});
