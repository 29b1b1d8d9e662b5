import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { runClient } from "../harness/processes/clients.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { type Manifest, readManifest } from "../lib/capture/manifest.ts";
import { decodePpm } from "../lib/display/image_files.ts";
import { captureInProcess, pollUntil, tshark } from "../testing/capture_harness.ts";

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
