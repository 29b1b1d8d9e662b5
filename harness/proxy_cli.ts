/** `deno task capture` options: parsing, validation and help text. */
import { parseArgs } from "node:util";
import type { CaptureFormat } from "../lib/pcap/types.ts";
import { CLIENT_KINDS, type ClientKind } from "./clients.ts";
import { UsageError } from "./errors.ts";
import type { HostPort } from "./proxy.ts";

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
  keepTicket: boolean;
  redactInputs: boolean;
  noRecord: boolean;
  serverPort: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsTarget?: HostPort;
  qemuX509Dir?: string;
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
  --qemu-arg=<arg>           append an argument to our QEMU's command line (repeatable)
Proxy:
  --listen <addr:port>       where clients connect (default: 127.0.0.1:0, a free port)
  --no-record                relay only: no capture files, no per-message work
TLS (the proxy terminates TLS for the client and originates TLS to the server):
  --tls-cert <file>          certificate (PEM) the proxy presents on its TLS port
  --tls-key <file>           private key (PEM) for --tls-cert
  --tls-target <host:port>   the server's TLS port (default: our QEMU's TLS port)
  --tls-ca <file>            CA (PEM) that signed the server's certificate
  --qemu-x509-dir <dir>      give our QEMU a TLS port with this x509-dir
                             (ca-cert.pem, server-cert.pem, server-key.pem)
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

Exit status: 0 recorded, 1 capture errors (dropped packets, file or framing errors),
2 bad usage or environment (QEMU or client missing, port in use, directory not writable)

Examples:
  deno task capture --client spicy-screenshot
  deno task capture --target 192.168.1.20:5930 --format pcapng --duration 60
`;

const FORMATS: readonly CaptureFormat[] = ["pcap", "pcapng"];

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
        "keep-ticket": { type: "boolean", default: false },
        "redact-inputs": { type: "boolean", default: false },
        "no-record": { type: "boolean", default: false },
        "server-port": { type: "string", default: "5930" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-ca": { type: "string" },
        "tls-target": { type: "string" },
        "qemu-x509-dir": { type: "string" },
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
  const serverPort = Number(v["server-port"]);
  if (!Number.isInteger(serverPort) || serverPort < 1 || serverPort > 65535) {
    throw new UsageError(`--server-port: expected a port 1-65535, got '${v["server-port"]}'`);
  }
  if ((v["tls-cert"] === undefined) !== (v["tls-key"] === undefined)) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  if (v.target !== undefined) {
    for (const f of ["channels", "qemu-x509-dir"] as const) {
      const given = f === "channels" ? v.channels !== "default" : v[f] !== undefined;
      if (given) throw new UsageError(`--${f} configures our own QEMU; it cannot go with --target`);
    }
    if (v["qemu-arg"].length > 0) {
      throw new UsageError("--qemu-arg configures our own QEMU; it cannot go with --target");
    }
  }
  const tlsTarget = v["tls-target"] === undefined
    ? undefined
    : parseHostPort("--tls-target", v["tls-target"]);
  if (v["tls-cert"] !== undefined && !tlsTarget && v["qemu-x509-dir"] === undefined) {
    throw new UsageError("--tls-cert needs the server's TLS port: --tls-target or --qemu-x509-dir");
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
    keepTicket: v["keep-ticket"],
    redactInputs: v["redact-inputs"],
    noRecord: v["no-record"],
    serverPort,
    tlsCert: v["tls-cert"],
    tlsKey: v["tls-key"],
    tlsCa: v["tls-ca"],
    tlsTarget,
    qemuX509Dir: v["qemu-x509-dir"],
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
