/** The serve plan, its progress and window, the message rewrites and the server's link phase. */
import assert from "node:assert/strict";
import { buildLinkReply, buildMessage, parseLinkReply, PUBKEY_BYTES } from "../spice/link.ts";
import { makeTicket } from "../spice/ticket.ts";
import { messageName } from "../spice/tables.ts";
import type { SpiceUnit } from "../spice/types.ts";
import type { PlanEvent } from "../replay/plan.ts";
import {
  checkLink,
  decryptTicket,
  LINK_ERROR,
  linkReplyFor,
  makeServerKey,
  refusalReply,
  ticketAccepted,
} from "./link.ts";
import { ServePlanBuilder, ServePlanError } from "./plan.ts";
import { AckWindow, ConnectionProgress } from "./progress.ts";
import {
  channelsOffered,
  reframe,
  restrictChannelsList,
  sessionIdOf,
  withSessionId,
} from "./rewrite.ts";

function msg(
  fromClient: boolean,
  type: number,
  index: number,
  body = new Uint8Array(0),
): SpiceUnit {
  return {
    kind: "message",
    fromClient,
    bytes: buildMessage(type, body),
    offset: 0,
    index,
    type,
    name: "",
    headerSize: 6,
    serial: undefined,
    subMessages: undefined,
  };
}

function linkUnits(channelType: number): SpiceUnit[] {
  const link = new Uint8Array(42);
  link.set([0x52, 0x45, 0x44, 0x51], 0);
  link[20] = channelType;
  const reply = buildLinkReply({
    major: 2,
    minor: 2,
    error: 0,
    pubKey: new Uint8Array(PUBKEY_BYTES),
    commonCaps: [0x0b],
    channelCaps: [0x0f],
  });
  return [
    { kind: "link", fromClient: true, bytes: link, offset: 0 },
    { kind: "linkReply", fromClient: false, bytes: reply, offset: 0 },
    { kind: "ticket", fromClient: true, bytes: new Uint8Array(128), offset: 42 },
    { kind: "linkResult", fromClient: false, bytes: new Uint8Array(4), offset: 202 },
  ];
}

/** A screenshot-like recording: main INIT, PINGs, ATTACH_CHANNELS + PONG, CHANNELS_LIST. */
function screenshotPlan(builder = new ServePlanBuilder()) {
  let t = 0n;
  const add = (file: string, channelType: number, u: SpiceUnit) => {
    const unit = u.kind === "message" ? { ...u, name: messageName(channelType, u) } : u;
    const ev: PlanEvent = { file, connection: 0, channelType, channelId: 0, unit, tsNs: t += 10n };
    builder.add(ev);
  };
  for (const u of linkUnits(1)) add("main.pcap", 1, u);
  add("main.pcap", 1, msg(false, 103, 0, new Uint8Array(32).fill(7))); // INIT
  add("main.pcap", 1, msg(false, 4, 1, new Uint8Array(12))); // PING
  add("main.pcap", 1, msg(true, 104, 0)); // ATTACH_CHANNELS
  add("main.pcap", 1, msg(true, 3, 1, new Uint8Array(12))); // PONG: an answer
  add("main.pcap", 1, msg(false, 104, 2, new Uint8Array([1, 0, 0, 0, 2, 0]))); // CHANNELS_LIST
  for (const u of linkUnits(2)) add("display.pcap", 2, u);
  add("display.pcap", 2, msg(true, 101, 0, new Uint8Array(14))); // DISPLAY_INIT
  add("display.pcap", 2, msg(false, 3, 0, new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]))); // SET_ACK
  add("display.pcap", 2, msg(true, 1, 1, new Uint8Array(4))); // ACK_SYNC
  add("display.pcap", 2, msg(false, 102, 1)); // MARK
  return builder.build();
}

