import assert from "node:assert/strict";
import { concatBytes } from "../bytes.ts";
import {
  type ConnectionFixture,
  displayFixture,
  type ExpectedUnit,
  fakePubKey,
  le,
  mainFixture,
} from "../../testing/spice_fixtures.ts";
import { SpiceConnectionFramer } from "./framer.ts";
import { buildLinkMessage, buildLinkReply, buildMessage, buildU32 } from "./link.ts";
import { SpiceFramingError, type SpiceUnit } from "./types.ts";

type Push = { fromClient: boolean; chunk: Uint8Array };

/** Runs pushes through one framer; returns the units of each direction. */
function frame(pushes: Push[], framer = new SpiceConnectionFramer()) {
  const client: SpiceUnit[] = [];
  const server: SpiceUnit[] = [];
  for (const { fromClient, chunk } of pushes) {
    if (fromClient) client.push(...framer.pushClient(chunk));
    else server.push(...framer.pushServer(chunk));
  }
  return { client, server, framer };
}

/** Client first, then server, each stream in the given chunk sizes. */
function pushesOf(fx: ConnectionFixture, cut: (s: Uint8Array) => Uint8Array[]): Push[] {
  return [
    ...cut(fx.client).map((chunk) => ({ fromClient: true, chunk })),
    ...cut(fx.server).map((chunk) => ({ fromClient: false, chunk })),
  ];
}

function assertUnits(units: SpiceUnit[], expected: ExpectedUnit[], stream: Uint8Array): void {
  assert.equal(units.length, expected.length);
  let offset = 0;
  let index = 0;
  units.forEach((u, i) => {
    const e = expected[i];
    assert.equal(u.kind, e.kind, `unit ${i}`);
    assert.equal(u.bytes.length, e.length, `unit ${i} (${e.name ?? e.kind}) length`);
    assert.equal(u.offset, offset, `unit ${i} offset`);
    assert.deepEqual(u.bytes, stream.subarray(offset, offset + e.length));
    if (u.kind === "message") {
      assert.equal(u.type, e.type);
      assert.equal(u.name, e.name);
      assert.equal(u.index, index++);
    }
    offset += e.length;
  });
}

/** Comparable shape of a unit list (bytes copied out). */
function shape(units: SpiceUnit[]) {
  return units.map((u) => ({
    ...u,
    bytes: Array.from(u.bytes),
    subMessages: u.kind === "message" ? u.subMessages?.length : undefined,
  }));
}

function splitAt(s: Uint8Array, k: number): Uint8Array[] {
  return [s.subarray(0, k), s.subarray(k)];
}

function randomChunks(seed: number): (s: Uint8Array) => Uint8Array[] {
  let x = seed;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648);
  return (s) => {
    const out: Uint8Array[] = [];
    for (let at = 0; at < s.length;) {
      const n = 1 + (next() % (next() % 3 === 0 ? 7 : 300));
      out.push(s.slice(at, at + n)); // copies: proves no reliance on a shared buffer
      at += n;
    }
    return out;
  };
}

for (const miniHeader of [true, false]) {
  const label = miniHeader ? "mini" : "full";

  Deno.test(`framer cuts a whole main session (${label} headers) into the units of a spicy-screenshot session`, () => {
    const fx = mainFixture({ miniHeader });
    const { client, server, framer } = frame(pushesOf(fx, (s) => [s]));
    assertUnits(client, fx.clientUnits, fx.client);
    assertUnits(server, fx.serverUnits, fx.server);
    assert.deepEqual(client.slice(0, 3).map((u) => u.bytes.length), [42, 4, 128]);
    assert.deepEqual(server.slice(0, 3).map((u) => u.bytes.length), [202, 4, miniHeader ? 38 : 50]);
    assert.equal(framer.miniHeader, miniHeader);
    assert.equal(framer.channelType, 1);
    assert.equal(framer.channelId, 0);
    assert.equal(framer.linkResult, 0);
    assert.equal(framer.authMechanism, 1);
    assert.deepEqual(framer.reply?.commonCaps, [0x0b]);
    assert.equal(framer.pending(true) + framer.pending(false), 0);
    const messages = server.filter((u) => u.kind === "message");
    assert.ok(messages.every((u) => u.headerSize === (miniHeader ? 6 : 18)));
    if (miniHeader) assert.ok(messages.every((u) => u.serial === undefined));
    else assert.deepEqual(messages.map((u) => u.serial), messages.map((_, i) => BigInt(i + 1)));
  });

  Deno.test(`framer gives the same units for a ${label}-header stream split at every byte`, () => {
    for (const fx of [mainFixture({ miniHeader }), displayFixture({ miniHeader })]) {
      const whole = frame(pushesOf(fx, (s) => [s]));
      for (const stream of ["client", "server"] as const) {
        for (let k = 0; k <= fx[stream].length; k++) {
          const got = frame(pushesOf(fx, (s) => (s === fx[stream] ? splitAt(s, k) : [s])));
          assert.deepEqual(shape(got[stream]), shape(whole[stream]), `${stream} split at ${k}`);
        }
      }
    }
  });

  Deno.test(`framer gives the same units for random ${label}-header chunkings`, () => {
    const fx = mainFixture({ miniHeader, pingPayload: 256000 });
    const whole = frame(pushesOf(fx, (s) => [s]));
    for (let seed = 1; seed <= 20; seed++) {
      const got = frame(pushesOf(fx, randomChunks(seed)));
      assert.deepEqual(shape(got.client), shape(whole.client), `seed ${seed}`);
      assert.deepEqual(got.server.map((u) => u.offset), whole.server.map((u) => u.offset));
      assert.deepEqual(got.server.map((u) => u.bytes), whole.server.map((u) => u.bytes));
    }
  });
}

