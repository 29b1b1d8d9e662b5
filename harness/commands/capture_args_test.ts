import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { memoryIo } from "../io.ts";
import { defaultOutDir, isLoopback, parseCaptureArgs, parseHostPort } from "./capture_args.ts";
import { UsageError } from "../errors.ts";

Deno.test("capture --help prints usage, grouped options with defaults and exit status", async () => {
  const io = memoryIo();
  assert.equal(await main(["capture", "--help"], io), 0);
  const text = io.stdout();
  assert.match(text, /^Usage: deno task capture \[options\]/);
  for (const s of ["--target <host:port>", "(default: pcap)", "(default: 5930", "Exit status:"]) {
    assert.ok(text.includes(s), `help mentions ${s}`);
  }
});

Deno.test("capture rejects unknown flags and bad values with exit 2", async () => {
  for (
    const args of [
      ["--nope"],
      ["--format", "json"],
      ["--duration", "-1"],
      ["--client", "vncviewer"],
      ["--target", "host"],
      ["--target", "h:1", "--qemu-arg=-name"],
      ["--tls-cert", "c.pem"],
      ["--server-port", "70000"],
    ]
  ) {
    const io = memoryIo();
    assert.equal(await main(["capture", ...args], io), 2, args.join(" "));
    assert.match(io.stderr(), /^spicecap capture: /);
  }
});

Deno.test("parseCaptureArgs() reads repeatable QEMU args, durations and defaults", () => {
  const o = parseCaptureArgs(["--qemu-arg=-name", "--qemu-arg", "x", "--duration", "1.5"]);
  assert.deepEqual(o.qemuArgs, ["-name", "x"]);
  assert.equal(o.durationMs, 1500);
  assert.equal(o.format, "pcap");
  assert.equal(o.client, "none");
  assert.equal(o.serverPort, 5930);
  assert.deepEqual(o.listen, { hostname: "127.0.0.1", port: 0 });
  assert.deepEqual(parseHostPort("[::1]:5930", { flag: "--target" }), {
    hostname: "::1",
    port: 5930,
  });
  assert.throws(() => parseHostPort("x:0", { flag: "--target" }), UsageError);
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && !isLoopback("0.0.0.0"));
});

Deno.test("parseCaptureArgs() reads the display compression flags; --target refuses them", () => {
  assert.deepEqual(parseCaptureArgs([]).displayCompression, {});
  const o = parseCaptureArgs([
    ...["--image-compression", "auto_glz", "--jpeg-wan", "always"],
    ...["--zlib-glz-wan", "never", "--streaming-video", "all", "--guest", "linux-fb"],
  ]);
  assert.deepEqual(o.displayCompression, {
    imageCompression: "auto_glz",
    jpegWan: "always",
    zlibGlzWan: "never",
    streamingVideo: "all",
  });
  assert.equal(o.guest, "linux-fb");
  assert.throws(() => parseCaptureArgs(["--image-compression", "jpeg"]), /--image-compression/);
  assert.throws(() => parseCaptureArgs(["--streaming-video", "on"]), /--streaming-video/);
  for (const flag of ["--image-compression=lz", "--jpeg-wan=always", "--streaming-video=all"]) {
    assert.throws(
      () => parseCaptureArgs(["--target", "127.0.0.1:5900", flag]),
      /configures our own QEMU; it cannot go with --target/,
    );
  }
});

Deno.test("defaultOutDir() names the directory after the UTC time", () => {
  assert.equal(defaultOutDir(new Date("2026-11-23T16:12:00.123Z")), "captures/20261123T161200Z");
});

Deno.test("capture exits 2 naming the port when --listen is in use", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (taken.addr as Deno.NetAddr).port;
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const io = memoryIo();
    const code = await main([
      "capture",
      "--no-record",
      "--target",
      `127.0.0.1:${(target.addr as Deno.NetAddr).port}`,
      "--listen",
      `127.0.0.1:${port}`,
    ], io);
    assert.equal(code, 2);
    assert.match(io.stderr(), new RegExp(`127\\.0\\.0\\.1:${port}: port in use`));
  } finally {
    taken.close();
    target.close();
  }
});

Deno.test("capture exits 2 naming an output directory it cannot write", async () => {
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const file = await Deno.makeTempFile();
  try {
    const io = memoryIo();
    const out = `${file}/session`; // below a regular file: cannot be created
    const code = await main([
      "capture",
      ...["--target", `127.0.0.1:${(target.addr as Deno.NetAddr).port}`, "-o", out],
    ], io);
    assert.equal(code, 2);
    assert.ok(io.stderr().includes(`output directory ${out} is not writable`), io.stderr());
  } finally {
    target.close();
    await Deno.remove(file);
  }
});

Deno.test("capture with --duration stops by itself and reports an empty session", async () => {
  const target = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const io = memoryIo();
    const code = await main([
      "capture",
      ...["--target", `127.0.0.1:${(target.addr as Deno.NetAddr).port}`],
      ...["-o", `${dir}/s`, "--duration", "0.2", "--json", "--listen", "127.0.0.1:0"],
    ], io);
    assert.equal(code, 0, io.stderr());
    const summary = JSON.parse(io.stdout());
    assert.equal(summary.stoppedBy, "duration");
    assert.equal(summary.packets, 0);
    assert.doesNotMatch(io.stderr(), /not loopback/);
    const manifest = JSON.parse(await Deno.readTextFile(`${dir}/s/session.json`));
    assert.equal(manifest.stoppedBy, "duration");
  } finally {
    target.close();
    await Deno.remove(dir, { recursive: true });
  }
});
