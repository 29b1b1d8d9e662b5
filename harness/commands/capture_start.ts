/**
 * Starting a capture's parts with the errors `capture` reports when they cannot start: the
 * recording worker and its session directory, our own QEMU, the proxy's listeners, the client's
 * tools.
 */
import { EnvironmentError } from "../errors.ts";
import { outputDirRefusal } from "../output_dir.ts";
import { Recording } from "../capture/recording.ts";
import { type QemuServer, redactSecrets, startQemu } from "../processes/qemu.ts";
import { sessionSerialLog } from "../processes/linux_guest.ts";
import { pinQemuFiles } from "../replay/environment.ts";
import { requireTool } from "../processes/tools.ts";
import type { CaptureOptions } from "./capture_args.ts";

/** Where the warnings of the proxy and the recording go. */
export type Log = (level: "info" | "warn", message: string) => void;

/** Options of {@link createRecording}. */
export interface CreateRecordingOptions {
  /** Session directory. */
  dir: string;
  /** host:port captured (--target), for the manifest; null for our own QEMU. */
  target: string | null;
  /** Where warnings and snapshot notes go. */
  log: Log;
}

/** Starts the recording worker and its session (recorder options from the command line). */
export async function createRecording(
  o: CaptureOptions,
  { dir, target, log }: CreateRecordingOptions,
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
      recordAll: o.recordAll,
      ring: o.ring,
      onSnapshot: (d, reason) => log("info", `snapshot (${reason}): ${d}`),
      log,
      onRecorderError: (message) => log("warn", message),
    });
  } catch (e) {
    // prepareOutputDir's refusals (in the recording worker) name the directory and its fault
    const refusal = outputDirRefusal(e, "--out");
    if (refusal) throw refusal;
    const why = e instanceof Error ? e.message : String(e);
    throw new EnvironmentError(`output directory ${dir} is not writable: ${why}`);
  }
}

/** Rewords the proxy's listen failures as environment errors naming the flags to change. */
export function listenError(e: unknown, { o, tls }: { o: CaptureOptions; tls: boolean }): unknown {
  if (e instanceof Deno.errors.AddrInUse) {
    return new EnvironmentError(
      `cannot listen on ${o.listen.hostname}:${o.listen.port}: port in use; choose another --listen`,
    );
  }
  if (e instanceof Deno.errors.AddrNotAvailable || e instanceof Deno.errors.PermissionDenied) {
    return new EnvironmentError(
      `cannot listen on ${o.listen.hostname}:${o.listen.port}: ${(e as Error).message}`,
    );
  }
  if (tls) {
    // Deno.listenTls rejects a certificate or key it cannot parse.
    return new EnvironmentError(
      `cannot listen for TLS with --tls-cert ${o.tlsCert} and --tls-key ${o.tlsKey}: ${
        (e as Error).message
      }`,
    );
  }
  return e;
}

/** Fails early when the client (or xvfb-run for a windowed one) is missing. */
export function requireClientTools(o: CaptureOptions): void {
  if (o.client !== "none") requireTool(o.client);
  if (o.client === "spicy" || o.client === "remote-viewer") {
    if (!Deno.env.get("DISPLAY")) requireTool("xvfb-run");
  }
}

/** Starts our own QEMU for the capture (no --target), its serial log in the session directory. */
export async function startOwnQemu(o: CaptureOptions, dir: string | null): Promise<QemuServer> {
  return await startQemu({
    password: o.password,
    extraArgs: o.qemuArgs,
    channels: o.channels,
    guest: o.guest,
    displayCompression: o.displayCompression,
    // the session directory exists already (startRecording runs first): the log is new in it
    serialLog: o.guest.startsWith("linux") && dir ? await sessionSerialLog(dir) : undefined,
    tls: o.qemuX509Dir
      ? {
        x509Dir: o.qemuX509Dir,
        tlsChannels: o.qemuTlsChannels,
        plaintextChannels: o.qemuPlaintextChannels,
      }
      : undefined,
  });
}

/** Notes our QEMU's command line and the files it reads (`--bundle`: copied) in the manifest. */
export async function noteOwnQemu(
  o: CaptureOptions,
  at: { qemu: QemuServer; dir: string | null; recording?: Recording },
): Promise<void> {
  at.recording?.setFacts({ server: { commandLine: redactSecrets(at.qemu.commandLine) } });
  if (at.recording && at.dir !== null) {
    at.recording.setFacts({
      qemuFiles: await pinQemuFiles(at.qemu.commandLine, {
        bundleDir: o.bundle ? at.dir : undefined,
      }),
    });
  }
}
