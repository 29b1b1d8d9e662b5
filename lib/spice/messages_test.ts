import assert from "node:assert/strict";
import { displayFixture, drawCopyBody, le, mainFixture } from "../../testing/spice_fixtures.ts";
import { concatBytes } from "../bytes.ts";
import { SpiceConnectionFramer } from "./framer.ts";
import {
  decodeMessage,
  hasDecoder,
  messageBody,
  NONDETERMINISTIC_FIELDS,
  summarizeFields,
} from "./messages.ts";
import { CHANNEL_TYPES, messageName } from "./tables.ts";

const { main, display, inputs, cursor, playback, record, port, usbredir } = CHANNEL_TYPES;

function decodedSession(fx: { client: Uint8Array; server: Uint8Array }) {
  const framer = new SpiceConnectionFramer();
  const units = [...framer.pushClient(fx.client), ...framer.pushServer(fx.server)];
  return units.filter((u) => u.kind === "message").map((u) => ({
    name: u.name,
    fromClient: u.fromClient,
    fields: decodeMessage(framer.channelType!, {
      fromClient: u.fromClient,
      type: u.type,
      body: messageBody(u),
    }),
  }));
}

Deno.test("decodeMessage() reads the main channel of a spicy-screenshot session", () => {
  const msgs = decodedSession(mainFixture());
  const get = (name: string, fromClient = false) =>
    msgs.filter((m) => m.name === name && m.fromClient === fromClient).map((m) => m.fields);
  assert.deepEqual(get("INIT")[0], {
    sessionId: 0x1234abcd,
    displayChannelsHint: 1,
    supportedMouseModes: 1,
    currentMouseMode: 1,
    agentConnected: 0,
    agentTokens: 10,
    multiMediaTime: 987654,
    ramHint: 50323456,
  });
  assert.deepEqual(get("NAME")[0], { nameLength: 12, name: "QEMU 7.2.22" });
  assert.deepEqual(get("UUID")[0], { uuid: "00000000-0000-0000-0000-000000000000" });
  assert.deepEqual(get("PING").map((f) => [f?.id, f?.payloadBytes]), [[1, 0], [2, 0], [3, 1000]]);
  assert.equal(get("PING")[0]?.timestamp, 1_700_000_000_000_001n);
  assert.deepEqual(get("PONG", true)[2], { id: 3, timestamp: 1_700_000_000_000_003n });
  assert.deepEqual(get("CHANNELS_LIST")[0], {
    count: 3,
    channels: [
      { type: 2, name: "display", id: 0 },
      { type: 4, name: "cursor", id: 0 },
      { type: 3, name: "inputs", id: 0 },
    ],
  });
  assert.deepEqual(get("LIST")[0], { count: 2 });
  assert.deepEqual(get("DISCONNECTING", true)[0], {
    timestamp: 99n,
    reason: 0,
    reasonName: "OK",
  });
  assert.equal(get("ATTACH_CHANNELS", true)[0], undefined);
});

Deno.test("decodeMessage() reads the display channel's first messages", () => {
  const msgs = decodedSession(displayFixture());
  const by = new Map(msgs.map((m) => [`${m.fromClient ? "c" : "s"}:${m.name}`, m.fields]));
  assert.deepEqual(by.get("c:INIT"), {
    pixmapCacheId: 1,
    pixmapCacheSize: 20971520n,
    glzDictionaryId: 1,
    glzDictionaryWindowSize: 6290432,
  });
  assert.deepEqual(by.get("s:SET_ACK"), { generation: 1, window: 20 });
  assert.deepEqual(by.get("c:ACK_SYNC"), { generation: 1 });
  assert.deepEqual(by.get("s:SURFACE_CREATE"), {
    surfaceId: 0,
    width: 720,
    height: 400,
    format: 32,
    formatName: "32_xRGB",
    flags: 1,
    flagNames: ["PRIMARY"],
  });
  const copy = by.get("s:DRAW_COPY")!;
  assert.deepEqual(copy.box, { top: 0, left: 0, bottom: 400, right: 720 });
  assert.equal(copy.surfaceId, 0);
  assert.equal(copy.clipType, 0);
  assert.equal(copy.clipTypeName, "NONE");
  assert.deepEqual(copy.ropDescriptorNames, ["OP_PUT"]);
  assert.equal(copy.scaleModeName, "INTERPOLATE");
  assert.deepEqual(copy.image, {
    id: 0x1122334455667788n,
    type: 101,
    typeName: "LZ_RGB",
    flags: 0,
    width: 720,
    height: 400,
  });
  const mon = by.get("s:MONITORS_CONFIG")!;
  assert.deepEqual(mon.heads, [{
    id: 0,
    surfaceId: 0,
    width: 720,
    height: 400,
    x: 0,
    y: 0,
    flags: 0,
  }]);
});

