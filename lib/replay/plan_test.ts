/** The replay plan: what each client message waits for. */
import assert from "node:assert/strict";
import { causalityMet, isCounted, PlanBuilder, type PlanEvent } from "./plan.ts";
import { MINI_HEADER_BYTES } from "../spice/link.ts";
import { messageName } from "../spice/tables.ts";
import type { SpiceUnit } from "../spice/types.ts";

function unit(
  fromClient: boolean,
  type: number,
  index: number,
  body = new Uint8Array(0),
): SpiceUnit {
  const bytes = new Uint8Array(6 + body.length);
  new DataView(bytes.buffer).setUint16(0, type, true);
  new DataView(bytes.buffer).setUint32(2, body.length, true);
  bytes.set(body, 6);
  return {
    kind: "message",
    fromClient,
    bytes,
    offset: 0,
    index,
    type,
    name: "",
    headerSize: MINI_HEADER_BYTES,
    serial: undefined,
    subMessages: undefined,
  };
}

function link(channelType: number): SpiceUnit {
  const bytes = new Uint8Array(42);
  bytes.set([0x52, 0x45, 0x44, 0x51], 0);
  bytes[20] = channelType;
  return { kind: "link", fromClient: true, bytes, offset: 0 };
}

Deno.test("PlanBuilder drops PONG/ACK_SYNC/ACK and records what each message waited for", () => {
  const b = new PlanBuilder();
  let t = 1_000n;
  const ev = (file: string, channelType: number, u: SpiceUnit): PlanEvent => ({
    file,
    connection: 0,
    channelType,
    channelId: 0,
    // The framer names messages by the channel of their connection.
    unit: u.kind === "message" ? { ...u, name: messageName(channelType, u) } : u,
    tsNs: t += 1_000n,
  });
  b.add(ev("display.pcap", 2, link(2)));
  b.add(ev("main.pcap", 1, link(1)));
  b.add(ev("main.pcap", 1, unit(false, 103, 0, new Uint8Array(32)))); // INIT
  b.add(ev("main.pcap", 1, unit(false, 4, 1))); // PING: not counted
  b.add(ev("main.pcap", 1, unit(true, 104, 0))); // ATTACH_CHANNELS
  b.add(ev("main.pcap", 1, unit(true, 3, 1))); // PONG: dropped
  b.add(ev("main.pcap", 1, unit(false, 104, 2))); // CHANNELS_LIST
  b.add(ev("display.pcap", 2, unit(true, 101, 0))); // DISPLAY_INIT
  b.add(ev("display.pcap", 2, unit(false, 3, 0))); // SET_ACK
  b.add(ev("display.pcap", 2, unit(true, 1, 1))); // ACK_SYNC: dropped
  b.add(ev("display.pcap", 2, unit(false, 314, 1))); // SURFACE_CREATE
  b.add(ev("display.pcap", 2, unit(false, 304, 2))); // DRAW_COPY: noise
  b.add(ev("display.pcap", 2, unit(true, 103, 2))); // PREFERRED_COMPRESSION
  const plan = b.build();
  assert.deepEqual(plan.connections.map((c) => c.channelType), [2, 1], "recorded link order");
  assert.deepEqual(plan.dropped, { PONG: 1, ACK_SYNC: 1 });
  const [display, mainConn] = plan.connections;
  assert.deepEqual(mainConn.messages.map((m) => [m.name, m.afterServerCount, m.afterSyncTypes]), [
    ["ATTACH_CHANNELS", 1, [103]],
  ]);
  assert.deepEqual(display.messages.map((m) => [m.name, m.afterServerCount, m.afterSyncTypes]), [
    ["INIT", 0, []],
    ["PREFERRED_COMPRESSION", 1, [314]],
  ]);
  assert.equal(display.serverNonPing, 3);
  assert.equal(mainConn.serverNonPing, 2);
  assert.equal(plan.t0Ns, 2_000n);
});

Deno.test("causalityMet() names the missing sync point, then the missing count", () => {
  const m = {
    index: 2,
    type: 103,
    name: "PREFERRED_COMPRESSION",
    bytes: new Uint8Array(6),
    headerSize: 6,
    tsNs: 0n,
    afterServerCount: 2,
    afterSyncTypes: [314],
  };
  assert.equal(
    causalityMet(m, { live: { counted: 5, syncSeen: new Set() }, channelType: 2 }),
    "server SURFACE_CREATE",
  );
  assert.equal(
    causalityMet(m, { live: { counted: 1, syncSeen: new Set([314]) }, channelType: 2 }),
    "2 counted server messages (have 1)",
  );
  assert.equal(
    causalityMet(m, { live: { counted: 2, syncSeen: new Set([314]) }, channelType: 2 }),
    undefined,
  );
  assert.equal(isCounted(2, 304), false, "DRAW_COPY is timing noise");
  assert.equal(isCounted(2, 314), true);
  assert.equal(isCounted(1, 4), false, "PING is never counted");
});
