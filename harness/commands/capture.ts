/**
 * `deno task capture`: record a SPICE session through the recording proxy, one capture file per
 * channel, starting our own QEMU (and optionally a real client) when asked.
 */
import type { SessionStats } from "../../lib/capture/session.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import { type ClientKind, type ClientRun, runClient } from "../processes/clients.ts";
import { EnvironmentError, UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import {
  probeTls,
  type ProxyStats,
  type ProxyTlsOptions,
  SpiceProxy,
  TlsHandshakeError,
} from "../capture/proxy.ts";
import {
  CAPTURE_HELP,
  type CaptureOptions,
  defaultOutDir,
  isLoopback,
  parseCaptureArgs,
} from "./capture_args.ts";
import { type QemuServer, redactSecrets, startQemu } from "../processes/qemu.ts";
import { Recording } from "../capture/recording.ts";
import { requireTool } from "../processes/tools.ts";

/** After a one-shot client (spicy-screenshot) exits: time for the server's late pings. */
const CLIENT_EXIT_GRACE_MS = 1000;

/** SeaBIOS needs ~0.1 s to draw its first screen; a screenshot taken before is black. */
const OWN_QEMU_CLIENT_DELAY_MS = 500;

/** Waits `ms`, or less when `signal` fires. */
function abortableDelay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Why the capture stopped (manifest `stoppedBy`). */
type StoppedBy = "client-exit" | "duration" | "signal" | "server-exit";

/** The final summary (`--json` prints it). */
interface Summary {
  type: "summary";
  dir: string | null;
  url: string;
  stoppedBy: StoppedBy;
  files: { file: string; packets: number; bytes: number; dropped: number; errors: number }[];
  packets: number;
  bytes: number;
  dropped: number;
  errors: number;
  proxy: ProxyStats;
  client?: { kind: string; exitCode: number };
}

function readPem(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new EnvironmentError(`${flag}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Starts the recording worker and its session (recorder options from the command line). */
async function createRecording(
  dir: string,
  o: CaptureOptions,
  target: string | null,
  log: (level: "info" | "warn", message: string) => void,
): Promise<Recording> {
  try {
    return await Recording.start({
      dir,
      format: o.format,
      serverPort: o.serverPort,
      target,
      keepTicket: o.keepTicket,
      redactInputs: o.redactInputs,
      comments: o.format === "pcapng",
      maxInFlightBytes: o.maxInFlightBytes,
      log,
      onRecorderError: (message) => log("warn", message),
    });
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new UsageError(`output directory ${dir} already holds a session; choose another --out`);
    }
    const why = e instanceof Error ? e.message : String(e);
    throw new EnvironmentError(`output directory ${dir} is not writable: ${why}`);
  }
}

/** Files QEMU's x509-dir must hold. */
const QEMU_X509_FILES: readonly string[] = Object.freeze([
  "ca-cert.pem",
  "server-cert.pem",
  "server-key.pem",
]);

function checkX509Dir(dir: string): void {
  for (const name of QEMU_X509_FILES) {
    try {
      Deno.statSync(`${dir}/${name}`);
    } catch (e) {
      throw new EnvironmentError(
        `--qemu-x509-dir: cannot use ${dir}/${name}: ${(e as Error).message}; QEMU's x509-dir ` +
          `holds ${QEMU_X509_FILES.join(", ")}`,
      );
    }
  }
}

/** CA file for the server's certificate: --tls-ca, else our QEMU's own CA. */
function serverCaFile(o: CaptureOptions): string | undefined {
  return o.tlsCa ?? (o.qemuX509Dir ? `${o.qemuX509Dir}/ca-cert.pem` : undefined);
}

