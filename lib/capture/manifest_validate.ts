/**
 * The one validator of `session.json`: any JSON value in, a typed {@link Manifest} out, or a
 * {@link ManifestError} naming the file, the field and what was expected. Every command that
 * reads a session directory goes through it (via `readManifest`), so nothing downstream sees
 * a field of the wrong type or out of range. Unknown fields are left out of the result.
 */
import {
  type DirectionCounts,
  type DisplayCompression,
  IMAGE_COMPRESSIONS,
  type ImportedFrom,
  type LossyNote,
  type Manifest,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestChannel,
  type ManifestConnection,
  type ManifestFacts,
  MAX_FIRST_CONNECTION_DELAY_MS,
  type QemuFileHash,
  type ReplayFacts,
  type ServerInfo,
  type SkippedChannel,
  type StoppedBy,
  STREAMING_VIDEO_MODES,
  type UnrecordedConnection,
  WAN_COMPRESSIONS,
} from "./manifest_types.ts";
import { validateSnapshotFacts } from "./manifest_snapshot.ts";
import {
  type At,
  bool,
  child,
  count,
  fail,
  fileName,
  get,
  int,
  isoTime,
  line,
  list,
  nsTime,
  nullable,
  object,
  oneOf,
  optional,
  port,
  type Read,
  read,
  string,
} from "./_manifest_read.ts";

export { describeJson, ManifestError, type ManifestProblem } from "./manifest_error.ts";
export { isPlainFileName } from "./_manifest_read.ts";

const counts: Read<DirectionCounts> = (v, at) => {
  const o = object(v, at);
  return { sent: read(o, "sent", at, count), received: read(o, "received", at, count) };
};

const connection: Read<ManifestConnection> = (v, at) => {
  const o = object(v, at);
  const closedNs = optional(o, "closedNs", at, nsTime);
  return {
    clientPort: read(o, "clientPort", at, port),
    openedNs: read(o, "openedNs", at, nsTime),
    ...(closedNs === undefined ? {} : { closedNs }),
  };
};

const channel: Read<ManifestChannel> = (v, at) => {
  const o = object(v, at);
  return {
    type: read(o, "type", at, int(1, 255)),
    typeName: read(o, "typeName", at, line),
    id: read(o, "id", at, int(0, 255)),
    file: read(o, "file", at, fileName),
    clientPort: read(o, "clientPort", at, port),
    serverPort: read(o, "serverPort", at, port),
    connections: read(o, "connections", at, list(connection)),
    packets: read(o, "packets", at, counts),
    bytes: read(o, "bytes", at, counts),
    dropped: read(o, "dropped", at, count),
    ...optionalCounts(o, "droppedBytes", at),
    ...optionalCounts(o, "partialBytes", at),
    errors: read(o, "errors", at, count),
  };
};

/** `{ [key]: counts }` when the field is present, else nothing. */
function optionalCounts(o: Record<string, unknown>, key: string, at: At) {
  const v = optional(o, key, at, counts);
  return v === undefined ? {} : { [key]: v };
}

/** The channel list, with no (type, id) and no file listed twice. */
const channels: Read<ManifestChannel[]> = (v, at) => {
  const out = list(channel)(v, at);
  const keys = new Set<string>();
  const files = new Set<string>();
  out.forEach((c, i) => {
    const key = `${c.type}:${c.id}`;
    if (keys.has(key)) {
      fail(child(child(at, i), "id"), `a (type, id) not listed before`, `${c.type}, ${c.id}`);
    }
    if (files.has(c.file)) fail(child(child(at, i), "file"), "a file not listed before", c.file);
    keys.add(key);
    files.add(c.file);
  });
  return out;
};

const server: Read<ServerInfo> = (v, at) => {
  const o = object(v, at);
  const delay = optional(
    o,
    "firstConnectionDelayMs",
    at,
    (d, a) =>
      typeof d === "number" && Number.isFinite(d) && d >= 0 && d <= MAX_FIRST_CONNECTION_DELAY_MS
        ? d
        : fail(a, `a delay in ms 0..${MAX_FIRST_CONNECTION_DELAY_MS}`, d),
  );
  return {
    commandLine: read(o, "commandLine", at, list(line, 1)),
    ...(delay === undefined ? {} : { firstConnectionDelayMs: delay }),
  };
};

const skipped: Read<SkippedChannel> = (v, at) => {
  const o = object(v, at);
  return { type: read(o, "type", at, int(0, 255)), connections: read(o, "connections", at, count) };
};

