import assert from "node:assert/strict";
import { checkManifestCounts, checkManifestFiles, checkManifestSchema } from "./manifest_checks.ts";

const channel = {
  type: 1,
  typeName: "main",
  id: 0,
  file: "main.pcap",
  clientPort: 10001,
  serverPort: 5930,
  connections: [{ clientPort: 10001, openedNs: "1" }],
  packets: { sent: 3, received: 4 },
  bytes: { sent: 100, received: 200 },
};
const manifest = {
  format: "spicecap-session",
  version: 1,
  tool: { name: "spicecap", version: "0.1.0" },
  started: "2026-01-01T00:00:00.000Z",
  target: null,
  tsResolution: "ns",
  channels: [channel],
};

Deno.test("checkManifestSchema accepts a well-formed manifest", () => {
  assert.deepEqual(checkManifestSchema(manifest, "session.json"), []);
});

Deno.test("checkManifestSchema names each bad field and stops at an unknown version", () => {
  const bad = {
    ...manifest,
    started: "yesterday",
    channels: [{ ...channel, id: -1, file: "a/b" }],
  };
  const f = checkManifestSchema(bad, "session.json");
  assert.deepEqual(f.map((x) => [x.code, x.message]), [
    ["manifest-schema", "field 'started'"],
    ["manifest-schema", "channels[0].id"],
    ["manifest-schema", "channels[0].file"],
  ]);
  const v = checkManifestSchema({ ...manifest, version: 2 }, "session.json");
  assert.deepEqual(v.map((x) => [x.code, x.expected]), [["manifest-version", "version ≤ 1"]]);
  const other = checkManifestSchema({ format: "pcap" }, "session.json");
  assert.equal(other[0].code, "manifest-version");
});

Deno.test("checkManifestFiles reports missing and unlisted capture files only", () => {
  const f = checkManifestFiles(
    [channel],
    ["session.json", "display.pcapng", "notes.txt"],
    "s.json",
  );
  assert.deepEqual(f.map((x) => x.message), [
    "listed channel file main.pcap does not exist",
    "capture file display.pcapng is not listed in the manifest",
  ]);
});

Deno.test("checkManifestCounts compares counts and ports, warnings when incomplete", () => {
  const observed = {
    packets: { sent: 3, received: 5 },
    bytes: { sent: 100, received: 200 },
    clientPorts: [10001, 20000],
    serverPorts: [5930],
  };
  const f = checkManifestCounts(channel, observed, true);
  assert.deepEqual(f.map((x) => [x.code, x.severity, x.expected, x.actual]), [
    ["manifest-count", "error", "5 (in the file)", "4 (in session.json)"],
    ["manifest-ports", "error", "[10001, 20000] (in the file)", "[10001] (in session.json)"],
  ]);
  const g = checkManifestCounts(channel, { ...observed, clientPorts: [10001] }, false);
  assert.deepEqual(g.map((x) => [x.code, x.severity]), [["manifest-count", "warning"]]);
});
