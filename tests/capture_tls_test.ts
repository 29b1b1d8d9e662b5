/**
 * TLS capture end to end: QEMU with a `tls-port` and an openssl-made PKI, the proxy terminating
 * the client's TLS with its own certificate and opening TLS to QEMU, plaintext in the files.
 */
import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { SpiceProxy } from "../harness/capture/proxy.ts";
import {
  captureInProcess,
  pollUntil,
  tshark,
  unitsOf,
  untilRecorded,
} from "../testing/capture_harness.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { readManifest } from "../lib/capture/manifest.ts";
import { parseLinkReply } from "../lib/spice/link.ts";
import { linkErrorName } from "../lib/spice/tables.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";
import { makePki } from "../testing/tls_pki.ts";

const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
const URL_WITH_TLS = /spice:\/\/[\d.]+:(\d+)\?tls-port=(\d+)/;
const NEED_SECURED = 5;

/** Runs spicy-screenshot against the proxy's plain and TLS ports, trusting `caFile`. */
async function screenshot(
  { plainPort, tlsPort, caFile, out }: {
    plainPort: number;
    tlsPort: number;
    caFile: string;
    out: string;
  },
) {
  // spicy-screenshot has no --spice-ca-file; OpenSSL's default verify paths honour SSL_CERT_FILE.
  const result = await new Deno.Command("spicy-screenshot", {
    args: ["-h", "127.0.0.1", "-p", String(plainPort), "-s", String(tlsPort), "-o", out],
    env: { SSL_CERT_FILE: caFile },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(10_000),
  }).output();
  return { code: result.code, text: new TextDecoder().decode(result.stderr) };
}

/** The link error of each connection's link reply, in capture order. */
async function linkErrors(path: string): Promise<number[]> {
  const { units } = await unitsOf(path);
  return units.filter((u) => u.kind === "linkReply").map((u) => parseLinkReply(u.bytes).error);
}