const tool: Read<Manifest["tool"]> = (v, at) => {
  const o = object(v, at);
  return { name: read(o, "name", at, line), version: read(o, "version", at, line) };
};

/**
 * Validates parsed JSON as a manifest: format, version, then every field's type and range.
 *
 * @param value parsed `session.json` (any JSON value)
 * @param file path used in errors
 * @returns a fresh, typed manifest holding the known fields only
 * @throws {ManifestError} naming the first field that is missing, of the wrong type or out of range
 */
export function validateManifest(value: unknown, file: string): Manifest {
  const at: At = { file, field: "" };
  const o = object(value, at);
  const format = get(o, "format");
  if (format !== MANIFEST_FORMAT) fail(child(at, "format"), `"${MANIFEST_FORMAT}"`, format);
  const version = read(o, "version", at, int(1, Number.MAX_SAFE_INTEGER, "an integer ≥ 1"));
  if (version > MANIFEST_VERSION) {
    fail(
      child(at, "version"),
      `version ≤ ${MANIFEST_VERSION} (the manifest is newer than this spicecap; upgrade spicecap)`,
      version,
    );
  }
  const stopped = optional(o, "stopped", at, isoTime);
  return {
    format: MANIFEST_FORMAT,
    version,
    tool: read(o, "tool", at, tool),
    started: read(o, "started", at, isoTime),
    ...(stopped === undefined ? {} : { stopped }),
    complete: read(o, "complete", at, bool),
    target: read(o, "target", at, nullable(line)),
    server: read(o, "server", at, nullable(server)),
    tsResolution: read(o, "tsResolution", at, oneOf(["us", "ns"] as const)),
    captureFormat: read(o, "captureFormat", at, oneOf(["pcap", "pcapng"] as const)),
    serverPort: read(o, "serverPort", at, port),
    relativeTime: read(o, "relativeTime", at, bool),
    channels: read(o, "channels", at, channels),
    skipped: read(o, "skipped", at, list(skipped)),
    dropped: read(o, "dropped", at, count),
    errors: read(o, "errors", at, list(string)),
    ...facts(o, at),
  };
}

const STOPPED_BY: readonly StoppedBy[] = ["client-exit", "duration", "signal", "server-exit"];

/** The optional facts, each validated when present; absent ones stay absent. */
function facts(o: Record<string, unknown>, at: At): Omit<ManifestFacts, "target" | "server"> {
  const out: Omit<ManifestFacts, "target" | "server"> = {
    sessionId: optional(o, "sessionId", at, int(0, 0xffff_ffff)),
    displayCompression: optional(o, "displayCompression", at, displayCompression),
    qemuFiles: optional(o, "qemuFiles", at, list(qemuFile)),
    scrubbed: optional(o, "scrubbed", at, list(line)),
    redacted: optional(o, "redacted", at, list(line)),
    stoppedBy: optional(o, "stoppedBy", at, oneOf(STOPPED_BY)),
    recorderErrors: optional(o, "recorderErrors", at, count),
    lossy: optional(o, "lossy", at, lossy),
    unrecorded: optional(o, "unrecorded", at, list(unrecorded)),
    replayOf: optional(o, "replayOf", at, string),
    droppedFromReplay: optional(o, "droppedFromReplay", at, namedCounts),
    replay: optional(o, "replay", at, replay),
    importedFrom: optional(o, "importedFrom", at, importedFrom),
    partial: optional(o, "partial", at, bool),
    snapshot: optional(
      o,
      "snapshot",
      at,
      (v, a) => validateSnapshotFacts(v, (f, e, x) => fail(f ? child(a, f) : a, e, x)),
    ),
  };
  for (const key of Object.keys(out) as (keyof typeof out)[]) {
    if (out[key] === undefined) delete out[key];
  }
  return out;
}

const qemuFile: Read<QemuFileHash> = (v, at) => {
  const o = object(v, at);
  const bundled = optional(
    o,
    "bundled",
    at,
    (b, a) =>
      typeof b === "string" && /^[A-Za-z0-9._+-]{1,200}$/.test(b) && !/^\.\.?$/.test(b)
        ? b
        : fail(a, "a plain file name", b),
  );
  return {
    option: read(
      o,
      "option",
      at,
      (s, a) =>
        typeof s === "string" && /^-[a-z_0-9-]{1,30}$/.test(s) ? s : fail(a, "a QEMU option", s),
    ),
    path: read(o, "path", at, line),
    sha256: read(
      o,
      "sha256",
      at,
      (s, a) => typeof s === "string" && /^[0-9a-f]{64}$/.test(s) ? s : fail(a, "64 hex digits", s),
    ),
    size: read(o, "size", at, count),
    ...(bundled === undefined ? {} : { bundled }),
  };
};

