/** `deno task capture` options: parsing, validation and help text. */
import { parseArgs } from "node:util";
import type { CaptureFormat } from "../../lib/pcap/types.ts";
import { CLIENT_KINDS, type ClientKind } from "../processes/clients.ts";
import { UsageError } from "../errors.ts";
import type { HostPort } from "../capture/proxy.ts";

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
  /** Our QEMU's guest: none (SeaBIOS, blinking cursor) or a static screen. */
  guest: "none" | "static";
  keepTicket: boolean;
  redactInputs: boolean;
  noRecord: boolean;
  /** Bytes relayed and not yet recorded at most; undefined → 64 MiB. */
  maxInFlightBytes?: number;
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

/** Help text, shaped like tshark's. */
export const CAPTURE_HELP = `Usage: deno task capture [options]
Record a SPICE session through a proxy, one capture file per channel; with no --target, start a QEMU to record.

Server:
  --target <host:port>       SPICE server to record (default: start our own QEMU on loopback)
  --password <password>      SPICE password: set on our QEMU, passed to --client
  --channels <default|all>   our QEMU's channels; all adds playback, record and usbredir
                             (default: default)
  --guest <none|static>      our QEMU's guest: none (SeaBIOS, its cursor blinking) or a
                             512-byte boot sector whose screen never changes, so display
                             streams are byte-identical between runs (default: none)
  --qemu-arg=<arg>           append an argument to our QEMU's command line (repeatable)
Proxy:
  --listen <addr:port>       where clients connect (default: 127.0.0.1:0, a free port)
  --no-record                relay only: no capture files, no per-message work
  --record-backlog <MiB>     bytes relayed but not yet recorded, at most (default: 64).
                             Recording runs in a worker thread beside the relay and never
                             slows it: a connection that would pass this backlog stops being
                             recorded from there on (its channel file ends that connection,
                             session.json counts the dropped chunks in the channel's 'dropped'
                             and lists it under 'lossy'), one warning is printed, relaying goes
                             on, and the capture exits 1
TLS (the proxy terminates the client's TLS with its own certificate, opens TLS to the
server, and records the plaintext; it listens on a plain port and a TLS port, relayed to the
server's plain port and TLS port, so SPICE's per-channel choice and NEED_SECURED reconnections
work as without the proxy):
  --tls-cert <file>          certificate (PEM) the proxy presents on its TLS port; its
                             subjectAltName must match the address clients connect to
  --tls-key <file>           private key (PEM) for --tls-cert
  --tls-target <host:port>   the server's TLS port, with --target (default: our QEMU's TLS port)
  --tls-ca <file>            CA (PEM) that signed the server's certificate (default: the
                             system roots; with our QEMU, <x509-dir>/ca-cert.pem). The server
                             certificate must name the --tls-target host (DNS or IP SAN).
                             Checked once at start: a failed handshake exits 2
  --client-ca <file>         CA (PEM) the --client trusts for --tls-cert (default: --tls-ca)
  --qemu-x509-dir <dir>      give our QEMU a TLS port with this x509-dir
                             (ca-cert.pem, server-cert.pem, server-key.pem)
  --qemu-tls-channel <name>  our QEMU's tls-channel=<name>: that channel only over TLS;
                             'default' for every channel not named (repeatable)
  --qemu-plaintext-channel <name>
                             our QEMU's plaintext-channel=<name> (repeatable)
Output:
  -o, --out <dir>            session directory (default: captures/<UTC time>, e.g.
                             captures/20261123T161200Z)
  --format <pcap|pcapng>     channel file format (default: pcap)
  --server-port <port>       synthetic server port in the files (default: 5930;
                             5900 reproduces the original design but Wireshark calls it VNC)
  --keep-ticket              record the 128-byte ticket as sent (default: zeros)
  --redact-inputs            zero key codes and mouse buttons in the record
                             (forwarded bytes are unchanged)
  --json                     print the final summary as JSON on stdout
Client and duration:
  --client <spicy-screenshot|spicy|remote-viewer|none>
                             start this client against the proxy (default: none)
  --client-delay <seconds>   wait before starting the client (default: 0.5 after our own
                             QEMU starts, so the guest has drawn its first screen; 0 with --target)
  --duration <seconds>       stop after this long (default: when the client exits,
                             plus 1 s for late pings, or on Ctrl-C)
  -h, --help                 show this help

Exit status: 0 recorded, 1 capture errors (dropped packets, file or framing errors,
failed TLS handshakes: reported as they happen, the capture goes on), 2 bad usage or
environment (QEMU or client missing, port in use, directory not writable, TLS to the server
failing at start)

Examples:
  deno task capture --client spicy-screenshot
  deno task capture --target 192.168.1.20:5930 --format pcapng --duration 60
  deno task capture --qemu-x509-dir pki --qemu-tls-channel main \
      --tls-cert proxy-cert.pem --tls-key proxy-key.pem --client spicy
  deno task capture --target 10.0.0.5:5900 --tls-target 10.0.0.5:5901 --tls-ca ca-cert.pem \
      --tls-cert proxy-cert.pem --tls-key proxy-key.pem
`;