/** QEMU processes still running with `dir` on their command line. */
function qemusUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      if (cmd.startsWith("qemu-system") && cmd.includes(dir)) pids.push(Number(e.name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const e2eSkip =
  missingTools("qemu-system-x86_64", "spicy-screenshot", "tshark", "openssl") !== undefined;

Deno.test({
  name: "capture through TLS records plaintext SPICE that tshark dissects and check accepts",
  ignore: e2eSkip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-tls-" });
    const dir = `${tmp}/session`;
    let cap: ReturnType<typeof captureInProcess> | undefined;
    try {
      const pki = await makePki(tmp);
      cap = captureInProcess([
        ...["--qemu-x509-dir", pki.x509Dir, "--qemu-tls-channel", "default"],
        ...["--tls-cert", pki.proxyCert, "--tls-key", pki.proxyKey, "-o", dir, "--json"],
      ]);
      const io = cap.io;
      const [plain, secure] = await pollUntil(
        () => {
          const m = URL_WITH_TLS.exec(io.stderr());
          return m ? [Number(m[1]), Number(m[2])] : undefined;
        },
        15_000,
        `the capture URL with a tls-port (stderr: ${io.stderr()})`,
      );
      const shot = await screenshot({
        plainPort: plain,
        tlsPort: secure,
        caFile: pki.caCert,
        out: `${tmp}/shot.ppm`,
      });
      assert.equal(shot.code, 0, `spicy-screenshot over TLS: ${shot.text}`);
      await pollUntil(
        async () => {
          const text = await Deno.readTextFile(`${dir}/session.json`).catch(() => "{}");
          return JSON.parse(text).channels?.length >= 2 ? true : undefined;
        },
        5000,
        "main and display in the manifest",
      );
      cap.interrupt();
      assert.equal(await cap.done, 0, io.stderr());
      const summary = JSON.parse(io.stdout());
      assert.equal(summary.stoppedBy, "signal");
      assert.equal(summary.proxy.tlsFailures, 0);

      // Every channel needs TLS: each plain link got NEED_SECURED, then the client came back
      // on the TLS port; both connections are in the channel's file, each with its own port.
      const manifest = await readManifest(dir);
      for (const name of ["main", "display"]) {
        const ch = manifest.channels.find((c) => c.typeName === name);
        assert.ok(ch, `${name} recorded`);
        assert.equal(ch.file, `${name}.pcap`);
        assert.equal(ch.connections.length, 2, `${name}: plain refusal, then TLS`);
        const [first, second] = ch.connections.map((c) => c.clientPort);
        assert.notEqual(first, second, `${name}: the reconnection has its own client port`);
        const errors = await linkErrors(`${dir}/${ch.file}`);
        assert.deepEqual(errors, [NEED_SECURED, 0], `${name}: ${errors.map(linkErrorName)}`);
      }

      const lines = await tshark(["-r", `${dir}/main.pcap`, "-Y", "spice"]);
      assert.ok(lines.some((l) => l.includes("Spice MAIN")), `tshark: ${lines.join("\n")}`);
      const init = await tshark([
        ...["-r", `${dir}/main.pcap`, "-Y", "spice.main_session_id"],
        ...["-T", "fields", "-e", "spice.main_session_id"],
      ]);
      assert.equal(init.length, 1, "MAIN_INIT decoded from the TLS connection");
      const display = await tshark(["-r", `${dir}/display.pcap`, "-Y", "spice"]);
      assert.ok(display.some((l) => l.includes("Spice DISPLAY")), display.join("\n"));

      const check = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", CLI, "check", dir],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const dec = new TextDecoder();
      assert.equal(check.code, 0, dec.decode(check.stdout) + dec.decode(check.stderr));
    } finally {
      cap?.interrupt();
      await cap?.done.catch(() => {});
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

const spicySkip = missingTools("qemu-system-x86_64", "spicy", "xvfb-run", "openssl") !== undefined;

Deno.test({
  name: "capture with main over TLS and the other channels plain records every channel",
  ignore: spicySkip,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-tls-" });
    const dir = `${tmp}/session`;
    let cap: ReturnType<typeof captureInProcess> | undefined;
    try {
      const pki = await makePki(tmp);
      cap = captureInProcess([
        ...["--qemu-x509-dir", pki.x509Dir, "--qemu-tls-channel", "main"],
        ...["--qemu-plaintext-channel", "default"],
        ...["--tls-cert", pki.proxyCert, "--tls-key", pki.proxyKey],
        ...["--client", "spicy", "-o", dir, "--json"],
      ]);
      // What the assertions below read: main's refused plain link and its TLS link, and a
      // server message on each plain channel. Then stop the capture as Ctrl-C would.
      const serverMessage = { has: (u: SpiceUnit) => u.kind === "message" && !u.fromClient };
      await untilRecorded(dir, {
        files: {
          "main.pcap": { has: (u) => u.kind === "linkReply", count: 2 },
          "display.pcap": serverMessage,
          "inputs.pcap": serverMessage,
          "cursor.pcap": serverMessage,
        },
      });
      cap.interrupt();
      assert.equal(await cap.done, 0, cap.io.stderr());
      assert.match(cap.io.stderr(), /-s \d+ --spice-ca-file=\S+ca-cert\.pem/, "spicy got both");
      const manifest = await readManifest(dir);
      const byName = new Map(manifest.channels.map((c) => [c.typeName, c]));
      for (const name of ["main", "display", "inputs", "cursor"]) {
        assert.ok(byName.has(name), `${name} in ${[...byName.keys()].join(", ")}`);
      }
      // main: plain link refused with NEED_SECURED, then linked over TLS.
      assert.deepEqual(await linkErrors(`${dir}/main.pcap`), [NEED_SECURED, 0]);
      // The others are plaintext-only on the server: linked at once on the plain port.
      for (const name of ["display", "inputs", "cursor"]) {
        const ch = byName.get(name)!;
        assert.equal(ch.connections.length, 1, `${name}: one plain connection`);
        assert.deepEqual(await linkErrors(`${dir}/${ch.file}`), [0], `${name} linked`);
        assert.ok(ch.packets.received > 1, `${name}: server messages recorded`);
      }
      const summary = JSON.parse(cap.io.stdout());
      assert.equal(summary.proxy.tlsFailures, 0);
      assert.ok(summary.proxy.connections >= 5, "4 channels + the refused plain main link");
    } finally {
      cap?.interrupt();
      await cap?.done.catch(() => {});
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test({
  name: "capture with a --tls-ca that did not sign QEMU's certificate exits 2 naming the TLS error",
  ignore: missingTools("qemu-system-x86_64", "openssl") !== undefined,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-tls-" });
    try {
      const pki = await makePki(tmp);
      const io = memoryIo();
      const code = await main([
        "capture",
        ...["--qemu-x509-dir", pki.x509Dir, "--tls-ca", pki.wrongCaCert],
        ...["--tls-cert", pki.proxyCert, "--tls-key", pki.proxyKey, "-o", `${tmp}/session`],
      ], io);
      assert.equal(code, 2, io.stderr());
      assert.match(
        io.stderr(),
        /^spicecap capture: TLS handshake with server 127\.0\.0\.1:\d+ failed: invalid peer certificate: UnknownIssuer; is \S+wrong-ca-cert\.pem the CA/,
      );
      assert.doesNotMatch(io.stderr(), /internal error|\n\s+at /, "no stack trace");
      assert.deepEqual(qemusUsing(pki.x509Dir), [], "our QEMU was stopped");
      await assert.rejects(Deno.stat(`${tmp}/session`), Deno.errors.NotFound, "no session left");
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

/** A TLS "server" that accepts, handshakes and echoes, for proxy-level tests. */
function echoTlsServer(cert: string, key: string) {
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  const served = (async () => {
    for await (const conn of listener) {
      void (async () => {
        try {
          const buf = new Uint8Array(1024);
          for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
            await conn.write(buf.subarray(0, n));
          }
        } catch {
          // the proxy gave up on this connection
        } finally {
          try {
            conn.close();
          } catch {
            // closed already
          }
        }
      })();
    }
  })();
  return { port: (listener.addr as Deno.NetAddr).port, listener, served };
}

Deno.test({
  name: "the proxy reports failed TLS handshakes on either side and keeps relaying",
  ignore: missingTools("openssl") !== undefined,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-tls-" });
    try {
      const pki = await makePki(tmp);
      const read = (p: string) => Deno.readTextFileSync(p);
      const server = echoTlsServer(
        read(`${pki.x509Dir}/server-cert.pem`),
        read(`${pki.x509Dir}/server-key.pem`),
      );
      const plainServer = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const warnings: string[] = [];
      const proxy = SpiceProxy.start({
        target: { hostname: "127.0.0.1", port: (plainServer.addr as Deno.NetAddr).port },
        tls: {
          cert: read(pki.proxyCert),
          key: read(pki.proxyKey),
          target: { hostname: "127.0.0.1", port: server.port },
          caCerts: [read(pki.wrongCaCert)],
        },
        log: (_level, message) => warnings.push(message),
      });
      try {
        // Server side: the proxy does not trust the server's certificate.
        const c1 = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: proxy.tlsPort!,
          caCerts: [read(pki.caCert)],
        });
        await c1.handshake();
        await c1.write(new TextEncoder().encode("REDQ")).catch(() => 0);
        const got = await c1.read(new Uint8Array(16)).catch(() => null);
        assert.equal(got, null, "the client connection is closed, nothing relayed");
        c1.close();
        await pollUntil(() => warnings.length > 0 || undefined, 5000, "a warning");
        assert.match(
          warnings[0],
          /^TLS handshake with server 127\.0\.0\.1:\d+ failed: invalid peer certificate: UnknownIssuer; connection not relayed$/,
        );

        // Client side: a client that does not trust the proxy's certificate.
        const c2 = await Deno.connectTls({
          hostname: "127.0.0.1",
          port: proxy.tlsPort!,
          caCerts: [read(pki.wrongCaCert)],
        });
        await assert.rejects(c2.handshake(), /UnknownIssuer/);
        c2.close();
        await pollUntil(() => warnings.length > 1 || undefined, 5000, "a second warning");
        assert.match(warnings[1], /^TLS handshake with client 127\.0\.0\.1:\d+ failed: /);
        assert.equal(proxy.stats().tlsFailures, 2);

        // The plain listener still relays.
        const accepted = plainServer.accept();
        const c3 = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
        const upstream = await accepted;
        await c3.write(new Uint8Array([1, 2, 3]));
        const buf = new Uint8Array(3);
        assert.equal(await upstream.read(buf), 3);
        c3.close();
        upstream.close();
      } finally {
        await proxy.close();
        plainServer.close();
        server.listener.close();
        await server.served.catch(() => {});
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
