import assert from "node:assert/strict";
import { HOSTILE_MANIFESTS, hostileText, validManifest } from "../../testing/hostile_manifests.ts";
import {
  isPlainFileName,
  MANIFEST_FILE,
  ManifestError,
  parseManifest,
  readManifest,
  validateManifest,
} from "./manifest.ts";

for (const c of HOSTILE_MANIFESTS) {
  Deno.test(`validateManifest refuses ${c.name}, naming '${c.field || "(file)"}'`, () => {
    const text = hostileText(c);
    assert.throws(() => parseManifest(text, "s/session.json"), (e) => {
      assert.ok(e instanceof ManifestError, `a ManifestError, not ${e}`);
      assert.equal(e.file, "s/session.json");
      assert.equal(e.field, c.field);
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      assert.ok(e.message.startsWith("s/session.json: "), e.message);
      if (c.field !== "") assert.ok(e.message.includes(`'${c.field}'`), e.message);
      assert.match(e.message, /expected /);
      return true;
    });
  });
}

Deno.test("validateManifest returns a typed copy holding the known fields only", () => {
  const m = validManifest();
  m.extra = { anything: true };
  const out = validateManifest(m, MANIFEST_FILE);
  assert.equal("extra" in out, false, "unknown fields are left out");
  const expected = validManifest();
  assert.deepEqual(out, expected);
  assert.notEqual(out.channels, m.channels, "a fresh value, not the parsed JSON");
});

Deno.test("validateManifest keeps every optional fact capture, replay and import write", () => {
  const m = {
    ...validManifest(),
    scrubbed: ["ticket"],
    redacted: ["inputs"],
    displayCompression: { imageCompression: "auto_glz", jpegWan: "always", streamingVideo: "all" },
    recorderErrors: 0,
    lossy: {
      note: "n",
      connections: [{
        file: "main.pcap",
        channel: "main",
        clientPort: 10001,
        trigger: "toClient",
        droppedChunks: { sent: 0, received: 2 },
        droppedBytes: { sent: 0, received: 9 },
      }],
    },
    replayOf: "fixtures/golden/screenshot",
    droppedFromReplay: { PONG: 2, ACK: 1 },
    replay: { source: "x", speed: 2.5, sent: 3, until: null, diverged: null },
    importedFrom: {
      file: null,
      connections: [{ client: "1.2.3.4:5", server: "6.7.8.9:5900", channelType: 1, channelId: 0 }],
    },
    partial: false,
  };
  assert.deepEqual(validateManifest(structuredClone(m), MANIFEST_FILE), m);
});

Deno.test("validateManifest accepts a delay of exactly the 60 s cap and a type outside the tables", () => {
  const m = validManifest();
  m.server.firstConnectionDelayMs = 60_000;
  m.channels[0].type = 200;
  m.channels[0].typeName = "200";
  assert.equal(validateManifest(m, MANIFEST_FILE).server!.firstConnectionDelayMs, 60_000);
});

Deno.test("parseManifest names invalid JSON as the problem of the whole file", () => {
  assert.throws(() => parseManifest("{", "x/session.json"), (e) => {
    assert.ok(e instanceof ManifestError);
    assert.equal(e.field, "");
    assert.match(e.message, /^x\/session\.json: expected valid JSON, got /);
    return true;
  });
});

Deno.test("the golden sessions' manifests are valid", async () => {
  for (const name of ["all_channels", "password", "screenshot"]) {
    const m = await readManifest(`fixtures/golden/${name}`);
    assert.ok(m.server?.commandLine[0].startsWith("qemu-system-"), name);
  }
});

Deno.test("isPlainFileName allows channel file names only", () => {
  assert.deepEqual(
    ["display-1.pcap", "a", "", ".", "..", "a..b", "a/b", "x\u0000", "x\n", "session.json"]
      .map(isPlainFileName),
    [true, true, false, false, false, false, false, false, false, false],
  );
});