Deno.test("decodeMessage() covers inputs, cursor, audio, port and usbredir bodies", () => {
  assert.deepEqual(
    decodeMessage(inputs, { fromClient: true, type: 101, body: le(["u32", 0x1e]) }),
    { scancode: 0x1e },
  );
  assert.deepEqual(
    decodeMessage(inputs, {
      fromClient: true,
      type: 111,
      body: le(["i32", -3], ["i32", 4], ["u16", 1]),
    }),
    { dx: -3, dy: 4, buttons: 1, buttonNames: ["left"] },
  );
  assert.deepEqual(
    decodeMessage(inputs, {
      fromClient: true,
      type: 112,
      body: le(["u32", 10], ["u32", 20], ["u16", 0], ["u8", 0]),
    }),
    { x: 10, y: 20, buttons: 0, buttonNames: [], displayId: 0 },
  );
  assert.deepEqual(decodeMessage(inputs, { fromClient: false, type: 101, body: le(["u16", 2]) }), {
    modifiers: 2,
    modifierNames: ["NumLock"],
  });
  // CURSOR_INIT with flags NONE is 17 bytes on the wire (docs/protocol.md "Cursor, audio and the
  // byte-pipe channels").
  const init = le(["u16", 0], ["u16", 0], ["u16", 0], ["u16", 0], ["u8", 1], ["u16", 1]);
  assert.deepEqual(decodeMessage(cursor, { fromClient: false, type: 101, body: init }), {
    x: 0,
    y: 0,
    trailLength: 0,
    trailFrequency: 0,
    visible: 1,
    cursor: { flags: 1, flagNames: ["NONE"] },
  });
  const shape = concatBytes([
    le(["u16", 5], ["u16", 6], ["u8", 1], ["u16", 2], ["u64", 9n], ["u8", 0], ["u16", 32]),
    le(["u16", 32], ["u16", 1], ["u16", 2]),
    new Uint8Array(100),
  ]);
  assert.deepEqual(decodeMessage(cursor, { fromClient: false, type: 103, body: shape })?.cursor, {
    flags: 2,
    flagNames: ["CACHE_ME"],
    unique: 9n,
    type: 0,
    typeName: "ALPHA",
    width: 32,
    height: 32,
    hotX: 1,
    hotY: 2,
    dataBytes: 100,
  });
  assert.deepEqual(
    decodeMessage(playback, {
      fromClient: false,
      type: 103,
      body: le(["u32", 2], ["u16", 1], ["u32", 48000], ["u32", 77]),
    }),
    { channels: 2, format: 1, frequency: 48000, time: 77 },
  );
  assert.deepEqual(
    decodeMessage(playback, {
      fromClient: false,
      type: 102,
      body: concatBytes([le(["u32", 5], ["u16", 3]), new Uint8Array(9)]),
    }),
    { time: 5, mode: 3, dataBytes: 9 },
  );
  assert.deepEqual(decodeMessage(record, { fromClient: true, type: 103, body: le(["u32", 8]) }), {
    time: 8,
  });
  assert.deepEqual(
    decodeMessage(playback, {
      fromClient: false,
      type: 105,
      body: le(["u8", 2], ["u16", 100], ["u16", 200]),
    }),
    { count: 2, volumes: [100, 200] },
  );
  assert.deepEqual(
    decodeMessage(usbredir, { fromClient: false, type: 101, body: new Uint8Array(80) }),
    { dataBytes: 80 },
  );
  const portName = new TextEncoder().encode("org.qemu.x\0");
  assert.deepEqual(
    decodeMessage(port, {
      fromClient: false,
      type: 201,
      body: concatBytes([le(["u32", portName.length]), portName, le(["u8", 1])]),
    }),
    { nameSize: 11, name: "org.qemu.x", opened: 1 },
  );
  assert.deepEqual(decodeMessage(port, { fromClient: true, type: 201, body: le(["u8", 1]) }), {
    event: 1,
  });
  assert.equal(
    decodeMessage(usbredir, { fromClient: true, type: 201, body: le(["u8", 1]) }),
    undefined,
  );
});

