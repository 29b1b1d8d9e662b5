/**
 * Readable decodes on hand-made bodies: VD agent messages inside main AGENT_DATA, draw rops and
 * brushes, surface formats, mouse modes, and the name tables' edge cases.
 */
import assert from "node:assert/strict";
import { le } from "../../testing/spice_fixtures.ts";
import { concatBytes } from "../bytes.ts";
import { decodeMessage } from "./messages.ts";
import { CHANNEL_TYPES } from "./tables.ts";
import { maskNames, ROPD_BITS, SURFACE_FORMATS, valueName } from "./value_names.ts";

const MAIN = CHANNEL_TYPES.main;
const DISPLAY = CHANNEL_TYPES.display;
const AGENT_DATA_TO_CLIENT = 109;
const AGENT_DATA_TO_SERVER = 107;
const utf8 = new TextEncoder();

/** An AGENT_DATA body: VDAgentMessage header (protocol 1, type, opaque 0, size) then `data`. */
function agent(type: number, data: Uint8Array, size = data.length): Uint8Array {
  return concatBytes([le(["u32", 1], ["u32", type], ["u64", 0n], ["u32", size]), data]);
}

function fromClient(body: Uint8Array) {
  return decodeMessage(MAIN, { fromClient: true, type: AGENT_DATA_TO_SERVER, body })
    ?.agent as Record<string, unknown>;
}

function toClient(body: Uint8Array) {
  return decodeMessage(MAIN, { fromClient: false, type: AGENT_DATA_TO_CLIENT, body })
    ?.agent as Record<string, unknown>;
}

Deno.test("AGENT_DATA names the VD agent message and its main fields", () => {
  const mouse = le(["u32", 100], ["u32", 50], ["u32", 2 | 8], ["u8", 0]);
  assert.deepEqual(fromClient(agent(1, mouse)), {
    type: 1,
    name: "MOUSE_STATE",
    size: 13,
    x: 100,
    y: 50,
    buttons: 10,
    buttonNames: ["LEFT", "RIGHT"],
    displayId: 0,
  });
  const monitors = le(["u32", 1], ["u32", 1], ["u32", 768], ["u32", 1024], ["u32", 32], [
    "i32",
    0,
  ], ["i32", 0]);
  const m = fromClient(agent(2, monitors));
  assert.equal(m.name, "MONITORS_CONFIG");
  assert.deepEqual(m.flagNames, ["USE_POS"]);
  assert.deepEqual(m.monitors, [{ height: 768, width: 1024, depth: 32, x: 0, y: 0 }]);
  const reply = toClient(agent(3, le(["u32", 2], ["u32", 1])));
  assert.deepEqual([reply.replyToName, reply.errorName], ["MONITORS_CONFIG", "SUCCESS"]);
  const caps = toClient(agent(6, le(["u32", 1], ["u32", (1 << 0) | (1 << 6) | (1 << 17)])));
  assert.deepEqual(caps.caps, ["MOUSE_STATE", "CLIPBOARD_SELECTION", "CLIPBOARD_GRAB_SERIAL"]);
  assert.equal(caps.request, 1);
  const display = fromClient(agent(5, le(["u32", 1 | 8], ["u32", 24])));
  assert.deepEqual(display.flagNames, ["DISABLE_WALLPAPER", "SET_COLOR_DEPTH"]);
  assert.equal(toClient(agent(13, new Uint8Array(0))).name, "CLIENT_DISCONNECTED");
  assert.equal(toClient(agent(14, le(["i32", -1]))).max, -1);
  const volume = fromClient(agent(15, le(["u8", 1], ["u8", 0], ["u8", 2], ["u16", 5], ["u16", 6])));
  assert.deepEqual(volume.volumes, [5, 6]);
  const address = utf8.encode("pci/0000/02.0");
  const info = le(["u32", 1], ["u32", 0], ["u32", 0], ["u32", 1], ["u32", address.length]);
  const dev = toClient(agent(16, concatBytes([info, address])));
  assert.deepEqual(dev.displays, [{
    channelId: 0,
    monitorId: 0,
    deviceDisplayId: 1,
    deviceAddress: "pci/0000/02.0",
  }]);
});

