/**
 * Invariants of a session directory's `session.json`, over plain values: the parsed JSON, the
 * directory listing, and the counts observed in each channel file.
 */
import { MANIFEST_FORMAT, MANIFEST_VERSION } from "../capture/manifest.ts";
import type { Finding } from "./findings.ts";

/** What a channel file holds, counted the way the recorder counts (data-carrying segments). */
export interface ObservedChannel {
  /** Segments with payload: `sent` client → server, `received` server → client. */
  packets: { sent: number; received: number };
  /** Payload bytes: `sent` client → server, `received` server → client. */
  bytes: { sent: number; received: number };
  /** Client ports of the file's connections, in order of their first packet. */
  clientPorts: number[];
  /** Server ports seen. */
  serverPorts: number[];
}

/** The manifest fields the checks read; see lib/capture/manifest.ts for the whole contract. */
export interface ManifestChannelLike {
  /** SPICE channel type number. */
  type: number;
  /** SPICE channel id. */
  id: number;
  /** Channel file name inside the session directory; also the `file` of findings. */
  file: string;
  /** Client port of the first connection; compared only when `connections` is absent. */
  clientPort?: number;
  /** Server port every connection of the file must use; not compared when absent. */
  serverPort?: number;
  /** Client port of each connection, in open order. */
  connections?: { clientPort: number }[];
  /** Recorded payload-carrying packets per direction (`sent` = client → server). */
  packets: { sent: number; received: number };
  /** Recorded payload bytes per direction (`sent` = client → server). */
  bytes: { sent: number; received: number };
}

const CAPTURE_FILE = /\.(pcap|pcapng)$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

type FieldCheck = (v: unknown) => boolean;
const isString: FieldCheck = (v) => typeof v === "string";
const isInt: FieldCheck = (v) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isCounts: FieldCheck = (v) => isObject(v) && isInt(v.sent) && isInt(v.received);

/** Top-level fields and how to check them (ARCHITECTURE.md "Session directory"). */
const TOP_FIELDS: ReadonlyArray<readonly [string, FieldCheck, string]> = Object.freeze(
  [
    [
      "tool",
      (v: unknown) => isObject(v) && isString(v.name) && isString(v.version),
      "{name, version}",
    ],
    [
      "started",
      (v: unknown) => isString(v) && !Number.isNaN(Date.parse(v as string)),
      "an ISO time",
    ],
    ["target", (v: unknown) => v === null || isString(v), "host:port or null"],
    ["tsResolution", (v: unknown) => v === "us" || v === "ns", `"us" or "ns"`],
    ["channels", Array.isArray, "a list"],
  ] as const,
);

/** Channel fields and how to check them. */
const CHANNEL_FIELDS: ReadonlyArray<readonly [string, FieldCheck, string]> = Object.freeze(
  [
    ["type", isInt, "an integer"],
    ["typeName", isString, "a string"],
    ["id", isInt, "an integer"],
    ["file", (v: unknown) => isString(v) && !(v as string).includes("/"), "a bare file name"],
    ["clientPort", isInt, "an integer"],
    ["serverPort", isInt, "an integer"],
    [
      "connections",
      (v: unknown) => Array.isArray(v) && v.every((c) => isObject(c) && isInt(c.clientPort)),
      "a list of {clientPort, openedNs}",
    ],
    ["packets", isCounts, "{sent, received}"],
    ["bytes", isCounts, "{sent, received}"],
  ] as const,
);

/**
 * Checks the manifest's format, version and field types.
 *
 * @param value parsed JSON of session.json
 * @param file manifest path for the findings
 * @returns findings; a `manifest-version` finding means the rest was not checked
 */