Deno.test("decodeMessage() returns the fields read so far and truncated on a short body", () => {
  const body = le(["u32", 7], ["u32", 1], ["u32", 1]);
  assert.deepEqual(decodeMessage(main, { fromClient: false, type: 103, body }), {
    sessionId: 7,
    displayChannelsHint: 1,
    supportedMouseModes: 1,
    truncated: true,
  });
  assert.deepEqual(decodeMessage(main, { fromClient: false, type: 4, body: new Uint8Array(6) }), {
    id: 0,
    truncated: true,
  });
  assert.deepEqual(
    decodeMessage(main, {
      fromClient: false,
      type: 104,
      body: le(["u32", 1000], ["u8", 2], ["u8", 0]),
    }),
    {
      count: 1000,
      channels: [{ type: 2, name: "display", id: 0 }],
      truncated: true,
    },
  );
  const copy = drawCopyBody();
  const cut = decodeMessage(display, { fromClient: false, type: 304, body: copy.subarray(0, 60) });
  assert.equal(cut?.truncated, true);
  assert.deepEqual(cut?.box, { top: 0, left: 0, bottom: 400, right: 720 });
  for (let n = 0; n < copy.length; n++) {
    decodeMessage(display, { fromClient: false, type: 304, body: copy.subarray(0, n) });
  }
  assert.deepEqual(
    decodeMessage(main, { fromClient: false, type: 113, body: le(["u32", 50], ["u8", 65]) }),
    {
      nameLength: 50,
      name: "A",
    },
  );
});

Deno.test("no decoder throws on any short or garbage body", () => {
  const garbage = new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff);
  for (const ch of Object.values(CHANNEL_TYPES)) {
    for (const fromClient of [false, true]) {
      for (let type = 1; type < 330; type++) {
        if (!hasDecoder(ch, { fromClient, type })) continue;
        assert.ok(!messageName(ch, { fromClient, type }).startsWith("unknown"));
        for (let n = 0; n <= garbage.length; n += 3) {
          decodeMessage(ch, { fromClient, type, body: garbage.subarray(0, n) });
        }
      }
    }
  }
});

Deno.test("summarizeFields() prints compact key=value text", () => {
  assert.equal(
    summarizeFields({
      id: 1,
      timestamp: 12345678901234567890n,
      name: "QEMU 7.2",
      data: new Uint8Array(12),
      box: { top: 0, left: 1 },
      channels: [{ type: 2, id: 0 }, { type: 4, id: 0 }],
      truncated: true,
    }),
    'id=1 timestamp=12345678901234567890 name="QEMU 7.2" data=12B box={top=0 left=1} ' +
      "channels=[{type=2 id=0},{type=4 id=0}] truncated=true",
  );
  assert.equal(
    summarizeFields({ v: Array.from({ length: 10 }, (_, i) => i) }),
    "v=[0,1,2,3,4,5,6,7,…+2]",
  );
  assert.equal(summarizeFields({}), "");
});

Deno.test("NONDETERMINISTIC_FIELDS byte ranges match what the decoders read", () => {
  const body = new Uint8Array(64).map((_, i) => (i * 29 + 3) & 0xff);
  const dv = new DataView(body.buffer);
  for (const f of NONDETERMINISTIC_FIELDS) {
    const ch = f.channel === "common" ? main : f.channel;
    const fields = decodeMessage(ch, { fromClient: f.fromClient, type: f.type, body });
    assert.ok(fields, `${f.field}: no decoder`);
    const [start, end] = f.byteRange;
    const expected = end - start === 8 ? dv.getBigUint64(start, true) : dv.getUint32(start, true);
    assert.equal(fields[f.field], expected, `${messageName(ch, f)}.${f.field}`);
    assert.ok(f.why.length > 0);
  }
  const names = NONDETERMINISTIC_FIELDS.map((f) =>
    `${f.channel}:${f.fromClient}:${f.type}:${f.field}`
  );
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes("1:false:103:sessionId") && names.includes("common:false:4:timestamp"));
});