const displayCompression: Read<DisplayCompression> = (v, at) => {
  const o = object(v, at);
  const out: DisplayCompression = {
    imageCompression: optional(o, "imageCompression", at, oneOf(IMAGE_COMPRESSIONS)),
    jpegWan: optional(o, "jpegWan", at, oneOf(WAN_COMPRESSIONS)),
    zlibGlzWan: optional(o, "zlibGlzWan", at, oneOf(WAN_COMPRESSIONS)),
    streamingVideo: optional(o, "streamingVideo", at, oneOf(STREAMING_VIDEO_MODES)),
  };
  for (const key of Object.keys(out) as (keyof DisplayCompression)[]) {
    if (out[key] === undefined) delete out[key];
  }
  return out;
};

/** `{ NAME: count }` with SPICE message names as keys (never `__proto__` and the like). */
const namedCounts: Read<Record<string, number>> = (v, at) => {
  const o = object(v, at);
  return Object.fromEntries(
    Object.keys(o).map((k) => {
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(k)) fail(child(at, k), "a message name as key", k);
      return [k, read(o, k, at, count)];
    }),
  );
};

const lossy: Read<LossyNote> = (v, at) => {
  const o = object(v, at);
  return {
    note: read(o, "note", at, string),
    connections: read(
      o,
      "connections",
      at,
      list((c, a) => {
        const e = object(c, a);
        return {
          file: read(e, "file", a, nullable(fileName)),
          channel: read(e, "channel", a, line),
          clientPort: read(e, "clientPort", a, nullable(port)),
          trigger: read(e, "trigger", a, oneOf(["toServer", "toClient"] as const)),
          droppedChunks: read(e, "droppedChunks", a, counts),
          droppedBytes: read(e, "droppedBytes", a, counts),
        };
      }),
    ),
  };
};

const hex: Read<string> = (v, at) =>
  typeof v === "string" && /^(?:[0-9a-f]{2}){0,16}$/.test(v)
    ? v
    : fail(at, "up to 16 bytes as hex", v);

const unrecorded: Read<UnrecordedConnection> = (v, at) => {
  const o = object(v, at);
  const connections = optional(o, "connections", at, int(2, Number.MAX_SAFE_INTEGER));
  const closedNs = optional(o, "closedNs", at, nsTime);
  return {
    reason: read(o, "reason", at, line),
    channel: read(o, "channel", at, nullable(line)),
    ...(connections === undefined ? {} : { connections }),
    openedNs: read(o, "openedNs", at, nsTime),
    ...(closedNs === undefined ? {} : { closedNs }),
    bytes: read(o, "bytes", at, counts),
    firstBytes: read(o, "firstBytes", at, (f, a) => {
      const b = object(f, a);
      return { sent: read(b, "sent", a, hex), received: read(b, "received", a, hex) };
    }),
  };
};

const replay: Read<ReplayFacts> = (v, at) => {
  const o = object(v, at);
  return {
    source: read(o, "source", at, string),
    speed: read(
      o,
      "speed",
      at,
      (s, a) =>
        s === "max" || (typeof s === "number" && Number.isFinite(s) && s > 0)
          ? s as "max" | number
          : fail(a, `"max" or a positive number`, s),
    ),
    sent: read(o, "sent", at, count),
    until: read(o, "until", at, nullable(count)),
    diverged: read(o, "diverged", at, nullable(string)),
    ...(get(o, "interrupted") === undefined
      ? {}
      : { interrupted: read(o, "interrupted", at, bool) }),
    ...(get(o, "gate") === undefined
      ? {}
      : { gate: read(o, "gate", at, oneOf(["screen", "none"] as const)) }),
    ...(get(o, "short") === undefined ? {} : { short: read(o, "short", at, nullable(line)) }),
  };
};

const importedFrom: Read<ImportedFrom> = (v, at) => {
  const o = object(v, at);
  return {
    file: read(o, "file", at, nullable(string)),
    connections: read(
      o,
      "connections",
      at,
      list((c, a) => {
        const e = object(c, a);
        return {
          client: read(e, "client", a, line),
          server: read(e, "server", a, line),
          channelType: read(e, "channelType", a, nullable(int(0, 255))),
          channelId: read(e, "channelId", a, nullable(int(0, 255))),
        };
      }),
    ),
  };
};
