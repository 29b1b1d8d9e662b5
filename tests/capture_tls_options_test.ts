/**
 * capture's TLS options without a server: the help text, the combinations refused with exit 2,
 * an incomplete --qemu-x509-dir, and the -spice option QEMU gets.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { qemuCommandLine } from "../harness/processes/qemu.ts";

Deno.test("capture --help describes the TLS options and their defaults", async () => {
  const io = memoryIo();
  assert.equal(await main(["capture", "--help"], io), 0);
  for (
    const s of [
      "--tls-cert <file>",
      "--tls-key <file>",
      "--tls-target <host:port>",
      "--tls-ca <file>",
      "--client-ca <file>",
      "--qemu-x509-dir <dir>",
      "--qemu-tls-channel <name>",
      "--qemu-plaintext-channel <name>",
      "<x509-dir>/ca-cert.pem",
      "NEED_SECURED",
    ]
  ) {
    assert.ok(io.stdout().includes(s), `help mentions ${s}`);
  }
});

Deno.test("capture rejects TLS options that cannot work together with exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [
      ["--tls-target", "127.0.0.1:5931", "--tls-cert", "c", "--tls-key", "k"],
      /is the TLS port of --target/,
    ],
    [["--target", "h:1", "--tls-ca", "ca.pem"], /--tls-ca needs the proxy's TLS port/],
    [["--target", "h:1", "--client-ca", "ca.pem"], /--client-ca needs/],
    [["--qemu-tls-channel", "main"], /--qemu-tls-channel needs our QEMU's TLS port/],
    [["--qemu-x509-dir", "d", "--qemu-tls-channel", "mian"], /expected one of default, main/],
    [["--target", "h:1", "--qemu-plaintext-channel", "main"], /cannot go with --target/],
  ];
  for (const [args, message] of cases) {
    const io = memoryIo();
    assert.equal(await main(["capture", ...args], io), 2, args.join(" "));
    assert.match(io.stderr(), message, args.join(" "));
  }
});

Deno.test("capture names the missing file of an incomplete --qemu-x509-dir before starting QEMU", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-tls-" });
  try {
    await Deno.writeTextFile(`${tmp}/ca-cert.pem`, "");
    const io = memoryIo();
    assert.equal(await main(["capture", "--qemu-x509-dir", tmp, "-o", `${tmp}/s`], io), 2);
    assert.match(io.stderr(), /server-cert\.pem.*x509-dir holds ca-cert\.pem, server-cert\.pem/);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("qemuCommandLine() puts the TLS port, x509-dir and channel security in -spice", () => {
  const line = qemuCommandLine(
    { tls: { x509Dir: "/p,k", tlsChannels: ["main"], plaintextChannels: ["default"] } },
    { port: 5930, tlsPort: 5931 },
  );
  const spice = line[line.indexOf("-spice") + 1];
  assert.equal(
    spice,
    "port=5930,addr=127.0.0.1,disable-ticketing=on,tls-port=5931,x509-dir=/p,,k," +
      "tls-channel=main,plaintext-channel=default",
  );
});
