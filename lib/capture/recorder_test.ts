import assert from "node:assert/strict";
import type { CaptureSession, ChannelConnection } from "./session.ts";
import { CHANNEL_TYPES, messageType } from "../spice/tables.ts";
import { ConnectionRecorder, type RecorderOptions } from "./recorder.ts";
import type { ManifestFacts, UnrecordedConnection } from "./manifest.ts";
import { syntheticLink, syntheticMessage } from "../../testing/synthetic_spice.ts";
import { concatBytes } from "../bytes.ts";

interface Packet {
  dir: "sent" | "received";
  bytes: Uint8Array;
  comment?: string;
}

/** A CaptureSession stand-in that keeps what it is given. */
function fakeSession() {
  const opened: [number, number][] = [];
  const packets: Packet[] = [];
  const fields: ManifestFacts = {};
  const unrecorded: UnrecordedConnection[] = [];
  let closed = 0;
  const conn: ChannelConnection = {
    sent: (bytes, comment) => packets.push({ dir: "sent", bytes: bytes.slice(), comment }),
    received: (bytes, comment) => packets.push({ dir: "received", bytes: bytes.slice(), comment }),
    partial: (fromClient, bytes, comment) =>
      void packets.push({ dir: fromClient ? "sent" : "received", bytes: bytes.slice(), comment }),
    skip: () => {},
    close: () => void closed++,
    clientPort: 10001,
  };
  const session = {
    openConnection: (type: number, id: number) => {
      opened.push([type, id]);
      return conn;
    },
    setFacts: (f: ManifestFacts) => void Object.assign(fields, f),
    nowNs: () => 1_000n,
    noteUnrecorded: (u: UnrecordedConnection) => void unrecorded.push(u),
  } as unknown as CaptureSession;
  return { session, opened, packets, fields, unrecorded, closed: () => closed };
}

function mainInit(sessionId: number): Uint8Array {
  const body = new Uint8Array(32);
  new DataView(body.buffer).setUint32(0, sessionId, true);
  const type = messageType(CHANNEL_TYPES.main, { fromClient: false, name: "INIT" })!;
  const msg = syntheticMessage(type, 32);
  msg.set(body, 6);
  return msg;
}

function recorder(extra: Partial<RecorderOptions> = {}) {
  const fake = fakeSession();
  const errors: string[] = [];
  const rec = new ConnectionRecorder({
    session: fake.session,
    onSessionId: (id) => fake.session.setFacts({ sessionId: id }),
    onError: (m) => errors.push(m),
    ...extra,
  });
  return { ...fake, rec, errors };
}

Deno.test("ConnectionRecorder records one packet per link piece and message, ticket zeroed", () => {
  const { rec, opened, packets, fields, errors, closed } = recorder({ comments: true });
  const l = syntheticLink(CHANNEL_TYPES.main);
  const init = mainInit(0x12345678);
  const attach = syntheticMessage(
    messageType(CHANNEL_TYPES.main, { fromClient: true, name: "ATTACH_CHANNELS" })!,
    0,
  );
  // The client writes link; the mechanism and ticket arrive in one chunk, split mid-unit.
  rec.client(l.link.subarray(0, 10));
  rec.client(l.link.subarray(10));
  rec.server(concatBytes([l.reply, l.result.subarray(0, 0)]));
  const rest = concatBytes([l.authMechanism, l.ticket]);
  rec.client(rest.subarray(0, 7));
  rec.client(rest.subarray(7));
  rec.server(concatBytes([l.result, init.subarray(0, 20)]));
  rec.server(init.subarray(20));
  rec.client(attach);
  rec.close();
  rec.close();

  assert.deepEqual(opened, [[CHANNEL_TYPES.main, 0]]);
  assert.deepEqual(errors, []);
  assert.deepEqual(packets.map((p) => [p.dir, p.comment]), [
    ["sent", "main → link"],
    ["received", "main ← link reply"],
    ["sent", "main → auth mechanism"],
    ["sent", "main → ticket"],
    ["received", "main ← link result"],
    ["received", "main ← INIT"],
    ["sent", "main → ATTACH_CHANNELS"],
  ]);
  assert.deepEqual(packets[0].bytes, l.link);
  assert.deepEqual(packets[3].bytes, new Uint8Array(128), "ticket recorded as zeros");
  assert.deepEqual(packets[5].bytes, init);
  assert.equal(fields.sessionId, 0x12345678);
  assert.equal(closed(), 1);
});

