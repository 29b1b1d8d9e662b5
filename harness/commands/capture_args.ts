/** `deno task capture` options: parsing and validation (the help text is in capture_help.ts). */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import type { CaptureFormat } from "../../lib/pcap/types.ts";
import { CLIENT_KINDS, type ClientKind } from "../processes/clients.ts";
import { UsageError } from "../errors.ts";
import type { HostPort } from "../capture/proxy.ts";
import {
  type DisplayCompression,
  IMAGE_COMPRESSIONS,
  STREAMING_VIDEO_MODES,
  WAN_COMPRESSIONS,
} from "../../lib/capture/manifest_types.ts";
import { parseRingFlags } from "./ring_args.ts";
import type { RingModeOptions } from "../capture/worker_protocol.ts";

export { CAPTURE_HELP } from "./capture_help.ts";

/** Parsed and validated `capture` options. */
export interface CaptureOptions {
  help: boolean;
  /** Server to record; undefined → start our own QEMU. */
  target?: HostPort;
  listen: HostPort;
  /** Output directory; undefined → captures/<UTC timestamp>. */
  out?: string;
  format: CaptureFormat;
  client: ClientKind | "none";
  /** Stop after this long; undefined → on client exit or signal. */
  durationMs?: number;
  /** Wait before starting --client; undefined → 500 ms after our own QEMU, 0 with --target. */
  clientDelayMs?: number;
  password?: string;
  qemuArgs: string[];
  channels: "default" | "all";
  /**
   * Our QEMU's guest: none (SeaBIOS, blinking cursor), a static screen, or the Linux guest (in
   * text mode, or on a framebuffer with its picture commands).
   */
  guest: "none" | "static" | "linux" | "linux-fb";
  /** Our QEMU's display compression settings (`--image-compression`, …); {} when none given. */
  displayCompression: DisplayCompression;
  keepTicket: boolean;
  redactInputs: boolean;
  noRecord: boolean;
  /** Copy the files our QEMU reads (kernel, initrd, disks) into the session's bundle/. */
  bundle: boolean;
  /** Bytes relayed and not yet recorded at most; undefined → 64 MiB. */
  maxInFlightBytes?: number;
  /** `--record-all`: a full backlog holds the relay instead of turning the connection lossy. */
  recordAll: boolean;
  /** `--ring` / `--snapshot-on`: the flight recorder; undefined → record to files. */
  ring?: RingModeOptions;
  serverPort: number;
  tlsCert?: string;
  tlsKey?: string;
  /** CA for the server's certificate; with our own QEMU defaults to `<x509-dir>/ca-cert.pem`. */
  tlsCa?: string;
  tlsTarget?: HostPort;
  /** CA file the --client trusts for the proxy's certificate; undefined → `tlsCa`. */
  clientCa?: string;
  qemuX509Dir?: string;
  /** Our QEMU's `tls-channel=` values (channel names or `default`). */
  qemuTlsChannels: string[];
  /** Our QEMU's `plaintext-channel=` values. */
  qemuPlaintextChannels: string[];
  json: boolean;
}

const FORMATS: readonly CaptureFormat[] = ["pcap", "pcapng"];
const GUESTS = ["none", "static", "linux", "linux-fb"] as const;

/** Channel names spice-server accepts in tls-channel= / plaintext-channel=, plus QEMU's default. */
const QEMU_CHANNEL_NAMES: readonly string[] = Object.freeze([
  "default",
  "main",
  "display",
  "inputs",
  "cursor",
  "playback",
  "record",
  "smartcard",
  "usbredir",
  "port",
  "webdav",
]);

/** Options of {@link parseHostPort}. */
export interface ParseHostPortOptions {
  /** Option name for errors (`--target`). */
  flag: string;
  /** Whether port 0 (a free port) is allowed. @default false */
  allowZero?: boolean;
}

/**
 * Parses `host:port` (IPv6 in brackets).
 *
 * @param text the value
 * @param options the option's name, whether port 0 is allowed
 * @throws {UsageError} when it is not HOST:PORT with a port in range
 */
export function parseHostPort(text: string, options: ParseHostPortOptions): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (!options.allowZero && port === 0)) {
    throw new UsageError(
      `${options.flag}: expected HOST:PORT with a port 1-65535, got '${text}'`,
    );
  }
  return { hostname: m[1] ?? m[2], port };
}

/** Checks that `value`, given to `flag`, is one of `allowed`. */
function oneOf<T extends string>(
  value: string,
  choice: { flag: string; allowed: readonly T[] },
): T {
  if (!(choice.allowed as readonly string[]).includes(value)) {
    throw new UsageError(
      `${choice.flag}: expected one of ${choice.allowed.join(", ")}, got '${value}'`,
    );
  }
  return value as T;
}

