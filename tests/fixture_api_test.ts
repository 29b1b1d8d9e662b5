/**
 * spicecap as a Deno test fixture (harness/fixture/, exported by mod.ts): the `await using`
 * flow of capture and serve with real clients, the golden assertion's failure message and its
 * re-baselining by `-- --update` and SPICECAP_UPDATE=1, no QEMU left after a throw or an
 * interrupt, the doc examples run as tests, and the README's Library example kept identical to
 * tests/readme_example_test.ts.
 */
import assert from "node:assert/strict";
import { AssertionError } from "node:assert";
import {
  assertMatchesGolden,
  capture,
  diffSessions,
  readSession,
  serve,
  startQemu,
} from "../mod.ts";
import { runClient } from "../harness/processes/clients.ts";
import { missingTools } from "../harness/processes/tools.ts";

const ROOT = new URL("../", import.meta.url);
const GOLDEN = "fixtures/golden/screenshot";
const noQemu = missingTools("qemu-system-x86_64") !== undefined;
const noScreenshot = missingTools("spicy-screenshot") !== undefined;

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-fixture-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

/** Whether process `pid` is gone, waiting up to `timeoutMs` for it to go. */
async function gone(pid: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (await exists(`/proc/${pid}`)) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A copy of the golden whose main NAME (the server's name) says something else. */
async function alteredGolden(dir: string): Promise<string> {
  const copy = `${dir}/golden`;
  await Deno.mkdir(copy);
  for await (const e of Deno.readDir(new URL(GOLDEN, ROOT))) {
    await Deno.copyFile(new URL(`${GOLDEN}/${e.name}`, ROOT), `${copy}/${e.name}`);
  }
  const messages = await Array.fromAsync(readSession(GOLDEN));
  const name = String(messages.find((m) => m.name === "NAME")?.fields?.name);
  const bytes = await Deno.readFile(`${copy}/main.pcap`);
  const at = new TextDecoder("latin1").decode(bytes).indexOf(name);
  assert.ok(name.length > 0 && at > 0, "the golden's main.pcap holds the server's name");
  bytes.set(new TextEncoder().encode("X".repeat(name.length)), at);
  await Deno.writeFile(`${copy}/main.pcap`, bytes);
  return copy;
}

/** Runs deno in a child with the repository as its directory. */
async function deno(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

Deno.test("the README's Library code block is tests/readme_example_test.ts after its header", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  const file = await Deno.readTextFile(new URL("tests/readme_example_test.ts", ROOT));
  const section = readme.slice(readme.indexOf("\n## Library\n"));
  const block = /\n```ts\n([\s\S]*?)```\n/.exec(section)?.[1];
  assert.ok(file.startsWith("/**"), "the example file starts with its header comment");
  assert.equal(block, file.slice(file.indexOf("*/\n") + 3));
});

Deno.test({
  name: "capture with spicy-screenshot under await using: read back, then nothing left",
  ignore: noQemu || noScreenshot,
  fn: async () => {
    let dir = "";
    let qemuPid = 0;
    {
      await using cap = await capture({ client: "spicy-screenshot" });
      dir = cap.dir;
      qemuPid = cap.qemu!.pid;
      assert.ok(cap.client!.pid > 0);
      const end = await cap.finished();
      assert.equal(end.status, 0, end.log);
      assert.ok(await exists(`${dir}/screenshot.ppm`));
      const names = (await Array.fromAsync(readSession(dir))).map((m) => m.name);
      assert.ok(names.includes("SURFACE_CREATE") && names.includes("DRAW_COPY"), String(names));
    }
    assert.ok(await gone(qemuPid), `QEMU ${qemuPid} still runs`);
    assert.equal(await exists(dir), false, "the temporary session is removed");
  },
});

Deno.test({
  name: "capture without a client records the client the test connects to its proxy",
  ignore: noQemu || noScreenshot,
  fn: () =>
    withTemp(async (tmp) => {
      await using cap = await capture({ out: `${tmp}/cap`, format: "pcapng" });
      assert.equal(cap.client, undefined);
      assert.equal(cap.url, `spice://127.0.0.1:${cap.port}`);
      const client = await runClient("spicy-screenshot", {
        host: "127.0.0.1",
        port: cap.port,
        outFile: `${tmp}/shot.ppm`,
      });
      assert.equal((await client.exited).code, 0, client.stderrText());
      const end = await cap.stop();
      assert.equal(end.status, 0, end.log);
      const init = (await Array.fromAsync(readSession(cap.dir)))
        .find((m) => m.channel === "main" && m.name === "INIT");
      assert.equal(init?.direction, "toClient");
      assert.ok(await exists(`${tmp}/cap/main.pcapng`));
    }),
});

Deno.test({
  name: "serve under await using plays a golden to the client the test connects",
  ignore: noScreenshot,
  fn: () =>
    withTemp(async (tmp) => {
      await using server = await serve(GOLDEN);
      const client = await runClient("spicy-screenshot", {
        host: "127.0.0.1",
        port: server.port,
        outFile: `${tmp}/shot.ppm`,
      });
      const [status, served] = await Promise.all([client.exited, server.finished()]);
      assert.equal(status.code, 0, client.stderrText());
      assert.deepEqual(served.map((s) => s.status), ["served"], JSON.stringify(served));
      assert.ok((await Array.fromAsync(readSession(served[0].dir))).length > 0);
    }),
});

Deno.test("a session that differs from its golden fails with an AssertionError holding the diff", () =>
  withTemp(async (tmp) => {
    const golden = await alteredGolden(tmp);
    const diff = await diffSessions(GOLDEN, golden);
    assert.equal(diff.same, false);
    assert.ok(diff.differences.some((d) => d.channel === "main" && d.kind === "changed"));
    const error = await assertMatchesGolden(GOLDEN, golden, { update: false }).then(
      () => undefined,
      (e) => e,
    );
    assert.ok(error instanceof AssertionError, String(error));
    assert.ok(error.message.includes(diff.text), error.message);
    assert.match(error.message, /does not match golden .*-- --update/);
    assert.match(error.message, /differs: \d+ difference/);
  }));

Deno.test("a golden that does not exist fails, and update creates it", () =>
  withTemp(async (tmp) => {
    await assert.rejects(assertMatchesGolden(GOLDEN, `${tmp}/new`, { update: false }), {
      name: "AssertionError",
      message: /does not exist: run the test with -- --update/,
    });
    await assertMatchesGolden(GOLDEN, `${tmp}/new`, { update: true });
    assert.ok((await diffSessions(`${tmp}/new`, GOLDEN)).same);
  }));

for (
  const [how, args, env] of [
    ["deno test -A -- --update", ["--", "--update"], {}],
    ["SPICECAP_UPDATE=1", [], { SPICECAP_UPDATE: "1" }],
  ] as const
) {
  Deno.test(`${how} re-baselines a differing temporary golden`, () =>
    withTemp(async (tmp) => {
      const golden = await alteredGolden(tmp);
      const probe = ["test", "-A", "testing/fixture_probe.ts"];
      const probeEnv = {
        SPICECAP_PROBE: "golden",
        SPICECAP_PROBE_ACTUAL: GOLDEN,
        SPICECAP_PROBE_GOLDEN: golden,
      };
      const failing = await deno(probe, probeEnv);
      assert.notEqual(failing.code, 0, "without an update the probe fails");
      assert.match(failing.text, /AssertionError[\s\S]*does not match golden/);
      const updating = await deno([...probe, ...args], { ...probeEnv, ...env });
      assert.equal(updating.code, 0, updating.text);
      assert.match(updating.text, /re-baselined golden/);
      assert.deepEqual(
        await Deno.readFile(`${golden}/main.pcap`),
        await Deno.readFile(new URL(`${GOLDEN}/main.pcap`, ROOT)),
      );
      assert.ok((await diffSessions(GOLDEN, golden)).same);
    }));
}

Deno.test({
  name: "an error thrown inside await using leaves no QEMU running",
  ignore: noQemu,
  fn: async () => {
    let qemuPid = 0;
    await assert.rejects(async () => {
      await using qemu = await startQemu();
      qemuPid = qemu.pid;
      assert.ok(await exists(`/proc/${qemuPid}`));
      throw new Error("the test failed");
    }, /the test failed/);
    assert.ok(await gone(qemuPid, 0), `QEMU ${qemuPid} still runs`);
    let capturePid = 0;
    await assert.rejects(async () => {
      await using cap = await capture();
      capturePid = cap.qemu!.pid;
      throw new Error("the capture test failed");
    }, /the capture test failed/);
    assert.ok(await gone(capturePid, 0), `capture's QEMU ${capturePid} still runs`);
  },
});

for (const runner of ["test", "run"] as const) {
  Deno.test({
    name: `an interrupted deno ${runner} leaves no QEMU running`,
    ignore: noQemu,
    fn: async () => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [runner, "-A", "testing/fixture_probe.ts"],
        cwd: ROOT,
        env: { NO_COLOR: "1", SPICECAP_PROBE: "hold" },
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let text = "";
      const decoder = new TextDecoder();
      let pid = 0;
      for await (const chunk of child.stdout) {
        text += decoder.decode(chunk, { stream: true });
        const m = /qemu pid (\d+)/.exec(text);
        if (m) {
          pid = Number(m[1]);
          child.kill("SIGINT");
        }
      }
      const status = await child.status;
      assert.ok(pid > 0, `the probe said no pid: ${text}`);
      assert.equal(status.code, 130, text);
      assert.ok(await gone(pid), `QEMU ${pid} outlived the interrupted deno ${runner}`);
    },
  });
}

Deno.test("the fixtures' doc examples run as tests (deno test --doc)", async () => {
  const { code, text } = await deno(["test", "-A", "--doc", "mod.ts", "harness/fixture/"]);
  assert.equal(code, 0, text.slice(-4000));
  assert.match(text, /ok \| [1-9]\d* passed \| 0 failed/);
});