const FORMATS: readonly CaptureFormat[] = ["pcap", "pcapng"];

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

/**
 * Parses `host:port` (IPv6 in brackets).
 *
 * @param flag option name for errors
 * @param text the value
 * @param allowZero whether port 0 (a free port) is allowed
 */
export function parseHostPort(flag: string, text: string, allowZero = false): HostPort {
  const m = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535 || (!allowZero && port === 0)) {
    throw new UsageError(`${flag}: expected HOST:PORT with a port 1-65535, got '${text}'`);
  }
  return { hostname: m[1] ?? m[2], port };
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`${flag}: expected one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value as T;
}

/**
 * Parses and validates `capture`'s arguments.
 *
 * @param args arguments after `capture`
 * @returns the options
 * @throws {UsageError} on an unknown flag or a bad value
 */
export function parseCaptureArgs(args: string[]): CaptureOptions {
  let v;
  try {
    v = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        target: { type: "string" },
        listen: { type: "string" },
        out: { type: "string", short: "o" },
        format: { type: "string", default: "pcap" },
        client: { type: "string", default: "none" },
        duration: { type: "string" },
        "client-delay": { type: "string" },
        password: { type: "string" },
        "qemu-arg": { type: "string", multiple: true, default: [] },
        channels: { type: "string", default: "default" },
        guest: { type: "string", default: "none" },
        "keep-ticket": { type: "boolean", default: false },
        "redact-inputs": { type: "boolean", default: false },
        "no-record": { type: "boolean", default: false },
        "record-backlog": { type: "string" },
        "server-port": { type: "string", default: "5930" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca": { type: "string" },
        "tls-target": { type: "string" },
        "client-ca": { type: "string" },
        "qemu-x509-dir": { type: "string" },
        "qemu-tls-channel": { type: "string", multiple: true, default: [] },
        "qemu-plaintext-channel": { type: "string", multiple: true, default: [] },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
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
  let maxInFlightBytes: number | undefined;
  if (v["record-backlog"] !== undefined) {
    const mib = Number(v["record-backlog"]);
    if (!Number.isFinite(mib) || mib <= 0 || mib > 65536) {
      throw new UsageError(
        `--record-backlog: expected a number of MiB, more than 0 and at most 65536, got '${
          v["record-backlog"]
        }'`,
      );
    }
    if (v["no-record"]) throw new UsageError("--record-backlog cannot go with --no-record");
    maxInFlightBytes = Math.round(mib * (1 << 20));
  }
  const serverPort = Number(v["server-port"]);
  if (!Number.isInteger(serverPort) || serverPort < 1 || serverPort > 65535) {
    throw new UsageError(`--server-port: expected a port 1-65535, got '${v["server-port"]}'`);
  }
  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (v.target !== undefined) {
    const ownQemu = {
      channels: v.channels !== "default",
      guest: v.guest !== "none",
      "qemu-x509-dir": v["qemu-x509-dir"] !== undefined,
      "qemu-arg": v["qemu-arg"].length > 0,
      "qemu-tls-channel": v["qemu-tls-channel"].length > 0,
      "qemu-plaintext-channel": v["qemu-plaintext-channel"].length > 0,
    };
    for (const [f, given] of Object.entries(ownQemu)) {
      if (given) throw new UsageError(`--${f} configures our own QEMU; it cannot go with --target`);
    }
  }
  const tlsTarget = v["tls-target"] === undefined
    ? undefined
    : parseHostPort("--tls-target", v["tls-target"]);
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
    for (const name of v[f]) oneOf(`--${f}`, name, QEMU_CHANNEL_NAMES);
  }
  return {
    help: v.help,
    target: v.target === undefined ? undefined : parseHostPort("--target", v.target),
    listen: v.listen === undefined
      ? { hostname: "127.0.0.1", port: 0 }
      : parseHostPort("--listen", v.listen, true),
    out: v.out,
    format: oneOf("--format", v.format, FORMATS),
    client: oneOf("--client", v.client, [...CLIENT_KINDS, "none" as const]),
    durationMs,
    clientDelayMs,
    password: v.password,
    qemuArgs: v["qemu-arg"],
    channels: oneOf("--channels", v.channels, ["default", "all"] as const),
    guest: oneOf("--guest", v.guest, ["none", "static"] as const),
    keepTicket: v["keep-ticket"],
    redactInputs: v["redact-inputs"],
    noRecord: v["no-record"],
    maxInFlightBytes,
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