export function checkManifestSchema(value: unknown, file: string): Finding[] {
  const finding = (code: string, message: string, expected?: string, actual?: string): Finding => ({
    severity: "error",
    code,
    file,
    message,
    expected,
    actual,
  });
  if (!isObject(value)) return [finding("manifest-schema", "not a JSON object")];
  if (value.format !== MANIFEST_FORMAT || !isInt(value.version) || value.version as number < 1) {
    return [finding(
      "manifest-version",
      "unknown manifest format or version",
      `format "${MANIFEST_FORMAT}", integer version 1..${MANIFEST_VERSION}`,
      `format ${JSON.stringify(value.format)}, version ${JSON.stringify(value.version)}`,
    )];
  }
  if ((value.version as number) > MANIFEST_VERSION) {
    return [finding(
      "manifest-version",
      "manifest is newer than this spicecap reads; upgrade spicecap",
      `version ≤ ${MANIFEST_VERSION}`,
      `version ${value.version}`,
    )];
  }
  const out: Finding[] = [];
  for (const [name, ok, what] of TOP_FIELDS) {
    if (!ok(value[name])) {
      out.push(finding("manifest-schema", `field '${name}'`, what, JSON.stringify(value[name])));
    }
  }
  if (!Array.isArray(value.channels)) return out;
  value.channels.forEach((c: unknown, i: number) => {
    if (!isObject(c)) {
      out.push(finding("manifest-schema", `channels[${i}]`, "an object", JSON.stringify(c)));
      return;
    }
    for (const [name, ok, what] of CHANNEL_FIELDS) {
      if (!ok(c[name])) {
        out.push(
          finding("manifest-schema", `channels[${i}].${name}`, what, JSON.stringify(c[name])),
        );
      }
    }
  });
  return out;
}

/**
 * Checks that every listed channel file exists and every capture file in the directory is listed.
 *
 * @param channels the manifest's channel list
 * @param dirFiles names of the files in the directory
 * @param file manifest path for the findings
 */
export function checkManifestFiles(
  channels: readonly ManifestChannelLike[],
  dirFiles: readonly string[],
  file: string,
): Finding[] {
  const present = new Set(dirFiles);
  const listed = new Set(channels.map((c) => c.file));
  const out: Finding[] = [];
  for (const c of channels) {
    if (!present.has(c.file)) {
      out.push({
        severity: "error",
        code: "manifest-files",
        file,
        message: `listed channel file ${c.file} does not exist`,
        expected: `${c.file} in the session directory`,
        actual: "missing",
      });
    }
  }
  for (const f of [...present].sort()) {
    if (CAPTURE_FILE.test(f) && !listed.has(f)) {
      out.push({
        severity: "error",
        code: "manifest-files",
        file,
        message: `capture file ${f} is not listed in the manifest`,
        expected: "every capture file listed in channels[]",
        actual: `${f} unlisted`,
      });
    }
  }
  return out;
}

/**
 * Compares a channel's manifest counts and ports with what its file holds.
 *
 * @param channel the manifest entry
 * @param observed what the file holds
 * @param complete the manifest's `complete`: counts of a killed capture may trail (warnings)
 * @returns findings about `channel.file`
 */
export function checkManifestCounts(
  channel: ManifestChannelLike,
  observed: ObservedChannel,
  complete: boolean,
): Finding[] {
  const out: Finding[] = [];
  const severity = complete ? "error" : "warning";
  for (const what of ["packets", "bytes"] as const) {
    for (const dir of ["sent", "received"] as const) {
      const listed = channel[what]?.[dir];
      const found = observed[what][dir];
      if (listed !== found) {
        out.push({
          severity,
          code: "manifest-count",
          file: channel.file,
          message: `manifest ${what}.${dir} differs from the file` +
            (complete ? "" : " (manifest not complete: the capture was not closed)"),
          expected: `${found} (in the file)`,
          actual: `${listed} (in session.json)`,
        });
      }
    }
  }
  const listedPorts = Array.isArray(channel.connections)
    ? channel.connections.map((c) => c?.clientPort)
    : (channel.clientPort !== undefined ? [channel.clientPort] : []);
  if (listedPorts.join(",") !== observed.clientPorts.join(",")) {
    out.push({
      severity: "error",
      code: "manifest-ports",
      file: channel.file,
      message: "client ports of the connections differ from session.json",
      expected: `[${observed.clientPorts.join(", ")}] (in the file)`,
      actual: `[${listedPorts.join(", ")}] (in session.json)`,
    });
  }
  if (
    channel.serverPort !== undefined && observed.serverPorts.some((p) => p !== channel.serverPort)
  ) {
    out.push({
      severity: "error",
      code: "manifest-ports",
      file: channel.file,
      message: "server port differs from session.json",
      expected: `${channel.serverPort}`,
      actual: observed.serverPorts.join(", "),
    });
  }
  return out;
}
