/**
 * End to end, real QEMU: `deno task regress` over the repo's goldens and altered copies of them;
 * its JUnit XML parsed structurally; shards; a QEMU killed mid-replay; `--qemu`; SIGINT.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { isRunning, ownQemus, qemuDescendants } from "../harness/regress/procs.ts";
import { artifactName } from "../harness/regress/run_golden.ts";
import { GOLDEN_DIR } from "../tools/make_golden_fixtures.ts";
import { childrenNamed, parseXml, type XmlElement } from "../testing/xml.ts";

const noQemu = missingTools("qemu-system-x86_64") !== undefined;
const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
const GOLDENS = GOLDEN_DIR.replace(/\/$/, "");

async function regress(args: string[], signal?: AbortSignal) {
  const io = memoryIo(signal);
  const code = await main(["regress", ...args], io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-regress-test-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Copies a golden (channel files, session.json, regress.json) to `dest`. */
async function copyGolden(name: string, dest: string): Promise<void> {
  await Deno.mkdir(dest, { recursive: true });
  for await (const e of Deno.readDir(`${GOLDENS}/${name}`)) {
    if (e.isFile) await Deno.copyFile(`${GOLDENS}/${name}/${e.name}`, `${dest}/${e.name}`);
  }
}

/** Flips the last byte of the largest packet of a pcap file (image data of a DRAW_COPY). */
async function alterOneByte(pcap: string): Promise<void> {
  const b = await Deno.readFile(pcap);
  const view = new DataView(b.buffer);
  let off = 24;
  let best = { at: -1, len: -1 };
  while (off < b.length) {
    const len = view.getUint32(off + 8, true);
    if (len > best.len) best = { at: off + 16, len };
    off += 16 + len;
  }
  b[best.at + best.len - 1] ^= 0xff;
  await Deno.writeFile(pcap, b);
}

/** The testsuite of a JUnit file, checked to be a well-formed report of that shape. */
async function junitSuite(file: string): Promise<XmlElement> {
  const root = parseXml(await Deno.readTextFile(file));
  assert.equal(root.name, "testsuites");
  const suites = childrenNamed(root, "testsuite");
  assert.equal(suites.length, 1);
  const suite = suites[0];
  const cases = childrenNamed(suite, "testcase");
  assert.equal(suite.attributes.tests, String(cases.length));
  for (const c of cases) {
    assert.ok(c.attributes.name && c.attributes.classname, "testcase has name and classname");
    assert.ok(Number.isFinite(Number(c.attributes.time)), "testcase time is a number");
  }
  return suite;
}

function cases(suite: XmlElement): Map<string, XmlElement> {
  return new Map(childrenNamed(suite, "testcase").map((c) => [c.attributes.name, c]));
}

Deno.test({
  name: "regress: the repo's goldens pass, and the JUnit report lists each as passed",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const r = await regress([GOLDENS, "--jobs", "2", "--junit", `${tmp}/junit.xml`]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /3 goldens: 3 same/);
      const suite = await junitSuite(`${tmp}/junit.xml`);
      const byName = cases(suite);
      assert.deepEqual(
        [...byName.keys()],
        ["all_channels", "password", "screenshot"].map((n) => `${GOLDENS}/${n}`),
      );
      for (const c of byName.values()) assert.equal(c.children.length, 0, "no failure or error");
      assert.deepEqual(ownQemus(), [], "no QEMU left");
    }),
});