Deno.test("ServePlanBuilder: each server message counts the client messages before it, answers apart", () => {
  const plan = screenshotPlan();
  const [main, display] = plan.connections;
  assert.deepEqual(main.server.map((s) => [s.name, s.afterClient]), [
    ["INIT", 0],
    ["PING", 0],
    ["CHANNELS_LIST", 1],
  ]);
  assert.deepEqual(main.client.map((c) => c.name), ["ATTACH_CHANNELS"]);
  assert.deepEqual(main.answers, { PONG: 1 });
  assert.deepEqual(display.server.map((s) => [s.name, s.afterClient]), [["SET_ACK", 1], [
    "MARK",
    1,
  ]]);
  assert.equal(plan.t0Ns, 10n);
  assert.deepEqual(plan.unusable, []);
});

Deno.test("ServePlanBuilder: no main, no link phase or a truncated link is a clear ServePlanError", () => {
  const b = new ServePlanBuilder();
  b.add({ file: "main.pcap", connection: 0, unit: msg(false, 103, 0), tsNs: 1n });
  assert.throws(
    () => b.build(),
    (e) => e instanceof ServePlanError && /no main channel.*no link phase/.test(e.message),
  );
  const t = new ServePlanBuilder();
  t.add({
    file: "main.pcap",
    connection: 0,
    channelType: 1,
    channelId: 0,
    unit: linkUnits(1)[0],
    tsNs: 1n,
  });
  assert.throws(() => t.build(), /ends before the link reply/);
  const noInit = new ServePlanBuilder();
  for (const u of linkUnits(1)) {
    noInit.add({
      file: "main.pcap",
      connection: 0,
      channelType: 1,
      channelId: 0,
      unit: u,
      tsNs: 1n,
    });
  }
  assert.throws(() => noInit.build(), /no INIT message/);
});

Deno.test("ConnectionProgress: waits for the recorded client messages; a wrong type is a divergence", () => {
  const [main, display] = screenshotPlan().connections;
  const p = new ConnectionProgress(main);
  assert.equal(p.waitingFor(), undefined);
  p.markSent(); // INIT
  p.markSent(); // PING
  assert.match(p.waitingFor()!, /ATTACH_CHANNELS/);
  assert.deepEqual(p.onClient({ type: 3, name: "PONG", index: 0 }), {
    kind: "answer",
    name: "PONG",
  });
  assert.match(p.waitingFor()!, /ATTACH_CHANNELS/, "a PONG is not waited for");
  assert.deepEqual(p.onClient({ type: 104, name: "ATTACH_CHANNELS", index: 1 }), { kind: "match" });
  assert.equal(p.waitingFor(), undefined);
  p.markSent();
  assert.ok(p.drained && p.clientComplete);
  const extra = p.onClient({ type: 105, name: "MOUSE_MODE_REQUEST", index: 2 });
  assert.equal(extra.kind, "divergence");
  assert.equal(
    extra.kind === "divergence" && extra.divergence.message,
    "main: client message #2 is MOUSE_MODE_REQUEST, the recording has no more",
  );
  const d = new ConnectionProgress(display);
  const wrong = d.onClient({ type: 103, name: "PREFERRED_COMPRESSION", index: 0 });
  assert.equal(wrong.kind === "divergence" && wrong.divergence.expected, "INIT");
  assert.match(d.where(), /server 0\/2 sent \(next #0 SET_ACK\), client 1\/1 received/);
});

Deno.test("AckWindow: holds back past twice the window until the ACK of the synced generation", () => {
  const w = new AckWindow();
  w.onSent(3, new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0])); // SET_ACK generation 1, window 2
  for (let i = 0; i < 4; i++) w.onSent(102, new Uint8Array(0));
  assert.equal(w.blocked, false);
  w.onSent(102, new Uint8Array(0));
  assert.equal(w.blocked, true);
  w.onAck(); // before ACK_SYNC: ignored
  assert.equal(w.blocked, true);
  w.onAckSync(1);
  w.onAck();
  assert.equal(w.blocked, false);
  assert.equal(w.unacked, 3);
});

