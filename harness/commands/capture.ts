/**
 * `deno task capture`: record a SPICE session through the recording proxy, one capture file per
 * channel, starting our own QEMU (and optionally a real client) when asked.
 */
import { type ClientKind, type ClientRun, runClient } from "../processes/clients.ts";
import type { Io } from "../io.ts";
import { type HostPort, type ProxyTlsOptions, SpiceProxy } from "../capture/proxy.ts";
import {
  CAPTURE_HELP,
  type CaptureOptions,
  defaultOutDir,
  isLoopback,
  parseCaptureArgs,
} from "./capture_args.ts";
import {
  type ClientExit,
  formatSummary,
  otherSessionFiles,
  type StoppedBy,
  summarize,
} from "./capture_summary.ts";
import { checkServerTls, checkX509Dir, serverCaFile, tlsOptions } from "./capture_tls.ts";
import { type QemuServer, redactSecrets } from "../processes/qemu.ts";
import type { Recording } from "../capture/recording.ts";
import { snapshotOnSigusr1 } from "./ring_args.ts";
import {
  createRecording,
  listenError,
  type Log,
  noteOwnQemu,
  requireClientTools,
  startOwnQemu,
} from "./capture_start.ts";

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

/**
 * One capture, step by step: {@link startRecording}, {@link startServer}, {@link startProxy},
 * {@link startClient}, {@link waitForStop}, {@link finish}; {@link cleanup} stops whatever is
 * still running on any path.
 */
class CaptureRun {
  readonly #o: CaptureOptions;
  readonly #io: Io;
  /** Session directory; null with --no-record. */
  readonly #dir: string | null;
  /** host:port captured (--target); null for our own QEMU. */
  readonly #target: string | null;
  readonly #log: Log;
  readonly #warn: (message: string) => void;
  #qemuStartMs = 0;
  #qemu?: QemuServer;
  #recording?: Recording;
  #proxy?: SpiceProxy;
  #client?: ClientRun;
  #url = "";
  /** Whether --out existed (empty) before this capture: a failed start then leaves it. */
  #dirExisted = false;
  /** `--ring`: stops taking snapshots on SIGUSR1. */
  #stopSnapshots = () => {};