Deno.test("framer returns views into the pushed chunk for units inside it", () => {
  const fx = mainFixture();
  const chunk = fx.server.slice();
  const framer = new SpiceConnectionFramer();
  framer.pushClient(fx.client);
  for (const u of framer.pushServer(chunk)) assert.equal(u.bytes.buffer, chunk.buffer);
});

Deno.test("framer holds server messages that arrive before the client link", () => {
  const fx = mainFixture();
  const framer = new SpiceConnectionFramer();
  const early = framer.pushServer(fx.server);
  assert.deepEqual(early.map((u) => u.kind), ["linkReply", "linkResult"]);
  assert.ok(framer.pending(false) > 0);
  framer.pushClient(fx.client);
  const rest = framer.pushServer(new Uint8Array(0));
  assert.deepEqual(
    rest.map((u) => u.kind === "message" && u.name),
    fx.serverUnits.slice(2).map((e) => e.name),
  );
  assert.equal(framer.pending(false), 0);
});

Deno.test("framer unpacks a MSG_LIST and a full-header sub_list", () => {
  const fx = mainFixture({ miniHeader: false });
  const { server } = frame(pushesOf(fx, (s) => [s]));
  const list = server.filter((u) => u.kind === "message").find((u) => u.name === "LIST")!;
  assert.deepEqual(list.subMessages?.map((m) => [m.type, m.name, m.body.length]), [
    [106, "MULTI_MEDIA_TIME", 4],
    [105, "MOUSE_MODE", 4],
  ]);
  // A PING whose header points at a one-entry sub-list after its 12-byte body.
  const sub = concatBytes([le(["u16", 1], ["u32", 18]), le(["u16", 106], ["u32", 4], ["u32", 77])]);
  const body = concatBytes([le(["u32", 9], ["u64", 1n]), sub]);
  const framer = new SpiceConnectionFramer();
  framer.pushClient(fx.client.subarray(0, 42 + 4 + 128));
  framer.pushServer(fx.server.subarray(0, 206));
  const [ping] = framer.pushServer(buildMessage(4, body, { miniHeader: false, subList: 12 }));
  assert.ok(ping.kind === "message");
  assert.deepEqual(ping.subMessages?.map((m) => [m.name, Array.from(m.body)]), [
    ["MULTI_MEDIA_TIME", [77, 0, 0, 0]],
  ]);
  assert.throws(
    () => framer.pushServer(buildMessage(4, body, { miniHeader: false, subList: 40 })),
    SpiceFramingError,
  );
});

function linkOf(common: number, channelType = 1): Uint8Array {
  return buildLinkMessage({
    major: 2,
    minor: 2,
    connectionId: 0,
    channelType,
    channelId: 0,
    commonCaps: [common],
    channelCaps: [],
  });
}

function replyOf(error: number): Uint8Array {
  return buildLinkReply({
    major: 2,
    minor: 2,
    error,
    pubKey: error ? new Uint8Array(162) : fakePubKey(),
    commonCaps: error ? [] : [0x0b],
    channelCaps: [],
  });
}