/** The proxy's TLS settings, read from the PEM files; undefined without --tls-cert. */
function tlsOptions(o: CaptureOptions, qemu: QemuServer | undefined): ProxyTlsOptions | undefined {
  if (!o.tlsCert || !o.tlsKey) return undefined;
  const tlsTarget = o.tlsTarget ??
    (qemu?.tlsPort ? { hostname: "127.0.0.1", port: qemu.tlsPort } : undefined);
  if (!tlsTarget) throw new UsageError("--tls-cert needs --tls-target (the server's TLS port)");
  const ca = serverCaFile(o);
  return {
    cert: readPem("--tls-cert", o.tlsCert),
    key: readPem("--tls-key", o.tlsKey),
    target: tlsTarget,
    caCerts: ca ? [readPem(o.tlsCa ? "--tls-ca" : "--qemu-x509-dir", ca)] : undefined,
  };
}

/** One TLS handshake with the server before any client: a wrong CA shows up at once. */
async function checkServerTls(o: CaptureOptions, tls: ProxyTlsOptions): Promise<void> {
  try {
    await probeTls(tls.target, tls.caCerts);
  } catch (e) {
    if (!(e instanceof TlsHandshakeError)) throw e;
    const ca = serverCaFile(o);
    throw new EnvironmentError(
      `${e.message}; ${
        ca ? `is ${ca} the CA that signed` : "the system roots do not trust"
      } the server's certificate, and does it name ${tls.target.hostname}? (--tls-ca)`,
    );
  }
}