Deno.test({
  name: "regress: a golden altered by one byte fails; JUnit names it, artifacts are kept",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const golden = `${tmp}/goldens/shot`;
      await copyGolden("screenshot", golden);
      await alterOneByte(`${golden}/display.pcap`);
      // The altered screen is never reached: the screen gate waits this long, not 10 s.
      const options = '{ "version": 1, "timeoutMs": 3000 }\n';
      await Deno.writeTextFile(`${golden}/regress.json`, options);
      const art = `${tmp}/art`;
      const r = await regress([`${tmp}/goldens`, "--junit", `${tmp}/j.xml`, "--artifacts", art]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /DIFFERS/);
      const suite = await junitSuite(`${tmp}/j.xml`);
      assert.equal(suite.attributes.failures, "1");
      const c = cases(suite).get(golden);
      assert.ok(c, `testcase named ${golden}`);
      const [failure] = childrenNamed(c, "failure");
      assert.ok(failure, "a failure element");
      assert.match(failure.attributes.message, /differs: \d+ difference/);
      // The altered first screen never shows on the console: nothing is linked (pre-link gate).
      assert.match(failure.text, /pre-link gate: QEMU's console never showed the recorded first/);
      assert.match(failure.text, /display: only in the golden capture/);
      const props = childrenNamed(childrenNamed(c, "properties")[0], "property");
      const paths = new Map(props.map((p) => [p.attributes.name, p.attributes.value]));
      assert.equal(paths.get("replay"), `${art}/${artifactName(golden)}/replay`);
      for (const p of paths.values()) await Deno.stat(p);
      await Deno.stat(`${paths.get("replay")}/session.json`);
      await Deno.stat(`${paths.get("replay")}/diff.png`);
      assert.match(await Deno.readTextFile(paths.get("diff")!), /differs: \d+ difference/);
      // --update re-baselines it from a replay, keeping its regress.json; then it passes.
      const updated = await regress([golden, "--update", "--json"]);
      assert.equal(updated.code, 1, updated.stdout + updated.stderr);
      assert.match(updated.stdout, /"outcome":"updated"/);
      assert.equal(await Deno.readTextFile(`${golden}/regress.json`), options);
      const again = await regress([golden]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
    }),
});

Deno.test({
  name: "regress: an invalid regress.json is exit 2 naming the file and the field",
  fn: () =>
    withTemp(async (tmp) => {
      await copyGolden("screenshot", `${tmp}/g`);
      await Deno.writeTextFile(`${tmp}/g/regress.json`, '{"version": 1, "keep": ["nope"]}');
      const r = await regress([`${tmp}/g`]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /g\/regress\.json: 'keep\[0\]': expected a normaliser name/);
    }),
});

Deno.test({
  name: "regress: --shard 1/2 and 2/2 together run every golden exactly once",
  fn: () =>
    withTemp(async (tmp) => {
      // Goldens whose password variable is unset fail at once, before any QEMU: each shard's
      // report still names what it ran.
      const names = ["a", "b", "c", "d", "e"];
      for (const n of names) {
        await copyGolden(n === "b" ? "all_channels" : "screenshot", `${tmp}/g/${n}`);
        await Deno.writeTextFile(
          `${tmp}/g/${n}/regress.json`,
          '{"password": "env:SPICECAP_UNSET_PW"}',
        );
      }
      const ran: string[] = [];
      const sizes: number[] = [];
      for (const shard of ["1/2", "2/2"]) {
        const r = await regress([`${tmp}/g`, "--shard", shard, "--json"]);
        assert.equal(r.code, 2, r.stderr);
        const records = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
        const goldens = records.filter((x) => x.type === "golden");
        for (const g of goldens) assert.match(g.message, /SPICECAP_UNSET_PW is not set/);
        sizes.push(goldens.length);
        ran.push(...goldens.map((g) => g.name));
      }
      // Balanced by recorded duration: all_channels (3.5 s) alone against four 0.6 s sessions.
      assert.deepEqual(sizes, [1, 4]);
      assert.equal(ran[0], `${tmp}/g/b`);
      assert.deepEqual(ran.sort(), names.map((n) => `${tmp}/g/${n}`));
    }),
});