Deno.test("without AUTH_SELECTION the ticket follows the link directly", () => {
  const framer = new SpiceConnectionFramer();
  const units = framer.pushClient(
    concatBytes([linkOf(0x08), new Uint8Array(128), buildMessage(2, new Uint8Array(0))]),
  );
  assert.deepEqual(units.map((u) => u.kind), ["link", "ticket", "message"]);
  const ack = units[2];
  assert.ok(ack.kind === "message");
  assert.equal(ack.name, "ACK");
  assert.equal(framer.authMechanism, undefined);
});

Deno.test("a failed link reply ends both directions", () => {
  const framer = new SpiceConnectionFramer();
  framer.pushClient(linkOf(0x09));
  const units = framer.pushServer(replyOf(4));
  assert.deepEqual(units.map((u) => u.kind), ["linkReply"]);
  assert.equal(framer.reply?.error, 4);
  assert.equal(framer.linkResult, undefined);
  assert.throws(() => framer.pushServer(buildU32(0)), (e: unknown) => {
    assert.ok(e instanceof SpiceFramingError);
    assert.equal(e.offset, 194);
    assert.match(e.message, /no data after link reply error 4 \(VERSION_MISMATCH\)/);
    return true;
  });
  assert.throws(() => framer.pushClient(buildU32(1)), /no data after/);
});

Deno.test("a failed link result allows no messages after it", () => {
  const framer = new SpiceConnectionFramer();
  framer.pushClient(concatBytes([linkOf(0x09), buildU32(1), new Uint8Array(128)]));
  const units = framer.pushServer(concatBytes([replyOf(0), buildU32(7)]));
  assert.deepEqual(units.map((u) => u.kind), ["linkReply", "linkResult"]);
  assert.equal(framer.linkResult, 7);
  assert.throws(() => framer.pushServer(buildMessage(4, new Uint8Array(12))), /PERMISSION_DENIED/);
  assert.throws(() => framer.pushClient(buildMessage(3, new Uint8Array(12))), /no data after/);
});

Deno.test("an unknown auth mechanism gets a second, failing link reply", () => {
  const framer = new SpiceConnectionFramer();
  framer.pushClient(concatBytes([linkOf(0x09), buildU32(9)]));
  const units = framer.pushServer(concatBytes([replyOf(0), replyOf(3)]));
  assert.deepEqual(units.map((u) => u.kind), ["linkReply", "linkReply"]);
  assert.equal(framer.reply?.error, 0);
  assert.throws(() => framer.pushClient(new Uint8Array(128)), /unknown auth mechanism 9/);
});

Deno.test("framer rejects bad magic, bad link sizes and oversized messages with offsets", () => {
  const cases: [Push[], number, RegExp][] = [
    [[{ fromClient: true, chunk: new TextEncoder().encode("GET / HTTP/1.1\r\n") }], 0, /REDQ/],
    [
      [{ fromClient: true, chunk: linkOf(0).slice(0, 16).fill(0, 12) }],
      12,
      /between 18 and 4096, found 0/,
    ],
    [
      [{ fromClient: true, chunk: concatBytes([linkOf(0).subarray(0, 12), le(["u32", 4097])]) }],
      12,
      /found 4097/,
    ],
    [
      [{ fromClient: true, chunk: linkOf(0x08) }, {
        fromClient: false,
        chunk: replyOf(0).subarray(0, 16).fill(0, 12),
      }],
      12,
      /178/,
    ],
    [
      [
        { fromClient: true, chunk: concatBytes([linkOf(0x08), new Uint8Array(128)]) },
        {
          fromClient: true,
          chunk: concatBytes([buildMessage(2, new Uint8Array(0)), le(["u16", 3], ["u32", 2000])]),
        },
      ],
      38 + 128 + 6 + 2,
      /maxMessageBytes\), found 2000/,
    ],
  ];
  for (const [pushes, offset, message] of cases) {
    const framer = new SpiceConnectionFramer({ maxMessageBytes: 1000 });
    assert.throws(() => frame(pushes, framer), (e: unknown) => {
      assert.ok(e instanceof SpiceFramingError, String(e));
      assert.equal(e.offset, offset, e.message);
      assert.match(e.message, message);
      return true;
    });
    const last = pushes[pushes.length - 1];
    assert.ok(framer.failed(last.fromClient));
    const push = last.fromClient ? framer.pushClient : framer.pushServer;
    assert.throws(() => push.call(framer, new Uint8Array(0)), /after the framing error/);
  }
});

