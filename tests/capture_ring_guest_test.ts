import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { hasTool, missingTools } from "../harness/processes/tools.ts";
import { type Manifest, readManifest } from "../lib/capture/manifest.ts";
import { decodePpm } from "../lib/display/image_files.ts";
import type { Rect } from "../lib/display/types.ts";
import { pollUntil, tshark } from "../testing/capture_harness.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";

const skip = missingTools("qemu-system-x86_64", "spicy", "spicy-screenshot", "xvfb-run") !==
    undefined ||
  missingTools("xdotool", "tshark") !== undefined || !hasTool("apt-get") ||
  !hasTool("dpkg-deb");

/** Small enough that the boot's display traffic and most of the counting fall out. */
const RING = "64KiB";

async function run(args: string[]): Promise<{ code: number; stdout: string; all: string }> {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout(), all: io.stdout() + io.stderr() };
}

/** The one complete snapshot under `<out>/snapshots`, once written. */
async function onlySnapshot(out: string): Promise<{ dir: string; manifest: Manifest }> {
  return await pollUntil(
    async () => {
      const found: { dir: string; manifest: Manifest }[] = [];
      try {
        for await (const e of Deno.readDir(`${out}/snapshots`)) {
          const dir = `${out}/snapshots/${e.name}`;
          const manifest = await readManifest(dir).catch(() => undefined);
          if (manifest?.complete) found.push({ dir, manifest });
        }
      } catch {
        // not there yet
      }
      return found.length === 1 ? found[0] : undefined;
    },
    20_000,
    `the SIGUSR1 snapshot in ${out}/snapshots`,
  );
}

/** Pixels that differ outside `unknown` and how many were compared. */
function compareKnown(
  a: { width: number; height: number; rgb: Uint8Array },
  b: { rgb: Uint8Array },
  unknown: Rect[],
): { compared: number; differing: number } {
  const skip = new Uint8Array(a.width * a.height);
  for (const r of unknown) {
    for (let y = r.top; y < r.bottom; y++) {
      skip.fill(1, y * a.width + r.left, y * a.width + r.right);
    }
  }
  let compared = 0;
  let differing = 0;
  for (let i = 0; i < skip.length; i++) {
    if (skip[i]) continue;
    compared++;
    const o = i * 3;
    if (a.rgb[o] !== b.rgb[o] || a.rgb[o + 1] !== b.rgb[o + 1] || a.rgb[o + 2] !== b.rgb[o + 2]) {
      differing++;
    }
  }
  return { compared, differing };
}

Deno.test({
  name: `capture --ring ${RING} on the Linux guest: a SIGUSR1 snapshot starts mid-stream, ` +
    "checks clean, decodes in tshark, renders spicy-screenshot's pixels where known",
  ignore: skip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-ring-guest-" });
    const out = `${tmp}/ring`;
    try {
      let snapshot: { dir: string; manifest: Manifest } | undefined;
      const cap = await captureTyping(out, {
        // LZ: each image stands alone (a GLZ image refers back to images the ring let go)
        captureArgs: ["--ring", RING, "--format", "pcapng", "--image-compression", "lz"],
        lines: [
          // one screen line redrawn again and again: the ring ends up holding only its draws
          {
            type: 'for i in $(seq 1 150); do printf "\\r%d " $i; usleep 20000; done; echo; ' +
              "(sleep 2 ; echo counted >/dev/ttyS0) &",
            serial: "counted",
          },
        ],
        afterLines: async () => {
          Deno.kill(Deno.pid, "SIGUSR1");
          snapshot = await onlySnapshot(out);
        },
        screenshot: `${tmp}/shot.ppm`,
        timeoutMs: 30_000,
      });
      assert.equal(cap.exitCode, 0, cap.stderr);
      const { dir, manifest } = snapshot!;
      const snap = manifest.snapshot!;
      assert.equal(snap.reason, "signal");
      assert.equal(snap.wholeSession, false);
      const display = snap.midStream.find((m) => m.file === "display.pcapng");
      assert.ok(display && display.notKeptBytes.received > 0, JSON.stringify(snap));
      // The summary says what the ring held and where the snapshot went.
      assert.match(
        cap.stderr,
        /display +kept \d+ messages \(\d+ bytes\), let go [1-9]\d* messages/,
      );
      assert.ok(cap.stderr.includes(dir), cap.stderr);
      // check: exit 0, the jump reported as information.
      const check = await run(["check", dir]);
      assert.equal(check.code, 0, check.all);
      assert.match(check.all, /starts mid-stream \(\d+ bytes not kept\)/);
      // tshark decodes SPICE after the jump and shows its comment.
      const file = `${dir}/display.pcapng`;
      const spice = await tshark(["-r", file, "-Y", "spice", "-T", "fields", "-e", "frame.number"]);
      assert.ok(spice.length > 5, `tshark sees SPICE on the display channel: ${spice.length}`);
      const comments = await tshark(["-r", file, "-T", "fields", "-e", "frame.comment"]);
      assert.ok(comments.some((c) => c.includes("mid-stream:")), comments.join("\n"));
      // render: unknown where nothing was drawn after the jump, spicy-screenshot's pixels
      // everywhere else.
      const r = await run(["render", "--json", "--format", "ppm", "-o", `${tmp}/f`, dir]);
      assert.equal(r.code, 1, `unknown regions: exit 1\n${r.all}`);
      const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      assert.ok(lines.some((l) => l.type === "problem" && l.kind === "mid-stream"), r.stdout);
      const frame = lines.find((l) => l.type === "frame");
      assert.ok(frame.unknown.length > 0, "part of the screen is unknown");
      const ours = decodePpm(await Deno.readFile(frame.file));
      const theirs = decodePpm(await Deno.readFile(`${tmp}/shot.ppm`));
      assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height]);
      const { compared, differing } = compareKnown(ours, theirs, frame.unknown);
      assert.ok(compared > 0, "part of the screen is known");
      assert.equal(differing, 0, `${differing} of ${compared} known pixels differ`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