Deno.test({
  name: "regress --jobs 2: a golden whose QEMU is killed mid-replay fails, nothing is left",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      await copyGolden("screenshot", `${tmp}/g/shot`);
      await copyGolden("all_channels", `${tmp}/g/all`);
      const art = `${tmp}/art`;
      const all = `${tmp}/g/all`;
      const running = regress([`${tmp}/g`, "--jobs", "2", "--artifacts", art, "--json"]);
      // all_channels's QEMU has usb-redir; kill it once its replay has linked main.
      const linked = `${art}/${artifactName(all)}/replay/main.pcap`;
      let killed: number | undefined;
      const deadline = performance.now() + 60_000;
      while (killed === undefined && performance.now() < deadline) {
        const target = ownQemus().find((pid) =>
          Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("usb-redir")
        );
        const ready = await Deno.stat(linked).then(() => true, () => false);
        if (target !== undefined && ready) {
          Deno.kill(target, "SIGKILL");
          killed = target;
        } else await new Promise((r) => setTimeout(r, 20));
      }
      const r = await running;
      assert.ok(killed !== undefined, "found all_channels's QEMU to kill");
      const goldens = r.stdout.trim().split("\n").map((l) => JSON.parse(l))
        .filter((x) => x.type === "golden");
      const byName = new Map(goldens.map((g) => [g.name, g]));
      assert.ok(["error", "differs"].includes(byName.get(all)!.outcome), r.stdout);
      assert.ok(byName.get(`${tmp}/g/shot`)!.outcome !== "not-run");
      assert.notEqual(r.code, 0);
      assert.equal(isRunning(killed), false);
      assert.deepEqual(ownQemus(), [], "no QEMU left");
    }),
});

Deno.test({
  name: "regress --qemu: a wrapper not named qemu-system-* is refused; a copy elsewhere works",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const real = await Deno.realPath(
        new TextDecoder().decode(
          (await new Deno.Command("sh", { args: ["-c", "command -v qemu-system-x86_64"] }).output())
            .stdout,
        ).trim(),
      );
      await Deno.writeTextFile(`${tmp}/qemu-wrapper`, `#!/bin/sh\nexec "${real}" "$@"\n`);
      await Deno.chmod(`${tmp}/qemu-wrapper`, 0o755);
      const refused = await regress([`${GOLDENS}/screenshot`, "--qemu", `${tmp}/qemu-wrapper`]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--qemu .*qemu-wrapper is not a qemu-system-\* binary/);
      // A relocated copy: QEMU finds its modules and firmware relative to its binary.
      const prefix = real.replace(/\/bin\/[^/]+$/, "");
      await Deno.mkdir(`${tmp}/q/bin`, { recursive: true });
      await Deno.copyFile(real, `${tmp}/q/bin/qemu-system-x86_64`);
      await Deno.chmod(`${tmp}/q/bin/qemu-system-x86_64`, 0o755);
      await Deno.symlink(`${prefix}/lib`, `${tmp}/q/lib`);
      await Deno.symlink(`${prefix}/share`, `${tmp}/q/share`);
      const copy = `${tmp}/q/bin/qemu-system-x86_64`;
      const exes = new Set<string>();
      const watching = { on: true };
      const watch = (async () => {
        while (watching.on) {
          for (const pid of ownQemus()) {
            exes.add(await Deno.readLink(`/proc/${pid}/exe`).catch(() => ""));
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const r = await regress([`${GOLDENS}/screenshot`, "--qemu", copy]);
      watching.on = false;
      await watch;
      assert.ok(r.code === 0 || r.code === 1, r.stdout + r.stderr);
      assert.ok(exes.has(copy), `QEMU ran from the copy (saw ${[...exes].join(", ")})`);
    }),
});

Deno.test({
  name: "regress: SIGINT stops every running QEMU, writes the JUnit of what finished, exit 130",
  ignore: noQemu,
  fn: () =>
    withTemp(async (tmp) => {
      const junit = `${tmp}/j.xml`;
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "regress", GOLDENS, "--jobs", "2", "--junit", junit],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const seen = new Set<number>();
      const deadline = performance.now() + 60_000;
      while (seen.size < 2 && performance.now() < deadline) {
        for (const pid of qemuDescendants(child.pid)) seen.add(pid);
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(seen.size >= 1, "a QEMU started");
      child.kill("SIGINT");
      const out = await child.output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 130, text);
      for (const pid of seen) assert.equal(isRunning(pid), false, `QEMU ${pid} left running`);
      const suite = await junitSuite(junit);
      const props = childrenNamed(childrenNamed(suite, "properties")[0], "property");
      assert.ok(
        props.some((p) => p.attributes.name === "interrupted" && p.attributes.value === "true"),
      );
    }),
});