Deno.test("bad magic is reported as soon as four bytes arrive", () => {
  const framer = new SpiceConnectionFramer();
  assert.deepEqual(framer.pushClient(new Uint8Array([0x52, 0x45, 0x44])), []);
  assert.equal(framer.pending(true), 3);
  assert.throws(() => framer.pushClient(new Uint8Array([0x52])), /found 0x52444552/);
});

Deno.test("SASL authentication is refused with a clear error", () => {
  const framer = new SpiceConnectionFramer();
  framer.pushClient(linkOf(0x05));
  assert.throws(() => framer.pushClient(buildU32(2)), (e: unknown) => {
    assert.ok(e instanceof SpiceFramingError);
    assert.equal(e.offset, 38);
    assert.match(e.message, /SASL/);
    return true;
  });
});

Deno.test("pending() counts the bytes of an incomplete unit", () => {
  const fx = mainFixture();
  const framer = new SpiceConnectionFramer();
  assert.equal(framer.pushClient(fx.client.subarray(0, 30)).length, 0);
  assert.equal(framer.pending(true), 30);
  assert.equal(framer.pushClient(fx.client.subarray(30, 50)).length, 2);
  assert.equal(framer.pending(true), 4);
  assert.equal(framer.pending(false), 0);
});

/**
 * Frames `pushes` with a borrowing framer through one reused buffer that is overwritten before
 * each push and scribbled over once the push's units are read, as a relay's read buffer is.
 */
function frameBorrowed(pushes: Push[], maxChunk: number) {
  const framer = new SpiceConnectionFramer({ borrowChunks: true });
  const buffer = new Uint8Array(maxChunk);
  const units = { client: [] as ReturnType<typeof shape>, server: [] as ReturnType<typeof shape> };
  for (const { fromClient, chunk } of pushes) {
    buffer.set(chunk);
    const got = fromClient
      ? framer.pushClient(buffer.subarray(0, chunk.length))
      : framer.pushServer(buffer.subarray(0, chunk.length));
    units[fromClient ? "client" : "server"].push(...shape(got));
    buffer.fill(0xee);
  }
  return { units, framer };
}

for (const miniHeader of [true, false]) {
  Deno.test(`a borrowing framer (${miniHeader ? "mini" : "full"} headers) frames chunks whose memory is reused at once`, () => {
    const fx = mainFixture({ miniHeader, pingPayload: 256000 });
    const whole = frame(pushesOf(fx, (s) => [s]));
    for (let seed = 1; seed <= 20; seed++) {
      const pushes = pushesOf(fx, randomChunks(seed));
      const got = frameBorrowed(pushes, 300);
      assert.deepEqual(got.units.client, shape(whole.client), `client, seed ${seed}`);
      assert.deepEqual(got.units.server, shape(whole.server), `server, seed ${seed}`);
    }
    for (const fx2 of [displayFixture({ miniHeader }), mainFixture({ miniHeader })]) {
      const ref = frame(pushesOf(fx2, (s) => [s]));
      for (const stream of ["client", "server"] as const) {
        for (let k = 0; k <= fx2[stream].length; k += 7) {
          const pushes = pushesOf(fx2, (s) => (s === fx2[stream] ? splitAt(s, k) : [s]));
          const got = frameBorrowed(pushes, Math.max(fx2.client.length, fx2.server.length));
          assert.deepEqual(got.units[stream], shape(ref[stream]), `${stream} split at ${k}`);
        }
      }
    }
  });
}

Deno.test("a borrowing framer interleaves directions and keeps what a stream ended inside", () => {
  const fx = mainFixture({ pingPayload: 5000 });
  const whole = frame(pushesOf(fx, (s) => [s]));
  const c = randomChunks(3)(fx.client);
  const s = randomChunks(4)(fx.server.subarray(0, fx.server.length - 10));
  const pushes: Push[] = [];
  for (let i = 0; i < Math.max(c.length, s.length); i++) {
    if (i < c.length) pushes.push({ fromClient: true, chunk: c[i] });
    if (i < s.length) pushes.push({ fromClient: false, chunk: s[i] });
  }
  const got = frameBorrowed(pushes, 300);
  assert.deepEqual(got.units.client, shape(whole.client));
  const lastServer = whole.server[whole.server.length - 1];
  assert.deepEqual(got.units.server, shape(whole.server.slice(0, -1)));
  assert.deepEqual(
    got.framer.takePending(false),
    lastServer.bytes.subarray(0, lastServer.bytes.length - 10),
    "the cut unit's bytes, copied before their chunks were reused",
  );
});
