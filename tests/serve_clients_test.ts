/**
 * End to end: `serve` plays recorded server sides to real SPICE clients on loopback —
 * spicy-screenshot (its picture byte-identical to the one written at recording time), spicy
 * under Xvfb on every channel (its messages diff equal to the recorded client's), passwords, a
 * client killed mid-session, and remote-viewer with a `.vv` file.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { ppmInfo, runClient } from "../harness/processes/clients.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { reserveXServerNumber } from "../harness/processes/x_server.ts";
import { pollUntil } from "../testing/capture_harness.ts";
import { clientDifferences, serveInProcess } from "../testing/serve_harness.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const noScreenshot = missingTools("spicy-screenshot") !== undefined;
const noSpicy = missingTools("spicy", "xvfb-run") !== undefined;
const noCapture = noScreenshot || missingTools("qemu-system-x86_64") !== undefined;
const noViewer = missingTools("remote-viewer", "xvfb-run") !== undefined;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-serve-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Serves `source` to spicy-screenshot; returns serve's status and output and the PPM path. */
async function screenshotOf(source: string, tmp: string, options: { password?: string } = {}) {
  const args = ["-o", `${tmp}/served`];
  if (options.password !== undefined) args.push("--password", "secret");
  const serve = serveInProcess(source, args);
  const shot = `${tmp}/shot.ppm`;
  const client = await runClient("spicy-screenshot", {
    host: "127.0.0.1",
    port: await serve.port,
    password: options.password,
    outFile: shot,
  });
  const [status, code] = await Promise.all([client.exited, serve.done]);
  return { status, code, serve, client, shot };
}

Deno.test({
  name: "spicy-screenshot served a fresh capture writes a byte-identical picture",
  ignore: noCapture,
  fn: () =>
    withTemp(async (tmp) => {
      const io = memoryIo();
      const captured = await main([
        "capture",
        "--client",
        "spicy-screenshot",
        "--guest",
        "static",
        "-o",
        `${tmp}/cap`,
      ], io);
      assert.equal(captured, 0, io.stderr());
      const recorded = await Deno.readFile(`${tmp}/cap/screenshot.ppm`);
      const r = await screenshotOf(`${tmp}/cap`, tmp);
      assert.equal(r.code, 0, r.serve.io.stderr() + r.serve.io.stdout());
      assert.equal(r.status.code, 0, r.client.stderrText());
      assert.deepEqual(await Deno.readFile(r.shot), recorded, "the same picture, byte for byte");
      const diff = await clientDifferences(`${tmp}/served`, `${tmp}/cap`);
      assert.deepEqual(diff.differences, []);
    }),
});

Deno.test({
  name: "spicy-screenshot served the screenshot golden links, draws the screen, and acts alike",
  ignore: noScreenshot,
  fn: () =>
    withTemp(async (tmp) => {
      const r = await screenshotOf(`${GOLDEN}screenshot`, tmp);
      assert.equal(r.code, 0, r.serve.io.stderr() + r.serve.io.stdout());
      assert.equal(r.status.code, 0, r.client.stderrText());
      const shot = ppmInfo(await Deno.readFile(r.shot));
      assert.deepEqual([shot.width, shot.height, shot.nonBlack], [720, 400, true]);
      const diff = await clientDifferences(`${tmp}/served`, `${GOLDEN}screenshot`);
      assert.deepEqual(diff.differences, []);
      assert.deepEqual(diff.channels, ["main", "display"]);
    }),
});

Deno.test({
  name: "the password golden: the right password links, a wrong one gets PERMISSION_DENIED, exit 1",
  ignore: noScreenshot,
  fn: () =>
    withTemp(async (tmp) => {
      const right = await screenshotOf(`${GOLDEN}password`, `${tmp}`, { password: "secret" });
      assert.equal(right.code, 0, right.serve.io.stderr());
      assert.equal(ppmInfo(await Deno.readFile(right.shot)).nonBlack, true);
      await Deno.mkdir(`${tmp}/w`);
      const wrong = await screenshotOf(`${GOLDEN}password`, `${tmp}/w`, { password: "nope" });
      assert.equal(wrong.code, 1);
      assert.notEqual(wrong.status.code, 0, "the client gives up");
      assert.match(wrong.serve.io.stdout(), /refused: .*main: link refused: PERMISSION_DENIED/);
    }),
});

