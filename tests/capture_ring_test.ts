/*
 * The flight recorder with real clients. Both tests signal SIGUSR1 to this process (the capture
 * runs in it), and deno test runs test files in parallel inside one process, so they live in
 * this one file: a test file's tests run one after another, and no other file sends SIGUSR1.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { runClient } from "../harness/processes/clients.ts";
import { hasTool, missingTools } from "../harness/processes/tools.ts";
import { type Manifest, readManifest } from "../lib/capture/manifest.ts";
import { decodePpm } from "../lib/display/image_files.ts";
import type { Rect } from "../lib/display/types.ts";
import { captureInProcess, pollUntil, tshark } from "../testing/capture_harness.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";

const skipX =
  missingTools("qemu-system-x86_64", "spicy", "spicy-screenshot", "xvfb-run", "tshark") !==
    undefined;

const QEMU_LINE = /QEMU pid \d+ on 127\.0\.0\.1:(\d+)/;

/** The snapshot directories under `<out>/snapshots`, by name, with their manifests. */
async function snapshots(out: string): Promise<Map<string, Manifest>> {
  const found = new Map<string, Manifest>();
  try {
    for await (const e of Deno.readDir(`${out}/snapshots`)) {
      const m = await readManifest(`${out}/snapshots/${e.name}`).catch(() => undefined);
      if (m?.complete) found.set(e.name, m);
    }
  } catch {
    // not there yet
  }
  return found;
}

function reasons(found: Map<string, Manifest>, reason: string): string[] {
  return [...found].filter(([, m]) => m.snapshot?.reason === reason).map(([n]) => n).sort();
}

async function untilSnapshots(out: string, reason: string, n: number): Promise<string[]> {
  return await pollUntil(
    async () => {
      const r = reasons(await snapshots(out), reason);
      return r.length >= n ? r : undefined;
    },
    20_000,
    `${n} ${reason} snapshot(s) in ${out}/snapshots`,
  );
}

async function run(args: string[]): Promise<{ code: number; out: string }> {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, out: io.stdout() + io.stderr() };
}

Deno.test({
  name: "capture --ring: spicy killed gives one disconnect snapshot that checks, decodes, renders",
  ignore: skipX,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-ring-" });
    const out = `${tmp}/ring`;
    const cap = captureInProcess([
      "--guest",
      "static",
      "--ring",
      "1MiB",
      "--snapshot-on",
      "disconnect,message=SET_ACK",
      "-o",
      out,
    ]);
    try {
      const port = await cap.port();
      const qemuPort = await pollUntil(
        () => Number(QEMU_LINE.exec(cap.io.stderr())?.[1]) || undefined,
        10_000,
        "QEMU's port",
      );
      const spicy = await runClient("spicy", { host: "127.0.0.1", port });
      try {
        // Every channel's SET_ACK (the display's last) sets off a snapshot: the display is past
        // DISPLAY_INIT, where killing the client cannot upset QEMU.
        await pollUntil(
          async () => {
            for (const m of (await snapshots(out)).values()) {
              if (m.snapshot?.reason !== "message=SET_ACK") continue;
              if (m.channels.some((c) => c.typeName === "display" && c.packets.received > 2)) {
                return true;
              }
            }
            return undefined;
          },
          20_000,
          "a SET_ACK snapshot with the display channel",
        );
        // SIGUSR1 twice: two snapshots.
        Deno.kill(Deno.pid, "SIGUSR1");
        await untilSnapshots(out, "signal", 1);
        Deno.kill(Deno.pid, "SIGUSR1");
        await untilSnapshots(out, "signal", 2);
        assert.equal(reasons(await snapshots(out), "disconnect").length, 0);
        spicy.kill("SIGKILL");
        await spicy.exited;
      } finally {
        await spicy.stop();
      }
      const [disconnect] = await untilSnapshots(out, "disconnect", 1);
      // The static guest's screen, straight from QEMU, after the client is gone.
      const shot = await runClient("spicy-screenshot", {
        host: "127.0.0.1",
        port: qemuPort,
        outFile: `${tmp}/shot.ppm`,
        durationMs: 20_000,
      });
      assert.ok((await shot.exited).success, shot.stderrText());
      cap.interrupt();
      assert.equal(await cap.done, 0, cap.io.stderr());
      const all = await snapshots(out);
      assert.equal(reasons(all, "disconnect").length, 1, "exactly one disconnect snapshot");
      assert.equal(reasons(all, "signal").length, 2);
      const dir = `${out}/snapshots/${disconnect}`;
      const m = all.get(disconnect)!;
      assert.equal(m.snapshot!.ringBytes, 1 << 20);
      assert.ok(m.snapshot!.detail, "the detail names the connection");
      // check: exit 0; each declared mid-stream connection is reported as information.
      const check = await run(["check", "--json", dir]);
      assert.equal(check.code, 0, check.out);
      const info = check.out.split("\n").filter((l) => l.includes('"mid-stream"'));
      assert.equal(info.length > 0, m.snapshot!.midStream.length > 0, check.out);
      // tshark decodes SPICE in it.
      const spice = await tshark([
        "-r",
        `${dir}/display.pcap`,
        "-Y",
        "spice",
        "-T",
        "fields",
        "-e",
        "frame.number",
      ]);
      assert.ok(spice.filter(Boolean).length > 3, "tshark sees SPICE on the display channel");
      // The final rendered frame is what was on screen.
      const r = await run([
        "render",
        "--json",
        "--final",
        "--format",
        "ppm",
        "-o",
        `${tmp}/f`,
        dir,
      ]);
      assert.equal(r.code, 0, r.out);
      const final = JSON.parse(r.out.split("\n").find((l) => l.includes('"final"'))!);
      const ours = decodePpm(await Deno.readFile(final.file));
      const theirs = decodePpm(await Deno.readFile(`${tmp}/shot.ppm`));
      assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height]);
      assert.equal(ours.rgb.findIndex((b, i) => b !== theirs.rgb[i]), -1, "same pixels");
      // Nothing but the snapshots and QEMU's log in <out>.
      const names = [];
      for await (const e of Deno.readDir(out)) names.push(e.name);
      assert.deepEqual(names.filter((n) => n !== "serial.log").sort(), ["snapshots"]);
    } finally {
      cap.interrupt();
      await cap.done.catch(() => 2);
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

const skipGuest = missingTools("qemu-system-x86_64", "spicy", "spicy-screenshot", "xvfb-run") !==
    undefined ||
  missingTools("xdotool", "tshark") !== undefined || !hasTool("apt-get") ||
  !hasTool("dpkg-deb");

/** Small enough that the boot's display traffic and most of the counting fall out. */
const RING = "64KiB";

async function runAll(args: string[]): Promise<{ code: number; stdout: string; all: string }> {
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
  ignore: skipGuest,
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
      const check = await runAll(["check", dir]);
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
      const r = await runAll(["render", "--json", "--format", "ppm", "-o", `${tmp}/f`, dir]);
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
