import assert from "node:assert/strict";
import type { Manifest } from "../capture/manifest.ts";
import { checkRecordingLoss } from "./recording_loss.ts";

function manifest(extra: Partial<Manifest> = {}): Manifest {
  return {
    format: "spicecap-session",
    version: 1,
    tool: { name: "spicecap", version: "0" },
    started: "2024-01-01T00:00:00.000Z",
    complete: true,
    target: null,
    server: null,
    tsResolution: "ns",
    captureFormat: "pcap",
    serverPort: 5930,
    relativeTime: false,
    channels: [{
      type: 2,
      typeName: "display",
      id: 1,
      file: "display-1.pcap",
      clientPort: 10018,
      serverPort: 5930,
      connections: [],
      packets: { sent: 1, received: 1 },
      bytes: { sent: 10, received: 10 },
      dropped: 3,
      droppedBytes: { sent: 0, received: 300_000 },
      errors: 1,
    }],
    skipped: [],
    dropped: 3,
    errors: [],
    ...extra,
  };
}

Deno.test("checkRecordingLoss: dropped bytes of a channel are an error, a warning when allowed", () => {
  const [f] = checkRecordingLoss(manifest(), "s/session.json");
  assert.equal(f.severity, "error");
  assert.equal(f.code, "manifest-drops");
  assert.equal(f.message, "incomplete recording: 300000 bytes of channel display-1 not recorded");
  const [w] = checkRecordingLoss(manifest(), "s/session.json", { allowDrops: true });
  assert.equal(w.severity, "warning");
});

Deno.test("checkRecordingLoss: a complete recording has no finding; unrecorded bytes do", () => {
  const clean = manifest();
  clean.channels[0].dropped = 0;
  delete clean.channels[0].droppedBytes;
  assert.deepEqual(checkRecordingLoss(clean, "x"), []);
  const unrecorded = checkRecordingLoss({
    ...clean,
    unrecorded: [{
      reason: "not SPICE: bad magic",
      channel: null,
      openedNs: "1",
      bytes: { sent: 5, received: 0 },
      firstBytes: { sent: "4745542020", received: "" },
    }],
  }, "x");
  assert.equal(unrecorded.length, 1);
  assert.match(
    unrecorded[0].message,
    /^incomplete recording: 5 bytes of a connection not recorded/,
  );
});