Deno.test("AGENT_DATA clipboard messages with and without the selection prefix", () => {
  const grab = fromClient(agent(7, le(["u8", 0], ["u8", 0], ["u16", 0], ["u32", 1])));
  assert.deepEqual([grab.selectionName, grab.clipboardTypes], ["CLIPBOARD", ["UTF8_TEXT"]]);
  const plainGrab = fromClient(agent(7, le(["u32", 5], ["u32", 1])));
  assert.equal(plainGrab.selection, undefined);
  assert.deepEqual(plainGrab.clipboardTypes, ["IMAGE_JPG", "UTF8_TEXT"]);
  assert.deepEqual(fromClient(agent(7, le(["u32", 1]))).clipboardTypes, ["UTF8_TEXT"]);
  const request = toClient(agent(8, le(["u8", 1], ["u8", 0], ["u16", 0], ["u32", 2])));
  assert.deepEqual([request.selectionName, request.clipboardTypeName], ["PRIMARY", "IMAGE_PNG"]);
  assert.equal(toClient(agent(8, le(["u32", 1]))).clipboardTypeName, "UTF8_TEXT");
  const text = utf8.encode("hello");
  const clip = fromClient(agent(4, concatBytes([le(["u32", 0], ["u32", 1]), text])));
  assert.deepEqual([clip.selectionName, clip.clipboardTypeName, clip.dataBytes], [
    "CLIPBOARD",
    "UTF8_TEXT",
    5,
  ]);
  assert.equal(fromClient(agent(9, le(["u32", 0]))).selectionName, "CLIPBOARD");
  assert.equal(fromClient(agent(9, new Uint8Array(0))).selection, undefined);
});

Deno.test("AGENT_DATA file transfers; continuations and foreign bodies are not decoded", () => {
  const keys = utf8.encode("[vdagent-file-xfer]\nname=notes.txt\nsize=1234\n\0");
  const start = fromClient(agent(10, concatBytes([le(["u32", 7]), keys])));
  assert.deepEqual([start.id, start.name, start.size], [7, "notes.txt", 1234]);
  const status = toClient(agent(11, le(["u32", 7], ["u32", 4])));
  assert.equal(status.resultName, "NOT_ENOUGH_SPACE");
  const data = fromClient(agent(12, concatBytes([le(["u32", 7], ["u64", 3n]), new Uint8Array(3)])));
  assert.deepEqual([data.size, data.dataBytes], [3n, 3]);
  // A message announced longer than this AGENT_DATA continues in the next one.
  const long = fromClient(agent(12, le(["u32", 7]), 2048));
  assert.deepEqual([long.name, long.continued, long.id], ["FILE_XFER_DATA", true, 7]);
  const whole = decodeMessage(MAIN, {
    fromClient: true,
    type: AGENT_DATA_TO_SERVER,
    body: agent(12, le(["u32", 7]), 2048),
  });
  assert.equal(whole?.truncated, undefined);
  // The middle of a long message, and an unknown agent type, are only counted.
  for (const body of [new Uint8Array(40).fill(0x41), agent(99, new Uint8Array(4))]) {
    assert.deepEqual(decodeMessage(MAIN, { fromClient: true, type: AGENT_DATA_TO_SERVER, body }), {
      dataBytes: body.length,
    });
  }
});

Deno.test("draws name their clip, rop descriptor, scale mode and brush; surfaces their format", () => {
  const base = le(["u32", 0], ["i32", 0], ["i32", 0], ["i32", 10], ["i32", 10], ["u8", 0]);
  const fill = decodeMessage(DISPLAY, {
    fromClient: false,
    type: 302,
    body: concatBytes([base, le(["u8", 1], ["u32", 0xff0000], ["u16", 8 | 4])]),
  });
  assert.deepEqual(fill?.brush, { type: 1, typeName: "SOLID", color: 0xff0000 });
  assert.deepEqual(fill?.ropDescriptorNames, ["INVERS_DEST", "OP_PUT"]);
  assert.equal(fill?.clipTypeName, "NONE");
  const blend = decodeMessage(DISPLAY, {
    fromClient: false,
    type: 305,
    body: concatBytes([
      base,
      le(["u32", 0], ["i32", 0], ["i32", 0], ["i32", 1], ["i32", 1]),
      le([
        "u16",
        0x40,
      ], ["u8", 1]),
    ]),
  });
  assert.deepEqual([blend?.ropDescriptorNames, blend?.scaleModeName], [["OP_XOR"], "NEAREST"]);
  const surface = le(["u32", 1], ["u32", 64], ["u32", 64], ["u32", 96], ["u32", 0]);
  const created = decodeMessage(DISPLAY, { fromClient: false, type: 314, body: surface });
  assert.deepEqual([created?.formatName, created?.flagNames], ["32_ARGB", []]);
  assert.deepEqual(
    decodeMessage(MAIN, { fromClient: false, type: 105, body: le(["u16", 3], ["u16", 2]) }),
    {
      supported: 3,
      supportedNames: ["SERVER", "CLIENT"],
      current: 2,
      currentNames: ["CLIENT"],
    },
  );
});

Deno.test("names the tables lack read unknown(n)", () => {
  assert.equal(valueName(SURFACE_FORMATS, 7), "unknown(7)");
  assert.deepEqual(maskNames(ROPD_BITS, 0x8 | 0x1000), ["OP_PUT", "unknown(0x1000)"]);
  assert.deepEqual(maskNames(ROPD_BITS, 0), []);
});
