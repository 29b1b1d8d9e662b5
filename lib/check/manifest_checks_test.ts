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
  complete: true,
  target: null,
  server: null,
  tsResolution: "ns",
  captureFormat: "pcap",
  serverPort: 5930,
  relativeTime: false,
  channels: [{ ...channel, dropped: 0, errors: 0 }],
  skipped: [],
  dropped: 0,
  errors: [],
};

Deno.test("checkManifestSchema accepts a well-formed manifest and returns it typed", () => {
  const { manifest: m, finding } = checkManifestSchema(manifest, "session.json");
  assert.equal(finding, undefined);
  assert.deepEqual(m, manifest);
});

Deno.test("checkManifestSchema names the bad field, and a bad version as manifest-version", () => {
  const bad = { ...manifest, channels: [{ ...manifest.channels[0], id: -1 }] };
  assert.deepEqual(checkManifestSchema(bad, "session.json").finding, {
    severity: "error",
    code: "manifest-schema",
    file: "session.json",
    message: "field 'channels[0].id'",
    expected: "an integer 0..255",
    actual: "-1",
  });
  const v = checkManifestSchema({ ...manifest, version: 2 }, "session.json").finding!;
  assert.deepEqual([v.code, v.message, v.actual], ["manifest-version", "field 'version'", "2"]);
  assert.match(v.expected!, /version ≤ 1/);
  const other = checkManifestSchema({ format: "pcap" }, "session.json").finding!;
  assert.deepEqual([other.code, other.message], ["manifest-version", "field 'format'"]);
  const list = checkManifestSchema([], "session.json").finding!;
  assert.deepEqual([list.code, list.message], ["manifest-schema", "not a manifest"]);
});

Deno.test("checkManifestFiles reports missing and unlisted capture files only", () => {
  const f = checkManifestFiles([channel], {
    dirFiles: ["session.json", "display.pcapng", "notes.txt"],
    file: "s.json",
  });
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
  const f = checkManifestCounts(channel, { observed, complete: true });
  assert.deepEqual(f.map((x) => [x.code, x.severity, x.expected, x.actual]), [
    ["manifest-count", "error", "5 (in the file)", "4 (in session.json)"],
    ["manifest-ports", "error", "[10001, 20000] (in the file)", "[10001] (in session.json)"],
  ]);
  const g = checkManifestCounts(channel, {
    observed: { ...observed, clientPorts: [10001] },
    complete: false,
  });
  assert.deepEqual(g.map((x) => [x.code, x.severity]), [["manifest-count", "warning"]]);
});
