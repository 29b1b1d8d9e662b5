/** The session manifest, `session.json` (contract: ARCHITECTURE.md "Session directory"). */
import type { CaptureFormat, TsResolution } from "../pcap/types.ts";

/** Name of the manifest file in a session directory. */
export const MANIFEST_FILE = "session.json";
/** Value of the manifest's `format` field. */
export const MANIFEST_FORMAT = "spicecap-session";
/** Schema version this code writes and the newest it reads. */
export const MANIFEST_VERSION = 1;

/** One TCP connection of a channel. */
export interface ManifestConnection {
  /** Synthetic client TCP port this connection was given in the channel file. */
  clientPort: number;
  /** Open time, ns since the epoch, as a decimal string. */
  openedNs: string;
  /** Close time, ns since the epoch, as a decimal string; absent while still open. */
  closedNs?: string;
}

/** One channel (type, id) of the session: its file and what it holds. */
export interface ManifestChannel {
  /** SPICE channel type number (main = 1, display = 2, …). */
  type: number;
  /** Channel type name from the tables, e.g. "display". */
  typeName: string;
  /** SPICE channel id (0 for the first channel of a type). */
  id: number;
  /** Channel file name inside the session directory, no path (e.g. "display-1.pcap"). */
  file: string;
  /** Client port of the first connection. */
  clientPort: number;
  /** Synthetic server TCP port in the channel file. */
  serverPort: number;
  /** Every TCP connection of this channel, in open order. */
  connections: ManifestConnection[];
  /** Frames with payload written: `sent` client → server, `received` server → client. */
  packets: { sent: number; received: number };
  /** Payload bytes written: `sent` client → server, `received` server → client. */
  bytes: { sent: number; received: number };
  /** Packets dropped because the queue was full or the file failed. */
  dropped: number;
  /** Write errors on this channel's file. */
  errors: number;
}

/** How the server was run, when spicecap started it. */
export interface ServerInfo {
  /** QEMU argv. */
  commandLine: string[];
  /** Delay from server start to the first client connection, ms. */
  firstConnectionDelayMs?: number;
}

/** Contents of `session.json`. */
export interface Manifest {
  /** Always {@link MANIFEST_FORMAT}; readers reject anything else. */
  format: typeof MANIFEST_FORMAT;
  /** Schema version; readers reject one newer than {@link MANIFEST_VERSION}. */
  version: number;
  /** Program that wrote the session and its version. */
  tool: { name: string; version: string };
  /** ISO time of the session start. */
  started: string;
  /** ISO time of close, absent while capturing. */
  stopped?: string;
  /** False while capturing (or when the capture was killed): counts may trail the files. */
  complete: boolean;
  /** host:port captured, or null. */
  target: string | null;
  /** How the server was run when spicecap started it; null when it was already running. */
  server: ServerInfo | null;
  /** Timestamp resolution of the channel files. */
  tsResolution: TsResolution;
  /** File format of the channel files. */
  captureFormat: CaptureFormat;
  /** Synthetic server TCP port used in every channel file. */
  serverPort: number;
  /** True when timestamps count from the session start instead of the epoch. */
  relativeTime: boolean;
  /** One entry per (type, id) channel recorded. */
  channels: ManifestChannel[];
  /** Connections of channel types outside the table: not recorded. */
  skipped: { type: number; connections: number }[];
  /** Sum of channel drops. */
  dropped: number;
  /** Sink errors, one line each. */
  errors: string[];
  /** Extra facts set by the recorder: sessionId, scrubbed, stoppedBy, redacted, … */
  [extra: string]: unknown;
}

/** A manifest that this version cannot use; the message names the file and the problem. */
export class ManifestError extends Error {
  /** Always "ManifestError". */
  override name = "ManifestError";
  /** Path of the manifest file that was rejected. */
  readonly file: string;
  /**
   * Builds the error; the message is `<file>: <problem>`.
   *
   * @param file path of the manifest, put at the start of the message
   * @param problem what is wrong with it
   */
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`);
    this.file = file;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Validates parsed JSON as a manifest.
 *
 * @param value parsed `session.json`
 * @param file name used in errors
 * @returns the manifest
 * @throws {ManifestError} on an unknown format, a newer version or a malformed channel list
 */
export function validateManifest(value: unknown, file: string): Manifest {
  if (!isObject(value)) throw new ManifestError(file, "expected a JSON object");
  if (value.format !== MANIFEST_FORMAT) {
    throw new ManifestError(
      file,
      `unknown format ${JSON.stringify(value.format)}, expected "${MANIFEST_FORMAT}"`,
    );
  }
  if (typeof value.version !== "number" || !Number.isInteger(value.version)) {
    throw new ManifestError(file, "expected an integer 'version'");
  }
  if (value.version > MANIFEST_VERSION) {
    throw new ManifestError(
      file,
      `version ${value.version} is newer than this spicecap reads (${MANIFEST_VERSION}); upgrade spicecap`,
    );
  }
  if (!Array.isArray(value.channels)) throw new ManifestError(file, "expected a 'channels' list");
  value.channels.forEach((c, i) => {
    const ok = isObject(c) && typeof c.type === "number" && typeof c.id === "number" &&
      typeof c.file === "string" && !c.file.includes("/") && isObject(c.packets) &&
      isObject(c.bytes);
    if (!ok) {
      throw new ManifestError(
        file,
        `channels[${i}]: expected type, id, file (a bare name), packets and bytes`,
      );
    }
  });
  return value as unknown as Manifest;
}

/**
 * Reads and validates `<dir>/session.json`.
 *
 * @param dir session directory
 * @returns the manifest
 * @throws {ManifestError} when it is not valid JSON or not a manifest this version reads
 */
export async function readManifest(dir: string): Promise<Manifest> {
  const file = `${dir}/${MANIFEST_FILE}`;
  const text = await Deno.readTextFile(file);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(file, `not valid JSON: ${(e as SyntaxError).message}`);
  }
  return validateManifest(value, file);
}

/**
 * Writes `<dir>/session.json` atomically (a temporary file renamed over it), mode 0600, so a
 * reader never sees half a manifest.
 *
 * @param dir session directory
 * @param manifest what to write
 */
export async function writeManifest(dir: string, manifest: Manifest): Promise<void> {
  const path = `${dir}/${MANIFEST_FILE}`;
  await Deno.writeTextFile(`${path}.tmp`, JSON.stringify(manifest, null, 2) + "\n", {
    mode: 0o600,
  });
  await Deno.rename(`${path}.tmp`, path);
}