Deno.test("ConnectionRecorder keeps the ticket with keepTicket and adds no comments by default", () => {
  const { rec, packets } = recorder({ keepTicket: true });
  const l = syntheticLink(CHANNEL_TYPES.display, { channelId: 1, connectionId: 7 });
  rec.client(concatBytes([l.link, l.authMechanism, l.ticket]));
  assert.deepEqual(packets[2].bytes, l.ticket);
  assert.ok(packets.every((p) => p.comment === undefined));
});

Deno.test("ConnectionRecorder names the link failure in the link result comment", () => {
  const { rec, packets } = recorder({ comments: true });
  const l = syntheticLink(CHANNEL_TYPES.main, { result: 7 });
  rec.client(concatBytes([l.link]));
  rec.server(l.reply);
  rec.client(concatBytes([l.authMechanism, l.ticket]));
  rec.server(l.result);
  assert.equal(packets.at(-1)?.comment, "main ← link result 7 PERMISSION_DENIED");
});

Deno.test("ConnectionRecorder zeroes key codes and mouse buttons with redactInputs only", () => {
  const inputs = CHANNEL_TYPES.inputs;
  const keyDown = syntheticMessage(
    messageType(inputs, { fromClient: true, name: "KEY_DOWN" })!,
    4,
    0x1e,
  );
  const press = syntheticMessage(
    messageType(inputs, { fromClient: true, name: "MOUSE_PRESS" })!,
    3,
    0x01,
  );
  const motion = syntheticMessage(
    messageType(inputs, { fromClient: true, name: "MOUSE_MOTION" })!,
    10,
    0x07,
  );
  const modifiers = syntheticMessage(
    messageType(inputs, { fromClient: true, name: "KEY_MODIFIERS" })!,
    2,
    0x02,
  );
  for (const redactInputs of [false, true]) {
    const { rec, packets } = recorder({ redactInputs });
    const l = syntheticLink(inputs);
    rec.client(l.link);
    rec.server(l.reply);
    rec.client(concatBytes([l.authMechanism, l.ticket]));
    rec.server(l.result);
    const stream = concatBytes([keyDown, press, motion, modifiers]);
    const before = stream.slice();
    rec.client(stream);
    assert.deepEqual(stream, before, "the forwarded bytes are never modified");
    const [k, p, m, mod] = packets.slice(-4).map((x) => x.bytes);
    if (!redactInputs) {
      assert.deepEqual([k, p, m, mod], [keyDown, press, motion, modifiers]);
      continue;
    }
    assert.deepEqual(k.subarray(0, 6), keyDown.subarray(0, 6), "header kept");
    assert.deepEqual(k.subarray(6), new Uint8Array(4));
    assert.deepEqual(p.subarray(6), new Uint8Array(3));
    assert.deepEqual(m.subarray(6, 14), motion.subarray(6, 14), "motion deltas kept");
    assert.deepEqual(m.subarray(14), new Uint8Array(2));
    assert.deepEqual(mod, modifiers);
  }
});

Deno.test("ConnectionRecorder records bytes after a framing error unframed and counts it", () => {
  const { rec, packets, errors } = recorder({ comments: true });
  const l = syntheticLink(CHANNEL_TYPES.cursor);
  rec.client(l.link);
  rec.server(l.reply);
  rec.client(concatBytes([l.authMechanism, l.ticket]));
  rec.server(l.result);
  // A mini header claiming a body above the framer's limit.
  const bad = new Uint8Array([1, 0, 0xff, 0xff, 0xff, 0x7f, 9, 9]);
  rec.server(bad);
  rec.server(new Uint8Array([1, 2, 3]));
  rec.client(syntheticMessage(1, 4)); // the client direction still frames
  assert.equal(errors.length, 1);
  assert.match(errors[0], /cursor channel: not SPICE/);
  assert.equal(rec.errors, 1);
  const tail = packets.slice(-3);
  assert.deepEqual(tail.map((p) => [p.dir, p.comment]), [
    ["received", "cursor ← raw"],
    ["received", "cursor ← raw"],
    ["sent", "cursor → ACK_SYNC"],
  ]);
  assert.deepEqual(tail[0].bytes, bad);
});

Deno.test("ConnectionRecorder records nothing for a client that does not speak SPICE", () => {
  const { rec, packets, errors, opened } = recorder();
  rec.client(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
  rec.server(new TextEncoder().encode("HTTP/1.1 400\r\n"));
  rec.close();
  assert.equal(packets.length, 0);
  assert.equal(opened.length, 0);
  assert.equal(errors.length, 1);
});
