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
  MANIFEST_FILE,
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

/** What {@link ManifestError} says was wrong. */
export interface ManifestProblem {
  /** Path of the field, e.g. `channels[0].file`; "" for the file as a whole. */
  field: string;
  /** What the field must hold. */
  expected: string;
  /** What it held, described briefly; absent when there is nothing useful to show. */
  actual?: string;
}

/** A manifest this version cannot use. The message is one line: file, field, expected, got. */
export class ManifestError extends Error {
  /** Always "ManifestError". */
  override name = "ManifestError";
  /** Path of the manifest file that was rejected. */
  readonly file: string;
  /** Path of the offending field, e.g. `channels[0].file`; "" for the file as a whole. */
  readonly field: string;
  /** What the field must hold. */
  readonly expected: string;
  /** What it held, described briefly. */
  readonly actual?: string;

  /**
   * Builds the error; the message is `<file>: '<field>': expected <expected>, got <actual>`.
   *
   * @param file path of the manifest
   * @param problem the field, what was expected and what was found
   */
  constructor(file: string, problem: ManifestProblem) {
    const where = problem.field === "" ? "" : `'${problem.field}': `;
    const got = problem.actual === undefined ? "" : `, got ${problem.actual}`;
    super(`${file}: ${where}expected ${problem.expected}${got}`);
    this.file = file;
    this.field = problem.field;
    this.expected = problem.expected;
    this.actual = problem.actual;
  }
}

/** Where a value sits: the manifest file and the field path. */
interface At {
  file: string;
  field: string;
}

type Read<T> = (value: unknown, at: At) => T;

const PORT = "a port 1..65535";
const MAX_STRING_SHOWN = 48;

/** A short, one-line description of any JSON value. */
export function describeJson(value: unknown): string {
  if (value === undefined) return "nothing (field missing)";
  if (typeof value === "number") return String(value);
  if (typeof value === "string") {
    const shown = value.length > MAX_STRING_SHOWN ? `${value.slice(0, MAX_STRING_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (value === null || typeof value === "boolean") return String(value);
  return "an object";
}

function fail(at: At, expected: string, value: unknown): never {
  throw new ManifestError(at.file, { field: at.field, expected, actual: describeJson(value) });
}

function child(at: At, key: string | number): At {
  const field = typeof key === "number"
    ? `${at.field}[${key}]`
    : at.field === ""
    ? key
    : `${at.field}.${key}`;
  return { file: at.file, field };
}

function object(value: unknown, at: At): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(at, "an object", value);
  }
  return value as Record<string, unknown>;
}

/** An own property only: `__proto__`, `constructor` and the like never come from the prototype. */
function get(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

function read<T>(o: Record<string, unknown>, key: string, at: At, reader: Read<T>): T {
  return reader(get(o, key), child(at, key));
}

function optional<T>(o: Record<string, unknown>, key: string, at: At, r: Read<T>): T | undefined {
  return get(o, key) === undefined ? undefined : read(o, key, at, r);
}

function int(min: number, max: number, what?: string): Read<number> {
  return (v, at) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      fail(at, what ?? `an integer ${min}..${max}`, v);
    }
    return v;
  };
}

const count = int(0, Number.MAX_SAFE_INTEGER, "a count (integer ≥ 0)");
const port = int(1, 65535, PORT);

const string: Read<string> = (v, at) => typeof v === "string" ? v : fail(at, "a string", v);
const bool: Read<boolean> = (v, at) => typeof v === "boolean" ? v : fail(at, "true or false", v);

/** No control characters (NUL, newline, …): such a string could cut or forge output lines. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const line: Read<string> = (v, at) =>
  typeof v === "string" && !CONTROL.test(v)
    ? v
    : fail(at, "a string without control characters", v);

function oneOf<T extends string>(values: readonly T[]): Read<T> {
  return (v, at) =>
    values.includes(v as T) ? v as T : fail(at, values.map((x) => `"${x}"`).join(" or "), v);
}

function nullable<T>(reader: Read<T>): Read<T | null> {
  return (v, at) => v === null ? null : reader(v, at);
}

function list<T>(item: Read<T>, min = 0): Read<T[]> {
  return (v, at) => {
    if (!Array.isArray(v) || v.length < min) {
      fail(at, min > 0 ? `a list of at least ${min}` : "a list", v);
    }
    return v.map((x, i) => item(x, child(at, i)));
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const isoTime: Read<string> = (v, at) =>
  typeof v === "string" && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v))
    ? v
    : fail(at, "an ISO time (2026-01-31T12:00:00.000Z)", v);

const nsTime: Read<string> = (v, at) =>
  typeof v === "string" && /^\d{1,20}$/.test(v) ? v : fail(at, "ns as a decimal string", v);

/**
 * Whether `name` is a plain file name inside the session directory: not empty, no `/`, no
 * `..`, no control character (NUL included), and not the manifest itself.
 */
export function isPlainFileName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.includes("/") && !name.includes("..") &&
    name !== "." && !CONTROL.test(name) && name !== MANIFEST_FILE;
}

const fileName: Read<string> = (v, at) =>
  typeof v === "string" && isPlainFileName(v)
    ? v
    : fail(at, "a plain file name (no '/', '..' or control characters)", v);

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