  constructor(o: CaptureOptions, io: Io) {
    this.#o = o;
    this.#io = io;
    this.#dir = o.noRecord ? null : o.out ?? defaultOutDir(new Date());
    this.#target = o.target ? `${o.target.hostname}:${o.target.port}` : null;
    this.#warn = (message) => void io.err(`spicecap capture: ${message}\n`).catch(() => {});
    this.#log = (level, message) => {
      if (level === "warn") this.#warn(`warning: ${message}`);
      else if (message.startsWith("snapshot (")) this.#warn(message);
    };
  }

  /** Where clients connect and what runs, once {@link startProxy} has run. */
  started(): Omit<StartedCapture, "done"> {
    const proxy = this.#proxy!;
    const qemu = this.#qemu;
    const client = this.#client;
    return {
      dir: this.#dir,
      url: this.#url,
      proxy: { hostname: proxy.hostname, port: proxy.port, tlsPort: proxy.tlsPort },
      qemu: qemu ? { pid: qemu.pid, port: qemu.port } : undefined,
      client: client ? { kind: client.kind, pid: client.pid } : undefined,
    };
  }

  /** Warns when the proxy listens where others can reach it. */
  warnIfExposed(): void {
    const hostname = this.#o.listen.hostname;
    if (isLoopback(hostname)) return;
    this.#warn(
      `warning: listening on ${hostname}, not loopback: anyone who can reach it can ` +
        "use the SPICE server through the proxy",
    );
  }

  /**
   * Starts our own QEMU unless --target, then checks TLS to the server once.
   *
   * @returns the proxy's TLS settings; undefined without --tls-cert
   */
  async startServer(): Promise<ProxyTlsOptions | undefined> {
    const o = this.#o;
    this.#qemuStartMs = performance.now();
    if (o.qemuX509Dir) checkX509Dir(o.qemuX509Dir);
    if (!o.target) {
      this.#qemu = await startOwnQemu(o, this.#dir);
      const at = { qemu: this.#qemu, dir: this.#dir, recording: this.#recording };
      await noteOwnQemu(o, at);
    }
    const tls = tlsOptions(o, this.#qemu);
    if (tls) await checkServerTls(o, tls);
    return tls;
  }

  /**
   * Starts the recording (unless --no-record) and notes what the files scrub and redact. It runs
   * before {@link startServer}, so the session directory is ours before QEMU writes into it.
   */
  async startRecording(): Promise<void> {
    const o = this.#o;
    if (this.#dir === null) return;
    this.#dirExisted = await Deno.lstat(this.#dir).then(() => true, () => false);
    const recording = await createRecording(o, {
      dir: this.#dir,
      target: this.#target,
      log: this.#log,
    });
    this.#recording = recording;
    if (o.ring) this.#stopSnapshots = snapshotOnSigusr1(recording);
    const scrubbed = [
      ...(o.keepTicket ? [] : ["ticket"]),
      ...(!o.target && o.password !== undefined ? ["password"] : []),
    ];
    recording.setFacts({ scrubbed });
    if (Object.keys(o.displayCompression).length > 0) {
      recording.setFacts({ displayCompression: o.displayCompression });
    }
    if (o.redactInputs) recording.setFacts({ redacted: ["inputs"] });
  }

  /** Starts the proxy towards the server and says where clients connect. */
  async startProxy(tls: ProxyTlsOptions | undefined): Promise<void> {
    const o = this.#o;
    const qemu = this.#qemu;
    const target: HostPort = o.target ?? { hostname: "127.0.0.1", port: qemu!.port };
    const onFirstConnection = (atMs: number) => {
      if (!qemu || !this.#recording) return;
      this.#recording.setFacts({
        server: {
          commandLine: redactSecrets(qemu.commandLine),
          firstConnectionDelayMs: Math.round((atMs - this.#qemuStartMs) * 10) / 10,
        },
      });
    };
    let proxy: SpiceProxy;
    try {
      proxy = SpiceProxy.start({
        target,
        listen: o.listen,
        recording: this.#recording,
        tls,
        log: this.#log,
        onFirstConnection,
      });
    } catch (e) {
      throw listenError(e, { o, tls: tls !== undefined });
    }
    this.#proxy = proxy;
    this.#url = `spice://${proxy.hostname}:${proxy.port}` +
      (proxy.tlsPort ? `?tls-port=${proxy.tlsPort}` : "");
    const dir = this.#dir;
    await this.#io.err(
      `spicecap capture: ${this.#target ?? `QEMU pid ${qemu!.pid} on 127.0.0.1:${qemu!.port}`} ` +
        `recorded at ${this.#url}${dir ? ` into ${dir}` : " (not recording)"}\n`,
    );
  }

  /** Starts --client after its delay, unless interrupted meanwhile. */
  async startClient(): Promise<void> {
    const o = this.#o;
    if (o.client === "none") return;
    const delayMs = o.clientDelayMs ?? (this.#qemu ? OWN_QEMU_CLIENT_DELAY_MS : 0);
    if (delayMs > 0) await abortableDelay(delayMs, this.#io.signal);
    if (!this.#io.signal.aborted) this.#client = await this.#runClient(o.client);
  }

  async #runClient(kind: ClientKind): Promise<ClientRun> {
    const o = this.#o;
    const proxy = this.#proxy!;
    const anyAddress = proxy.hostname === "0.0.0.0" || proxy.hostname === "::";
    const client = await runClient(kind, {
      host: anyAddress ? "127.0.0.1" : proxy.hostname,
      port: proxy.port,
      tlsPort: proxy.tlsPort,
      caFile: proxy.tlsPort === undefined ? undefined : o.clientCa ?? serverCaFile(o),
      password: o.password,
      outFile: this.#dir ? `${this.#dir}/screenshot.ppm` : "spicy-screenshot.ppm",
    });
    const shown = client.commandLine.map((a) => a === o.password ? "***" : a).join(" ");
    await this.#io.err(`spicecap capture: started ${shown} (pid ${client.pid})\n`);
    return client;
  }

  /**
   * Waits for the first reason to stop: the signal, --duration, the client's exit (plus a grace
   * for late pings) or our QEMU's exit.
   */
  async waitForStop(): Promise<StoppedBy> {
    const o = this.#o;
    const signal = this.#io.signal;
    const client = this.#client;
    const timers: ReturnType<typeof setTimeout>[] = [];
    let onAbort = () => {};
    const reason = new Promise<StoppedBy>((resolve) => {
      if (signal.aborted) return resolve("signal");
      onAbort = () => resolve("signal");
      signal.addEventListener("abort", onAbort, { once: true });
      if (o.durationMs !== undefined) {
        timers.push(setTimeout(() => resolve("duration"), o.durationMs));
      }
      if (client && o.durationMs === undefined) {
        void client.exited.then(() => {
          timers.push(setTimeout(() => resolve("client-exit"), CLIENT_EXIT_GRACE_MS));
        });
      }
      void this.#qemu?.exited.then(() => resolve("server-exit"));
    });
    try {
      return await reason;
    } finally {
      timers.forEach(clearTimeout);
      signal.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Stops the client, the proxy, the recording and QEMU in that order, then prints the summary.
   *
   * @returns 0 recorded, 1 capture errors or dropped packets
   */
  async finish(stoppedBy: StoppedBy): Promise<number> {
    const dir = this.#dir;
    const client = this.#client;
    const recording = this.#recording;
    const proxy = this.#proxy!;
    // A client that exited by itself is not "stopped by the harness" (its exit code counts).
    if (stoppedBy !== "client-exit") await client?.stop();
    await proxy.close();
    this.#stopSnapshots();
    recording?.setFacts({ stoppedBy });
    // The worker works off what it was handed, then closes the session (it sets recorderErrors).
    const manifest = await recording?.close();
    const stats = await recording?.stats();
    const proxyStats = proxy.stats();
    await this.#qemu?.stop();
    let clientExit: ClientExit | undefined;
    if (client) {
      const exitCode = (await client.exited).code;
      clientExit = { kind: client.kind, exitCode, stoppedByUs: client.stoppedByHarness };
    }
    // The client wrote the screenshot with its umask; session files are private (0600).
    if (dir && client?.kind === "spicy-screenshot") {
      await Deno.chmod(`${dir}/screenshot.ppm`, 0o600).catch(() => {});
    }
    const summary = summarize({
      dir,
      url: this.#url,
      stoppedBy,
      stats,
      manifest,
      proxy: proxyStats,
      client: clientExit,
      otherFiles: dir
        ? await otherSessionFiles(dir, stats?.channels.map((c) => c.file) ?? [])
        : undefined,
    });
    if (this.#o.json) await this.#io.out(JSON.stringify(summary) + "\n");
    await this.#io.err(formatSummary(summary));
    if (client && clientExit && clientExit.exitCode !== 0 && !client.stoppedByHarness) {
      const tail = client.stderrText().trim().split("\n").slice(-3).join(" | ");
      await this.#io.err(`spicecap capture: warning: client output: ${tail}\n`).catch(() => {});
    }
    return summary.errors > 0 || summary.dropped > 0 ? 1 : 0;
  }

  /** On any path, error paths included: leaves nothing running. */
  async cleanup(): Promise<void> {
    this.#stopSnapshots();
    await this.#client?.stop().catch(() => {});
    await this.#proxy?.close().catch(() => {});
    await this.#recording?.close().catch(() => {});
    await this.#qemu?.stop().catch(() => {});
    if (!this.#proxy) await this.#discardSession();
  }

  /**
   * A start that failed before the proxy listened recorded nothing: its session (made first, so
   * that QEMU's serial.log is new in it) goes again, and the directory too unless it existed.
   */
  async #discardSession(): Promise<void> {
    const dir = this.#dir;
    if (!this.#recording || dir === null) return;
    for (const name of ["session.json", "serial.log"]) {
      await Deno.remove(`${dir}/${name}`).catch(() => {});
    }
    if (!this.#dirExisted) await Deno.remove(dir).catch(() => {}); // only when empty
  }
}

/** A capture {@link startCapture} started: where clients connect, what runs, and its end. */
export interface StartedCapture {
  /** Session directory; null with --no-record. */
  dir: string | null;
  /** `spice://host:port` (with `?tls-port=`) where clients connect. */
  url: string;
  /** Where the proxy listens. */
  proxy: { hostname: string; port: number; tlsPort?: number };
  /** Our QEMU, unless --target. */
  qemu?: { pid: number; port: number };
  /** The --client, once started. */
  client?: { kind: ClientKind; pid: number };
  /**
   * The exit status (0 recorded, 1 capture errors) once the capture has stopped: by `io.signal`,
   * --duration, the client's exit or QEMU's. Everything it started is stopped by then, on error
   * paths too.
   */
  done: Promise<number>;
}

/**
 * Starts a capture as `deno task capture` runs it and returns once clients can connect (and
 * --client has started); a start that fails stops what it started and throws.
 *
 * @param o parsed options ({@link parseCaptureArgs})
 * @param io output, and the signal that stops the capture
 * @throws {EnvironmentError} or {UsageError} as the command's exit 2
 */
export async function startCapture(o: CaptureOptions, io: Io): Promise<StartedCapture> {
  requireClientTools(o);
  const capture = new CaptureRun(o, io);
  capture.warnIfExposed();
  try {
    await capture.startRecording();
    const tls = await capture.startServer();
    await capture.startProxy(tls);
    await capture.startClient();
  } catch (e) {
    await capture.cleanup();
    throw e;
  }
  const done = (async () => {
    try {
      return await capture.finish(await capture.waitForStop());
    } finally {
      await capture.cleanup();
    }
  })();
  return { ...capture.started(), done };
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
  return await (await startCapture(o, io)).done;
}
