/**
 * Invariants of a session directory's `session.json`, over plain values: the parsed JSON, the
 * directory listing, and the counts observed in each channel file.
 */
import { type Manifest, ManifestError, validateManifest } from "../capture/manifest.ts";
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

/** What {@link checkManifestSchema} found: the typed manifest, or the finding that rejects it. */
export type SchemaCheck =
  | { manifest: Manifest; finding?: undefined }
  | { manifest?: undefined; finding: Finding };

/**
 * Validates the manifest with the one manifest validator (lib/capture/manifest_validate.ts).
 * A bad format or version is a `manifest-version` finding, any other bad field a
 * `manifest-schema` finding naming it; either way the rest of the directory cannot be trusted.
 *
 * @param value parsed JSON of session.json
 * @param file manifest path for the finding
 * @returns the typed manifest, or the finding
 */
export function checkManifestSchema(value: unknown, file: string): SchemaCheck {
  try {
    return { manifest: validateManifest(value, file) };
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    const version = e.field === "format" || e.field === "version";
    return {
      finding: {
        severity: "error",
        code: version ? "manifest-version" : "manifest-schema",
        file,
        message: e.field === "" ? "not a manifest" : `field '${e.field}'`,
        expected: e.expected,
        actual: e.actual,
      },
    };
  }
}

/**
 * Checks that every listed channel file exists and every capture file in the directory is listed.
 *
 * @param channels the manifest's channel list
 * @param where `dirFiles`: names of the files in the directory; `file`: manifest path for the
 * findings
 */
export function checkManifestFiles(
  channels: readonly ManifestChannelLike[],
  where: { dirFiles: readonly string[]; file: string },
): Finding[] {
  const { dirFiles, file } = where;
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
 * @param file `observed`: what the file holds; `complete`: the manifest's `complete` (counts of
 * a killed capture may trail: warnings)
 * @returns findings about `channel.file`
 */
export function checkManifestCounts(
  channel: ManifestChannelLike,
  file: { observed: ObservedChannel; complete: boolean },
): Finding[] {
  const { observed, complete } = file;
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