function startProxy(
  o: CaptureOptions,
  qemu: QemuServer | undefined,
  recording: Recording | undefined,
  tls: ProxyTlsOptions | undefined,
  log: (level: "info" | "warn", message: string) => void,
  onFirstConnection: (atMs: number) => void,
): SpiceProxy {
  const target = o.target ?? { hostname: "127.0.0.1", port: qemu!.port };
  try {
    return SpiceProxy.start({
      target,
      listen: o.listen,
      recording,
      tls,
      log,
      onFirstConnection,
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new EnvironmentError(
        `cannot listen on ${o.listen.hostname}:${o.listen.port}: port in use; choose another --listen`,
      );
    }
    if (e instanceof Deno.errors.AddrNotAvailable || e instanceof Deno.errors.PermissionDenied) {
      throw new EnvironmentError(
        `cannot listen on ${o.listen.hostname}:${o.listen.port}: ${(e as Error).message}`,
      );
    }
    if (tls) {
      // Deno.listenTls rejects a certificate or key it cannot parse.
      throw new EnvironmentError(
        `cannot listen for TLS with --tls-cert ${o.tlsCert} and --tls-key ${o.tlsKey}: ${
          (e as Error).message
        }`,
      );
    }
    throw e;
  }
}

async function startClient(
  o: CaptureOptions,
  kind: ClientKind,
  proxy: SpiceProxy,
  dir: string | null,
  io: Io,
): Promise<ClientRun> {
  const anyAddress = proxy.hostname === "0.0.0.0" || proxy.hostname === "::";
  const client = await runClient(kind, {
    host: anyAddress ? "127.0.0.1" : proxy.hostname,
    port: proxy.port,
    tlsPort: proxy.tlsPort,
    caFile: proxy.tlsPort === undefined ? undefined : o.clientCa ?? serverCaFile(o),
    password: o.password,
    outFile: dir ? `${dir}/screenshot.ppm` : "spicy-screenshot.ppm",
  });
  const shown = client.commandLine.map((a) => a === o.password ? "***" : a).join(" ");
  await io.err(`spicecap capture: started ${shown} (pid ${client.pid})\n`);
  return client;
}

/** Resolves with the reason the capture should stop. */
function whenToStop(
  o: CaptureOptions,
  io: Io,
  client: ClientRun | undefined,
  qemu: QemuServer | undefined,
): { reason: Promise<StoppedBy>; cancel: () => void } {
  const timers: ReturnType<typeof setTimeout>[] = [];
  let onAbort = () => {};
  const reason = new Promise<StoppedBy>((resolve) => {
    if (io.signal.aborted) return resolve("signal");
    onAbort = () => resolve("signal");
    io.signal.addEventListener("abort", onAbort, { once: true });
    if (o.durationMs !== undefined) {
      timers.push(setTimeout(() => resolve("duration"), o.durationMs));
    }
    if (client && o.durationMs === undefined) {
      void client.exited.then(() => {
        timers.push(setTimeout(() => resolve("client-exit"), CLIENT_EXIT_GRACE_MS));
      });
    }
    void qemu?.exited.then(() => resolve("server-exit"));
  });
  return {
    reason,
    cancel: () => {
      timers.forEach(clearTimeout);
      io.signal.removeEventListener("abort", onAbort);
    },
  };
}

function summarize(
  dir: string | null,
  url: string,
  stoppedBy: StoppedBy,
  stats: SessionStats | undefined,
  manifest: Manifest | undefined,
  proxy: ProxyStats,
  client: { kind: string; exitCode: number } | undefined,
): Summary {
  const files = (stats?.channels ?? []).map((c) => ({
    file: c.file,
    packets: c.packets.sent + c.packets.received,
    bytes: c.bytes.sent + c.bytes.received,
    dropped: c.dropped,
    errors: c.errors,
  }));
  const sum = (k: "packets" | "bytes" | "dropped" | "errors") =>
    files.reduce((n, f) => n + f[k], 0);
  return {
    type: "summary",
    dir,
    url,
    stoppedBy,
    files,
    packets: sum("packets"),
    bytes: sum("bytes"),
    dropped: manifest?.dropped ?? sum("dropped"),
    errors: sum("errors") + proxy.captureErrors + proxy.tlsFailures,
    proxy,
    ...(client ? { client } : {}),
  };
}

function formatSummary(s: Summary): string {
  const lines = [`spicecap capture: stopped (${s.stoppedBy})`];
  for (const f of s.files) {
    lines.push(
      `  ${f.file.padEnd(18)} ${String(f.packets).padStart(7)} packets ${
        String(f.bytes).padStart(11)
      } bytes${f.dropped ? `, ${f.dropped} dropped` : ""}${f.errors ? `, ${f.errors} errors` : ""}`,
    );
  }
  lines.push(
    `  ${s.packets} packets, ${s.bytes} bytes recorded; ${s.dropped} dropped; ${s.errors} errors; ` +
      `relayed ${s.proxy.bytesToServer} bytes to the server, ${s.proxy.bytesToClient} to clients ` +
      `over ${s.proxy.connections} connections` +
      (s.proxy.tlsFailures ? `; failed TLS handshakes: ${s.proxy.tlsFailures}` : ""),
  );
  if (s.client) lines.push(`  client ${s.client.kind} exited with code ${s.client.exitCode}`);
  lines.push(s.dir ? `  session: ${s.dir}` : "  nothing recorded (--no-record)");
  return lines.join("\n") + "\n";
}

/**
 * Runs `deno task capture`.
 *
 * @param args arguments after `capture`
 * @param io output and the interrupt signal
 * @returns 0 recorded, 1 capture errors, 2 usage/environment (thrown as typed errors)
 */
export async function run(args: string[], io: Io): Promise<number> {
  const o = parseCaptureArgs(args);
  if (o.help) {
    await io.out(CAPTURE_HELP);
    return 0;
  }
  if (o.client !== "none") requireTool(o.client);
  if (o.client === "spicy" || o.client === "remote-viewer") {
    if (!Deno.env.get("DISPLAY")) requireTool("xvfb-run");
  }
  const warn = (message: string) => void io.err(`spicecap capture: ${message}\n`).catch(() => {});
  const log = (level: "info" | "warn", message: string) => {
    if (level === "warn") warn(`warning: ${message}`);
  };
  if (!isLoopback(o.listen.hostname)) {
    warn(
      `warning: listening on ${o.listen.hostname}, not loopback: anyone who can reach it can ` +
        "use the SPICE server through the proxy",
    );
  }

  const dir = o.noRecord ? null : o.out ?? defaultOutDir(new Date());
  let qemu: QemuServer | undefined;
  let recording: Recording | undefined;
  let proxy: SpiceProxy | undefined;
  let client: ClientRun | undefined;
  try {
    const qemuStartMs = performance.now();
    if (o.qemuX509Dir) checkX509Dir(o.qemuX509Dir);
    if (!o.target) {
      qemu = await startQemu({
        password: o.password,
        extraArgs: o.qemuArgs,
        channels: o.channels,
        guest: o.guest,
        tls: o.qemuX509Dir
          ? {
            x509Dir: o.qemuX509Dir,
            tlsChannels: o.qemuTlsChannels,
            plaintextChannels: o.qemuPlaintextChannels,
          }
          : undefined,
      });
    }
    const tls = tlsOptions(o, qemu);
    if (tls) await checkServerTls(o, tls);
    const target = o.target ? `${o.target.hostname}:${o.target.port}` : null;
    if (dir !== null) recording = await createRecording(dir, o, target, log);
    if (recording) {
      const scrubbed = [
        ...(o.keepTicket ? [] : ["ticket"]),
        ...(qemu && o.password !== undefined ? ["password"] : []),
      ];
      recording.setManifestField("scrubbed", scrubbed);
      if (o.redactInputs) recording.setManifestField("redacted", ["inputs"]);
      if (qemu) {
        recording.setManifestField("server", { commandLine: redactSecrets(qemu.commandLine) });
      }
    }
    const onFirst = (atMs: number) => {
      if (!qemu || !recording) return;
      recording.setManifestField("server", {
        commandLine: redactSecrets(qemu.commandLine),
        firstConnectionDelayMs: Math.round((atMs - qemuStartMs) * 10) / 10,
      });
    };
    proxy = startProxy(o, qemu, recording, tls, log, onFirst);
    const url = `spice://${proxy.hostname}:${proxy.port}` +
      (proxy.tlsPort ? `?tls-port=${proxy.tlsPort}` : "");
    await io.err(
      `spicecap capture: ${target ?? `QEMU pid ${qemu!.pid} on 127.0.0.1:${qemu!.port}`} ` +
        `recorded at ${url}${dir ? ` into ${dir}` : " (not recording)"}\n`,
    );
    if (o.client !== "none") {
      const delayMs = o.clientDelayMs ?? (qemu ? OWN_QEMU_CLIENT_DELAY_MS : 0);
      if (delayMs > 0) await abortableDelay(delayMs, io.signal);
      if (!io.signal.aborted) client = await startClient(o, o.client, proxy, dir, io);
    }
    const stop = whenToStop(o, io, client, qemu);
    const stoppedBy = await stop.reason;
    stop.cancel();

    // A client that exited by itself is not "stopped by the harness" (its exit code counts).
    if (stoppedBy !== "client-exit") await client?.stop();
    await proxy.close();
    recording?.setManifestField("stoppedBy", stoppedBy);
    // The worker works off what it was handed, then closes the session (it sets recorderErrors).
    const manifest = await recording?.close();
    const stats = await recording?.stats();
    const proxyStats = proxy.stats();
    await qemu?.stop();
    let clientInfo: { kind: string; exitCode: number } | undefined;
    if (client) clientInfo = { kind: client.kind, exitCode: (await client.exited).code };
    // The client wrote the screenshot with its umask; session files are private (0600).
    if (dir && client?.kind === "spicy-screenshot") {
      await Deno.chmod(`${dir}/screenshot.ppm`, 0o600).catch(() => {});
    }
    const summary = summarize(dir, url, stoppedBy, stats, manifest, proxyStats, clientInfo);
    if (o.json) await io.out(JSON.stringify(summary) + "\n");
    await io.err(formatSummary(summary));
    if (client && clientInfo && clientInfo.exitCode !== 0 && !client.stoppedByHarness) {
      const tail = client.stderrText().trim().split("\n").slice(-3).join(" | ");
      await io.err(`spicecap capture: warning: client output: ${tail}\n`).catch(() => {});
    }
    return summary.errors > 0 || summary.dropped > 0 ? 1 : 0;
  } finally {
    // On an error path: leave nothing running.
    await client?.stop().catch(() => {});
    await proxy?.close().catch(() => {});
    await recording?.close().catch(() => {});
    await qemu?.stop().catch(() => {});
  }
}
