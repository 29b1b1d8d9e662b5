import assert from "node:assert/strict";
import {
  encodeQmpCommand,
  parseQmpMessage,
  QmpLineReader,
  QmpProtocolError,
  qmpSocketArgs,
  withoutQmpSocket,
} from "./qmp.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

Deno.test("encodeQmpCommand() writes one JSON object per line, arguments and id when given", () => {
  assert.equal(text(encodeQmpCommand("qmp_capabilities")), '{"execute":"qmp_capabilities"}\r\n');
  assert.equal(
    text(encodeQmpCommand("screendump", { args: { filename: "/x/c.ppm" }, id: "s-1" })),
    '{"execute":"screendump","arguments":{"filename":"/x/c.ppm"},"id":"s-1"}\r\n',
  );
});

Deno.test("parseQmpMessage() tells the greeting, returns, errors and events apart", () => {
  const greeting =
    '{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}';
  assert.deepEqual(parseQmpMessage(greeting), { kind: "greeting", version: "7.2.22" });
  assert.deepEqual(parseQmpMessage('{"return": {}, "id": "a"}'), {
    kind: "return",
    id: "a",
    value: {},
  });
  assert.deepEqual(
    parseQmpMessage('{"id": "b", "error": {"class": "GenericError", "desc": "no file"}}'),
    { kind: "error", id: "b", errorClass: "GenericError", description: "no file" },
  );
  assert.deepEqual(
    parseQmpMessage('{"timestamp": {"seconds": 1}, "event": "RESUME", "data": {"x": 1}}'),
    { kind: "event", event: "RESUME", data: { x: 1 } },
  );
  assert.throws(() => parseQmpMessage("not json"), QmpProtocolError);
  assert.throws(() => parseQmpMessage("[1]"), QmpProtocolError);
  assert.throws(() => parseQmpMessage('{"other": 1}'), /unknown message/);
});

Deno.test("QmpLineReader cuts messages at line ends, whatever the chunks (UTF-8 split too)", () => {
  const bytes = new TextEncoder().encode(
    '{"return": {}, "id": "1"}\r\n\r\n{"event": "STOP", "data": {"why": "pause é"}}\r\n{"ret',
  );
  const reader = new QmpLineReader();
  const got = [];
  // one byte at a time: the é is split between two chunks
  for (let i = 0; i < bytes.length; i++) got.push(...reader.push(bytes.subarray(i, i + 1)));
  assert.deepEqual(got, [
    { kind: "return", id: "1", value: {} },
    { kind: "event", event: "STOP", data: { why: "pause é" } },
  ]);
  assert.equal(reader.pendingChars, 5);
  assert.deepEqual(reader.push(new TextEncoder().encode('urn": 3}\n')), [
    { kind: "return", id: undefined, value: 3 },
  ]);
});

Deno.test("qmpSocketArgs() escapes commas; withoutQmpSocket() removes exactly our two options", () => {
  assert.deepEqual(qmpSocketArgs("/t/a,b/qmp.sock"), [
    "-qmp",
    "unix:/t/a,,b/qmp.sock,server=on,wait=off",
  ]);
  const line = ["qemu-system-x86_64", "-m", "128", ...qmpSocketArgs("/t/q.sock"), "-S"];
  assert.deepEqual(withoutQmpSocket(line, "/t/q.sock"), ["qemu-system-x86_64", "-m", "128", "-S"]);
  // another monitor (a --trust recording's own) stays
  const theirs = ["qemu-system-x86_64", ...qmpSocketArgs("/other.sock")];
  assert.deepEqual(withoutQmpSocket(theirs, "/t/q.sock"), theirs);
});