Deno.test({
  name: "spicy under Xvfb served the all-channels golden links every channel and acts alike",
  ignore: noSpicy,
  fn: () =>
    withTemp(async (tmp) => {
      const serve = serveInProcess(`${GOLDEN}all_channels`, ["-o", `${tmp}/served`, "--json"]);
      const client = await runClient("spicy", { host: "127.0.0.1", port: await serve.port });
      try {
        assert.equal(await serve.done, 0, serve.io.stderr() + serve.io.stdout());
      } finally {
        await client.stop();
      }
      const summary = JSON.parse(serve.io.stdout());
      assert.equal(summary.status, "served");
      assert.deepEqual(summary.skipped, []);
      assert.deepEqual(summary.divergences, []);
      assert.equal(summary.channels.length, 7);
      const diff = await clientDifferences(`${tmp}/served`, `${GOLDEN}all_channels`);
      assert.deepEqual(diff.differences, []);
      assert.equal(diff.channels.length, 7);
    }),
});

Deno.test({
  name: "a client killed mid-session: serve says where, writes a complete manifest, exit 1",
  ignore: noSpicy,
  fn: () =>
    withTemp(async (tmp) => {
      const out = `${tmp}/served`;
      const serve = serveInProcess(`${GOLDEN}all_channels`, ["-o", out, "--speed", "realtime"]);
      const client = await runClient("spicy", { host: "127.0.0.1", port: await serve.port });
      try {
        // The provisional manifest (rewritten every second) lists a channel once it linked.
        await pollUntil(
          async () => {
            const text = await Deno.readTextFile(`${out}/session.json`).catch(() => "");
            return text.includes('"display"') ? true : undefined;
          },
          15_000,
          "the display channel in the provisional manifest",
        );
        client.kill("SIGKILL");
        assert.equal(await serve.done, 1);
        await client.exited; // xvfb-run takes its Xvfb down once spicy is gone
      } finally {
        await client.stop();
      }
      assert.match(
        serve.io.stdout(),
        /^early: .*client disconnected early: .*inputs server \d+\/\d+ sent/,
      );
      const manifest = JSON.parse(await Deno.readTextFile(`${out}/session.json`));
      assert.equal(manifest.complete, true);
      assert.equal(manifest.stoppedBy, "client-exit");
      const check = memoryIo();
      assert.equal(await main(["check", out], check), 0, check.stdout());
    }),
});

Deno.test({
  name: "remote-viewer opens serve's --vv file (password in the file) of the password golden",
  ignore: noViewer,
  fn: () =>
    withTemp(async (tmp) => {
      const vv = `${tmp}/session.vv`;
      const serve = serveInProcess(`${GOLDEN}password`, [
        "-o",
        `${tmp}/served`,
        "--password",
        "secret",
        "--vv",
        vv,
      ]);
      await serve.port;
      const text = await pollUntil(
        () => Deno.readTextFile(vv).catch(() => undefined),
        5_000,
        "the .vv file",
      );
      assert.match(
        text,
        /^\[virt-viewer\]\ntype=spice\nhost=127\.0\.0\.1\nport=\d+\npassword=secret\n$/,
      );
      assert.equal((await Deno.stat(vv)).mode! & 0o777, 0o600);
      const viewer = await runViewerFile(vv);
      try {
        assert.equal(await serve.done, 0, serve.io.stderr() + serve.io.stdout());
      } finally {
        await viewer.stop();
      }
      assert.match(serve.io.stdout(), /^served: \d+ server messages on 2 connections/);
      assert.doesNotMatch(viewer.commandLine.join(" "), /secret/, "the password is not in argv");
    }),
});

/** `remote-viewer FILE` under xvfb-run on a server number of its own, in its own group. */
async function runViewerFile(file: string) {
  const x = await reserveXServerNumber();
  const commandLine = ["xvfb-run", `--server-num=${x.number}`, "remote-viewer", file];
  const child = new Deno.Command(commandLine[0], {
    args: commandLine.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  const signal = (pid: number, sig: Deno.Signal) => {
    try {
      Deno.kill(pid, sig);
    } catch {
      // gone already
    }
  };
  // End remote-viewer itself so xvfb-run takes its Xvfb down; then the whole group, to be sure.
  const stop = async () => {
    const read = (path: string) => {
      try {
        return Deno.readTextFileSync(path).trim();
      } catch {
        return ""; // exited already
      }
    };
    const children = read(`/proc/${child.pid}/task/${child.pid}/children`).split(/\s+/);
    for (const pid of children.filter(Boolean).map(Number)) {
      if (read(`/proc/${pid}/comm`) !== "Xvfb") signal(pid, "SIGTERM");
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([child.status, new Promise((r) => timer = setTimeout(r, 3000))]);
    clearTimeout(timer);
    signal(-child.pid, "SIGKILL");
    await child.status;
    await x.release();
  };
  return { commandLine, stop };
}