Deno.test("rewrites: session id, channel list cut to the recorded channels, header reframing", () => {
  const init = buildMessage(103, new Uint8Array(32));
  const fresh = withSessionId({ bytes: init, headerSize: 6 }, 0xdeadbeef);
  assert.equal(sessionIdOf({ bytes: fresh, headerSize: 6 }), 0xdeadbeef);
  assert.equal(sessionIdOf({ bytes: init, headerSize: 6 }), 0, "the recorded bytes are left alone");
  const list = buildMessage(104, new Uint8Array([3, 0, 0, 0, 2, 0, 4, 0, 3, 0]));
  const cut = restrictChannelsList({ bytes: list, headerSize: 6 }, (t) => t === 2);
  assert.deepEqual(channelsOffered({ bytes: cut.bytes, headerSize: 6 }), [[2, 0]]);
  assert.deepEqual(cut.left, [[4, 0], [3, 0]]);
  assert.equal(restrictChannelsList({ bytes: list, headerSize: 6 }, () => true).bytes, list);
  const full = reframe({ bytes: list, headerSize: 6 }, { miniHeader: false, serial: 5n });
  assert.equal(full.length, 18 + 10);
  assert.equal(new DataView(full.buffer).getBigUint64(0, true), 5n);
  assert.deepEqual(
    reframe({ bytes: full, headerSize: 18 }, { miniHeader: true, serial: 1n }),
    list,
  );
  assert.equal(reframe({ bytes: list, headerSize: 6 }, { miniHeader: true, serial: 9n }), list);
});

Deno.test("link phase: fresh key in the recorded reply, tickets decrypted and checked", async () => {
  const key = await makeServerKey();
  assert.equal(key.spki.length, PUBKEY_BYTES);
  const recorded = linkUnits(1)[1].bytes;
  const reply = parseLinkReply(linkReplyFor(recorded, key.spki));
  assert.deepEqual(reply.pubKey, key.spki);
  assert.deepEqual([reply.commonCaps, reply.channelCaps], [[0x0b], [0x0f]]);
  const ticket = await makeTicket(key.spki, "secret");
  assert.equal(await decryptTicket(key.privateKey, ticket), "secret");
  assert.equal(ticketAccepted("secret", "secret"), true);
  assert.equal(ticketAccepted("wrong", "secret"), false);
  assert.equal(ticketAccepted(undefined, undefined), true, "no password: any ticket");
  const other = await makeServerKey();
  assert.equal(await decryptTicket(other.privateKey, ticket), undefined);
  assert.equal(parseLinkReply(refusalReply(LINK_ERROR.PERMISSION_DENIED)).error, 7);
});

Deno.test("checkLink: main with 0, secondaries with the live session id, recorded channels only", () => {
  const base = { major: 2, minor: 2, channelId: 0, commonCaps: [], channelCaps: [] };
  const ctx = { sessionId: 42, available: (t: number) => t !== 4 };
  assert.equal(checkLink({ ...base, connectionId: 0, channelType: 1 }, ctx), LINK_ERROR.OK);
  assert.equal(
    checkLink({ ...base, connectionId: 7, channelType: 1 }, ctx),
    LINK_ERROR.BAD_CONNECTION_ID,
  );
  assert.equal(checkLink({ ...base, connectionId: 42, channelType: 2 }, ctx), LINK_ERROR.OK);
  assert.equal(
    checkLink({ ...base, connectionId: 41, channelType: 2 }, ctx),
    LINK_ERROR.BAD_CONNECTION_ID,
  );
  assert.equal(
    checkLink({ ...base, connectionId: 42, channelType: 2 }, { ...ctx, sessionId: undefined }),
    LINK_ERROR.BAD_CONNECTION_ID,
  );
  assert.equal(
    checkLink({ ...base, connectionId: 42, channelType: 4 }, ctx),
    LINK_ERROR.CHANNEL_NOT_AVAILABLE,
  );
  assert.equal(
    checkLink({ ...base, major: 1, connectionId: 0, channelType: 1 }, ctx),
    LINK_ERROR.VERSION_MISMATCH,
  );
});
