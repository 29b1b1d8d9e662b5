import assert from "node:assert/strict";
import {
  capNames,
  CHANNEL_CAPS,
  CHANNEL_MESSAGES,
  CHANNEL_TYPES,
  channelName,
  channelType,
  COMMON_CAPS,
  COMMON_CLIENT_MESSAGES,
  COMMON_SERVER_MESSAGES,
  FIRST_CHANNEL_MESSAGE,
  LINK_ERRORS,
  linkErrorName,
  messageName,
  messageType,
  type NameTable,
} from "./tables.ts";

const ALL_TYPES = Object.values(CHANNEL_TYPES);

function assertUniqueNames(table: NameTable, label: string): void {
  const names = [...table.values()];
  assert.equal(new Set(names).size, names.length, `${label} repeats a name`);
  for (const name of names) assert.match(name, /^[A-Z][A-Z0-9_]*$/, `${label}: ${name}`);
}

Deno.test("every channel type 1–11 has a message table for both directions", () => {
  assert.deepEqual(ALL_TYPES, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  for (const type of ALL_TYPES) {
    const pair = CHANNEL_MESSAGES.get(type);
    assert.ok(pair, `no tables for ${channelName(type)}`);
    assert.equal(pair.length, 2);
    assert.ok(CHANNEL_CAPS.has(type), `no cap table for ${channelName(type)}`);
  }
});

Deno.test("channel tables hold only numbers from 101 and common tables only below", () => {
  for (const t of [COMMON_SERVER_MESSAGES, COMMON_CLIENT_MESSAGES]) {
    for (const n of t.keys()) assert.ok(n >= 1 && n < FIRST_CHANNEL_MESSAGE);
  }
  for (const [type, pair] of CHANNEL_MESSAGES) {
    for (const t of pair) {
      for (const n of t.keys()) assert.ok(n >= FIRST_CHANNEL_MESSAGE, `${channelName(type)} ${n}`);
    }
  }
});

Deno.test("names are unique per channel and direction, common names included", () => {
  for (const [type, [server, client]] of CHANNEL_MESSAGES) {
    assertUniqueNames(
      new Map([...COMMON_SERVER_MESSAGES, ...server]),
      `${channelName(type)} server`,
    );
    assertUniqueNames(
      new Map([...COMMON_CLIENT_MESSAGES, ...client]),
      `${channelName(type)} client`,
    );
  }
  for (const t of [LINK_ERRORS, COMMON_CAPS, ...CHANNEL_CAPS.values()]) {
    assertUniqueNames(t, "table");
  }
});

Deno.test("messageType() inverts messageName() for every table entry", () => {
  for (const type of ALL_TYPES) {
    for (const fromClient of [false, true]) {
      const own = CHANNEL_MESSAGES.get(type)![fromClient ? 1 : 0];
      const common = fromClient ? COMMON_CLIENT_MESSAGES : COMMON_SERVER_MESSAGES;
      for (const [n, name] of [...common, ...own]) {
        assert.equal(messageName(type, { fromClient, type: n }), name);
        assert.equal(messageType(type, { fromClient, name }), n);
      }
    }
  }
});

Deno.test("messageName() matches the numbers of docs/protocol.md", () => {
  const { main, display, inputs, cursor, playback, record, usbredir, port, webdav, smartcard } =
    CHANNEL_TYPES;
  const cases: [number, boolean, number, string][] = [
    [main, false, 3, "SET_ACK"],
    [main, false, 4, "PING"],
    [main, false, 8, "LIST"],
    [main, true, 1, "ACK_SYNC"],
    [main, true, 3, "PONG"],
    [main, true, 6, "DISCONNECTING"],
    [main, false, 103, "INIT"],
    [main, false, 104, "CHANNELS_LIST"],
    [main, false, 114, "UUID"],
    [main, false, 118, "MIGRATE_DST_SEAMLESS_NACK"],
    [main, true, 104, "ATTACH_CHANNELS"],
    [main, true, 111, "MIGRATE_CONNECTED_SEAMLESS"],
    [display, false, 108, "INVAL_ALL_PALETTES"],
    [display, false, 122, "STREAM_CREATE"],
    [display, false, 126, "STREAM_DESTROY_ALL"],
    [display, false, 302, "DRAW_FILL"],
    [display, false, 304, "DRAW_COPY"],
    [display, false, 314, "SURFACE_CREATE"],
    [display, false, 317, "MONITORS_CONFIG"],
    [display, false, 321, "GL_DRAW"],
    [display, true, 101, "INIT"],
    [display, true, 105, "PREFERRED_VIDEO_CODEC_TYPE"],
    [inputs, true, 101, "KEY_DOWN"],
    [inputs, true, 111, "MOUSE_MOTION"],
    [inputs, true, 114, "MOUSE_RELEASE"],
    [inputs, false, 111, "MOUSE_MOTION_ACK"],
    [cursor, false, 103, "SET"],
    [cursor, false, 108, "INVAL_ALL"],
    [playback, false, 107, "LATENCY"],
    [record, true, 103, "START_MARK"],
    [record, false, 101, "START"],
    [usbredir, true, 101, "DATA"],
    [usbredir, false, 102, "COMPRESSED_DATA"],
    [port, false, 201, "PORT_INIT"],
    [webdav, false, 202, "PORT_EVENT"],
    [webdav, true, 201, "PORT_EVENT"],
    [smartcard, true, 101, "DATA"],
  ];
  for (const [ch, fromClient, n, name] of cases) {
    assert.equal(messageName(ch, { fromClient, type: n }), name, `${channelName(ch)} ${n}`);
  }
});

Deno.test("unknown numbers, channels and names fall back without throwing", () => {
  assert.equal(messageName(1, { fromClient: false, type: 9 }), "unknown(9)");
  assert.equal(messageName(1, { fromClient: false, type: 150 }), "unknown(150)");
  assert.equal(messageName(99, { fromClient: false, type: 4 }), "PING");
  assert.equal(messageName(99, { fromClient: false, type: 101 }), "unknown(101)");
  assert.equal(messageName(CHANNEL_TYPES.cursor, { fromClient: true, type: 101 }), "unknown(101)");
  assert.equal(
    messageName(CHANNEL_TYPES.usbredir, { fromClient: false, type: 201 }),
    "unknown(201)",
  );
  assert.equal(messageType(1, { fromClient: false, name: "NOPE" }), undefined);
  assert.equal(channelName(12), "unknown(12)");
  assert.equal(channelName(2), "display");
  assert.equal(channelType("webdav"), 11);
  assert.equal(channelType("toString"), undefined);
});

Deno.test("link error names cover codes 0–9", () => {
  assert.equal(linkErrorName(0), "OK");
  assert.equal(linkErrorName(7), "PERMISSION_DENIED");
  assert.equal(linkErrorName(9), "CHANNEL_NOT_AVAILABLE");
  assert.equal(linkErrorName(10), "unknown(10)");
});

Deno.test("capNames() names the caps spice-gtk and QEMU advertise", () => {
  assert.deepEqual(capNames("common", [0x0d]), [
    "PROTOCOL_AUTH_SELECTION",
    "AUTH_SASL",
    "MINI_HEADER",
  ]);
  assert.deepEqual(capNames(CHANNEL_TYPES.main, [0x0f]), [
    "SEMI_SEAMLESS_MIGRATE",
    "NAME_AND_UUID",
    "AGENT_CONNECTED_TOKENS",
    "SEAMLESS_MIGRATE",
  ]);
  assert.deepEqual(capNames(CHANNEL_TYPES.display, [0x1052]), [
    "MONITORS_CONFIG",
    "STREAM_REPORT",
    "PREF_COMPRESSION",
    "PREF_VIDEO_CODEC_TYPE",
  ]);
  assert.deepEqual(capNames(CHANNEL_TYPES.playback, [0x0e]), ["VOLUME", "LATENCY", "OPUS"]);
  assert.deepEqual(capNames(CHANNEL_TYPES.record, [0x06]), ["VOLUME", "OPUS"]);
  assert.deepEqual(capNames(CHANNEL_TYPES.cursor, [0x01, 0x80000000]), [
    "unknown(0)",
    "unknown(63)",
  ]);
  assert.deepEqual(capNames("common", []), []);
});

Deno.test("tables cannot be modified", () => {
  assert.throws(() => (COMMON_SERVER_MESSAGES as Map<number, string>).set(99, "X"), TypeError);
  assert.throws(() => (LINK_ERRORS as Map<number, string>).delete(0), TypeError);
  assert.throws(() => {
    (CHANNEL_TYPES as Record<string, number>).main = 5;
  }, TypeError);
  assert.equal(messageName(1, { fromClient: false, type: 99 }), "unknown(99)");
});
