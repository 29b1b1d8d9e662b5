/**
 * The CLI checks the names it is given: message types, channels, flags and commands get a
 * one-line message with "did you mean …?", exit 2, and the way to the command's options.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { readCaptureFile } from "../lib/pcap/reader.ts";
import { PcapWriter } from "../lib/pcap/pcap_writer.ts";
import { parseBenchArgs } from "../bench/run.ts";

const SHOT = new URL("../fixtures/golden/screenshot", import.meta.url).pathname;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await main(argv, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

Deno.test("a misspelt name exits 2 with the nearest name from the tables", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["inspect", "--type", "DRAW_COPPY", SHOT],
      /--type: unknown message name DRAW_COPPY; did you mean DRAW_COPY\?/,
    ],
    [
      ["inspect", "--channel", "dispaly", SHOT],
      /--channel: unknown channel dispaly; did you mean display\?/,
    ],
    [["inspect", "--type", "XYZZY_PLUGH", SHOT], /--type: unknown message name XYZZY_PLUGH\n/],
    [
      ["diff", "--ignore-type", "PINGG", SHOT, SHOT],
      /--ignore-type: unknown message name PINGG; did you mean PING\?/,
    ],
    [
      ["inspect", "--mesages", SHOT],
      /^spicecap inspect: unknown option --mesages; did you mean --messages\?\n/,
    ],
    [["inpsect", SHOT], /^spicecap: unknown command inpsect; did you mean inspect\?\n/],
  ];
  for (const [argv, re] of cases) {
    const { code, stderr } = await run(...argv);
    assert.equal(code, 2, `${argv.join(" ")}: ${stderr}`);
    assert.match(stderr, re);
    assert.match(stderr, /Run spicecap( \w+)? --help for the (options|commands)\.\n$/);
    assert.doesNotMatch(stderr, /'|internal error/, stderr);
  }
});

Deno.test("a name in any case is the table's name; display:1 is display-1", async () => {
  const { code, stdout } = await run("inspect", "--type", "ping", "--channel", "MAIN", SHOT);
  assert.equal(code, 0);
  assert.match(stdout, /main +← #\d+ PING /);
  assert.equal((await run("inspect", "--channel", "display:0", "-c", "1", SHOT)).code, 0);
});

Deno.test("spicecap --version prints the version of deno.json", async () => {
  const { version } = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  );
  const { code, stdout } = await run("--version");
  assert.equal(code, 0);
  assert.equal(stdout, `spicecap ${version}\n`);
});

Deno.test("inspect --messages names the connections of a mid-session capture it cannot frame", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-midsession-" });
  try {
    const path = `${dir}/late.pcap`;
    const file = await Deno.open(path, { write: true, createNew: true });
    const writer = new PcapWriter(file.writable, { tsResolution: "ns" });
    let n = 0;
    for await (const r of readCaptureFile(`${SHOT}/display.pcap`)) {
      if (++n > 12) writer.write({ tsNs: r.tsNs, data: r.data });
    }
    await writer.close();
    const { code, stderr } = await run("inspect", "--messages", path);
    assert.equal(code, 0, stderr);
    assert.match(
      stderr,
      /^spicecap inspect: \S*late\.pcap: connection 0 \(10\.0\.0\.\d:\d+ ↔ 10\.0\.0\.\d:\d+\): not framed, its messages are not shown: .+\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench --help exits 0; an unknown --only name or flag exits 2 with the nearest name", () => {
  const help = parseBenchArgs(["--help"]);
  assert.ok("text" in help && help.code === 0 && /--only NAME/.test(help.text));
  const only = parseBenchArgs(["--only", "ringg"]);
  assert.ok("text" in only);
  assert.equal(only.code, 2);
  assert.match(only.text, /^bench: --only: unknown benchmark ringg; did you mean ring\?\n/);
  const flag = parseBenchArgs(["--bogus"]);
  assert.ok(
    "text" in flag && flag.code === 2 && /unknown option or argument --bogus\n/.test(flag.text),
  );
  assert.deepEqual(parseBenchArgs(["--only", "pcap", "--only", "ring"]), {
    quick: false,
    only: ["pcap", "ring"],
  });
});

Deno.test("merge and import take -o/--out, and the old --output still works", async () => {
  const dir = await Deno.makeTempDir({ prefix: "spicecap-out-" });
  try {
    assert.equal((await run("merge", SHOT, "--out", `${dir}/a.pcapng`)).code, 0);
    assert.equal((await run("merge", SHOT, "--output", `${dir}/b.pcapng`)).code, 0);
    const missing = await run("merge", SHOT);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /expected -o OUT\.pcapng/);
    const nothing = await run("import", `${dir}/nope.pcap`, "-o", `${dir}/s`);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /^spicecap import: \S+nope\.pcap: no such file\n/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("inspect --messages names the capability bits of the link phase", async () => {
  const { code, stdout } = await run("inspect", "--messages", "--type", "LINK_REPLY", SHOT);
  assert.equal(code, 0);
  assert.match(
    stdout,
    /main +← LINK_REPLY \d+ .*commonCaps=\[PROTOCOL_AUTH_SELECTION,AUTH_SPICE,MINI_HEADER\] channelCaps=\[SEMI_SEAMLESS_MIGRATE,/,
  );
});
