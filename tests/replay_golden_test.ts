/**
 * End to end: replay each golden session against a fresh QEMU and diff the result with the
 * golden; a wrong password is a refused link; a replayed screenshot session leaves a QEMU whose
 * screen a real client can grab.
 */
import { startQemu } from "../harness/processes/qemu.ts";
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { ppmInfo, runClient } from "../harness/processes/clients.ts";
import { memoryIo } from "../harness/io.ts";
import { replaySession } from "../harness/replay/driver.ts";
import { vettedServerCommandLine } from "../harness/commands/replay.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { GOLDEN_DIR, GOLDEN_FIXTURES } from "../tools/make_golden_fixtures.ts";

const noQemu = missingTools("qemu-system-x86_64") !== undefined;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-replay-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const f of GOLDEN_FIXTURES) {
  Deno.test({
    name: `replaying golden '${f.name}' against a fresh QEMU diffs equal to the golden`,
    ignore: noQemu,
    fn: () =>
      withTemp(async (tmp) => {
        const out = `${tmp}/replay`;
        const args = ["replay", `${GOLDEN_DIR}${f.name}`, "--out", out];
        if (f.password) args.push("--password", f.password);
        const io = memoryIo();
        const code = await main(args, io);
        assert.equal(code, 0, `replay failed: ${io.stderr()}`);
        const manifest = JSON.parse(await Deno.readTextFile(`${out}/session.json`));
        assert.ok(manifest.droppedFromReplay, "manifest says what was dropped");
        assert.ok((manifest.droppedFromReplay.PONG ?? 0) >= 3, "net-test PONGs were dropped");
        const dio = memoryIo();
        const diff = await main(["diff", out, `${GOLDEN_DIR}${f.name}`], dio);
        assert.equal(diff, 0, `diff found differences:\n${dio.stdout()}${dio.stderr()}`);
        assert.match(dio.stdout(), /same: no differences after normalisation/);
      }),
  });
}

Deno.test({
  name: "replaying the password session without --password is a usage error, exit 2",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const io = memoryIo();
      const code = await main(["replay", `${GOLDEN_DIR}password`, "--out", `${tmp}/r`], io);
      assert.equal(code, 2);
      assert.match(io.stderr(), /recorded server had a SPICE password.*pass it with --password/);
    }),
});

Deno.test({
  name: "replaying against a server with another password reports PERMISSION_DENIED, exit 1",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const qemu = await startQemu({ password: "other" });
      try {
        const io = memoryIo();
        const code = await main([
          "replay",
          `${GOLDEN_DIR}password`,
          "--target",
          `127.0.0.1:${qemu.port}`,
          "--password",
          "secret",
          "--out",
          `${tmp}/r`,
        ], io);
        assert.equal(code, 1);
        assert.match(
          io.stderr(),
          /main: server refused the link \(link result\): PERMISSION_DENIED/,
        );
      } finally {
        await qemu.stop();
      }
    }),
});

Deno.test({
  name: "after replaying the screenshot session a screenshot of the same QEMU is not black",
  ignore: missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined,
  fn: () =>
    withTemp(async (tmp) => {
      const source = `${GOLDEN_DIR}screenshot`;
      const result = await replaySession({
        source,
        outDir: `${tmp}/r`,
        serverCommandLine: await vettedServerCommandLine(source, { trust: false, outDir: tmp }),
        keepServer: true,
      });
      const server = result.server;
      assert.ok(server, "server kept running");
      try {
        assert.equal(result.divergence, undefined);
        const shot = `${tmp}/shot.ppm`;
        const client = await runClient("spicy-screenshot", {
          host: "127.0.0.1",
          port: server.port,
          outFile: shot,
          durationMs: 10_000,
        });
        const status = await client.exited;
        assert.equal(status.code, 0, client.stderrText());
        const info = ppmInfo(await Deno.readFile(shot));
        assert.deepEqual([info.width, info.height], [720, 400]);
        assert.ok(info.nonBlack, "screenshot is all black");
      } finally {
        await server.stop();
      }
    }),
});

Deno.test({
  name: "--until stops after that client message and keeps the server running",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const source = `${GOLDEN_DIR}screenshot`;
      const result = await replaySession({
        source,
        outDir: `${tmp}/r`,
        serverCommandLine: await vettedServerCommandLine(source, { trust: false, outDir: tmp }),
        until: 1,
        holdMs: 0,
      });
      try {
        assert.equal(result.sent, 1);
        assert.equal(result.divergence, undefined);
        assert.ok(result.server, "server kept");
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: result.server.port });
        conn.close();
      } finally {
        await result.server?.stop();
      }
    }),
});