/** `capture`'s flags, as `node:util` parseArgs takes them. */
const CAPTURE_FLAGS = {
  target: { type: "string" },
  listen: { type: "string" },
  out: { type: "string", short: "o" },
  format: { type: "string", default: "pcap" },
  client: { type: "string", default: "none" },
  duration: { type: "string" },
  "client-delay": { type: "string" },
  password: { type: "string" },
  "qemu-arg": { type: "string", multiple: true, default: [] as string[] },
  channels: { type: "string", default: "default" },
  guest: { type: "string", default: "none" },
  "image-compression": { type: "string" },
  "jpeg-wan": { type: "string" },
  "zlib-glz-wan": { type: "string" },
  "streaming-video": { type: "string" },
  "keep-ticket": { type: "boolean", default: false },
  "redact-inputs": { type: "boolean", default: false },
  "no-record": { type: "boolean", default: false },
  bundle: { type: "boolean", default: false },
  "record-backlog": { type: "string" },
  "record-all": { type: "boolean", default: false },
  ring: { type: "string" },
  "snapshot-on": { type: "string", multiple: true, default: [] as string[] },
  "server-port": { type: "string", default: "5930" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  "tls-target": { type: "string" },
  "client-ca": { type: "string" },
  "qemu-x509-dir": { type: "string" },
  "qemu-tls-channel": { type: "string", multiple: true, default: [] as string[] },
  "qemu-plaintext-channel": { type: "string", multiple: true, default: [] as string[] },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} satisfies ParseArgsOptionsConfig;

/** The flags' raw values. */
type CaptureFlags = ReturnType<typeof readFlags>;

/** Reads the flags without checking their values; unknown flags are a {@link UsageError}. */
function readFlags(args: string[]) {
  try {
    return parseArgs({ args, strict: true, allowPositionals: false, options: CAPTURE_FLAGS })
      .values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
}

/** `--duration` and `--client-delay` in milliseconds. */
function parseTimes(v: CaptureFlags): { durationMs?: number; clientDelayMs?: number } {
  let durationMs: number | undefined;
  if (v.duration !== undefined) {
    const s = Number(v.duration);
    if (!Number.isFinite(s) || s <= 0) {
      throw new UsageError(
        `--duration: expected a positive number of seconds, got '${v.duration}'`,
      );
    }
    durationMs = s * 1000;
  }
  let clientDelayMs: number | undefined;
  if (v["client-delay"] !== undefined) {
    const s = Number(v["client-delay"]);
    if (!Number.isFinite(s) || s < 0) {
      throw new UsageError(
        `--client-delay: expected a number of seconds ≥ 0, got '${v["client-delay"]}'`,
      );
    }
    clientDelayMs = s * 1000;
  }
  return { durationMs, clientDelayMs };
}

/** `--record-backlog` in bytes; undefined when not given. */
function parseRecordBacklog(v: CaptureFlags): number | undefined {
  if (v["record-backlog"] === undefined) return undefined;
  const mib = Number(v["record-backlog"]);
  if (!Number.isFinite(mib) || mib <= 0 || mib > 65536) {
    throw new UsageError(
      `--record-backlog: expected a number of MiB, more than 0 and at most 65536, got '${
        v["record-backlog"]
      }'`,
    );
  }
  if (v["no-record"]) throw new UsageError("--record-backlog cannot go with --no-record");
  return Math.round(mib * (1 << 20));
}

/** `--record-all`, refused with `--no-record`. */
function parseRecordAll(v: CaptureFlags): boolean {
  if (v["record-all"] && v["no-record"]) {
    throw new UsageError("--record-all cannot go with --no-record");
  }
  return v["record-all"];
}

/** `--server-port`. */
function parseServerPort(v: CaptureFlags): number {
  const serverPort = Number(v["server-port"]);
  if (!Number.isInteger(serverPort) || serverPort < 1 || serverPort > 65535) {
    throw new UsageError(`--server-port: expected a port 1-65535, got '${v["server-port"]}'`);
  }
  return serverPort;
}

/** Refuses the flags that configure our own QEMU when --target names another server. */
function checkOwnQemuFlags(v: CaptureFlags): void {
  if (v.target === undefined) return;
  const ownQemu = {
    channels: v.channels !== "default",
    guest: v.guest !== "none",
    "qemu-x509-dir": v["qemu-x509-dir"] !== undefined,
    "qemu-arg": v["qemu-arg"].length > 0,
    "image-compression": v["image-compression"] !== undefined,
    "jpeg-wan": v["jpeg-wan"] !== undefined,
    "zlib-glz-wan": v["zlib-glz-wan"] !== undefined,
    "streaming-video": v["streaming-video"] !== undefined,
    "qemu-tls-channel": v["qemu-tls-channel"].length > 0,
    "qemu-plaintext-channel": v["qemu-plaintext-channel"].length > 0,
  };
  for (const [f, given] of Object.entries(ownQemu)) {
    if (given) throw new UsageError(`--${f} configures our own QEMU; it cannot go with --target`);
  }
}

/** `--image-compression`, `--jpeg-wan`, `--zlib-glz-wan`, `--streaming-video`: the ones given. */
function parseDisplayCompression(v: CaptureFlags): DisplayCompression {
  type Flag = "image-compression" | "jpeg-wan" | "zlib-glz-wan" | "streaming-video";
  const pick = <T extends string>(flag: Flag, allowed: readonly T[]): T | undefined => {
    const value = v[flag];
    return value === undefined ? undefined : oneOf(value, { flag: `--${flag}`, allowed });
  };
  const out: DisplayCompression = {
    imageCompression: pick("image-compression", IMAGE_COMPRESSIONS),
    jpegWan: pick("jpeg-wan", WAN_COMPRESSIONS),
    zlibGlzWan: pick("zlib-glz-wan", WAN_COMPRESSIONS),
    streamingVideo: pick("streaming-video", STREAMING_VIDEO_MODES),
  };
  for (const key of Object.keys(out) as (keyof DisplayCompression)[]) {
    if (out[key] === undefined) delete out[key];
  }
  return out;
}

/** Checks that the TLS flags go together; returns `--tls-target`. */
function parseTlsFlags(v: CaptureFlags): HostPort | undefined {
  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  checkOwnQemuFlags(v);
  const tlsTarget = v["tls-target"] === undefined
    ? undefined
    : parseHostPort(v["tls-target"], { flag: "--tls-target" });
  if (tlsTarget && v.target === undefined) {
    throw new UsageError(
      "--tls-target is the TLS port of --target; for our own QEMU use --qemu-x509-dir",
    );
  }
  if (v["tls-cert"] !== undefined && !tlsTarget && v["qemu-x509-dir"] === undefined) {
    throw new UsageError("--tls-cert needs the server's TLS port: --tls-target or --qemu-x509-dir");
  }
  for (const f of ["tls-ca", "client-ca", "tls-target"] as const) {
    if (v[f] !== undefined && v["tls-cert"] === undefined) {
      throw new UsageError(`--${f} needs the proxy's TLS port: add --tls-cert and --tls-key`);
    }
  }
  for (const f of ["qemu-tls-channel", "qemu-plaintext-channel"] as const) {
    if (v[f].length > 0 && v["qemu-x509-dir"] === undefined) {
      throw new UsageError(`--${f} needs our QEMU's TLS port: add --qemu-x509-dir`);
    }
    for (const name of v[f]) oneOf(name, { flag: `--${f}`, allowed: QEMU_CHANNEL_NAMES });
  }
  return tlsTarget;
}

/**
 * Parses and validates `capture`'s arguments.
 *
 * @param args arguments after `capture`
 * @returns the options
 * @throws {UsageError} on an unknown flag or a bad value
 */
export function parseCaptureArgs(args: string[]): CaptureOptions {
  const v = readFlags(args);
  const { durationMs, clientDelayMs } = parseTimes(v);
  const maxInFlightBytes = parseRecordBacklog(v);
  const serverPort = parseServerPort(v);
  const tlsTarget = parseTlsFlags(v);
  return {
    help: v.help,
    target: v.target === undefined ? undefined : parseHostPort(v.target, { flag: "--target" }),
    listen: v.listen === undefined
      ? { hostname: "127.0.0.1", port: 0 }
      : parseHostPort(v.listen, { flag: "--listen", allowZero: true }),
    out: v.out,
    format: oneOf(v.format, { flag: "--format", allowed: FORMATS }),
    client: oneOf(v.client, { flag: "--client", allowed: [...CLIENT_KINDS, "none" as const] }),
    durationMs,
    clientDelayMs,
    password: v.password,
    qemuArgs: v["qemu-arg"],
    channels: oneOf(v.channels, { flag: "--channels", allowed: ["default", "all"] as const }),
    guest: oneOf(v.guest, { flag: "--guest", allowed: GUESTS }),
    displayCompression: parseDisplayCompression(v),
    keepTicket: v["keep-ticket"],
    redactInputs: v["redact-inputs"],
    noRecord: v["no-record"],
    bundle: v.bundle,
    maxInFlightBytes,
    recordAll: parseRecordAll(v),
    ring: parseRingFlags({ ring: v.ring, snapshotOn: v["snapshot-on"], noRecord: v["no-record"] }),
    serverPort,
    tlsCert: v["tls-cert"],
    tlsKey: v["tls-key"],
    tlsCa: v["tls-ca"],
    tlsTarget,
    clientCa: v["client-ca"],
    qemuX509Dir: v["qemu-x509-dir"],
    qemuTlsChannels: v["qemu-tls-channel"],
    qemuPlaintextChannels: v["qemu-plaintext-channel"],
    json: v.json,
  };
}

/**
 * Default session directory name: `captures/<UTC time>` like `captures/20261123T161200Z`.
 *
 * @param now the time to name
 */
export function defaultOutDir(now: Date): string {
  const iso = now.toISOString(); // 2026-11-23T16:12:00.123Z
  return `captures/${iso.slice(0, 19).replaceAll("-", "").replaceAll(":", "")}Z`;
}

/** Whether a listen address only accepts local connections. */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || hostname.startsWith("127.");
}
