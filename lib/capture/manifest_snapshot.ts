/**
 * The `snapshot` fact of a session written by the flight recorder (`capture --ring`): why the
 * snapshot was taken, the time its ring covers, what fell out of the ring before it, and which
 * connections start mid-stream (docs/architecture.md "Flight recorder"). Types, validator and
 * what the readers (check, replay) make of it. This module imports nothing: the manifest's
 * types and validator import it.
 *
 * @module
 */

/** Bytes per direction: `sent` client → server, `received` server → client. */
export interface SnapshotCounts {
  /** Client → server. */
  sent: number;
  /** Server → client. */
  received: number;
}

/** What the ring of one channel let go before the snapshot. */
export interface SnapshotChannel {
  /** Channel file in the snapshot (a bare name). */
  file: string;
  /** Payload bytes that fell out of the ring (messages not kept), per direction. */
  notKeptBytes: SnapshotCounts;
  /** Messages that fell out of the ring. */
  notKeptMessages: number;
}

/**
 * A connection whose kept messages do not follow its link phase: its synthetic sequence
 * numbers jump by the bytes not kept, where they were not kept (a pure ACK of the peer marks
 * each jump, and a pcapng comment the first kept packet after it).
 */
export interface SnapshotMidStream {
  /** Channel file. */
  file: string;
  /** Synthetic client port of the connection in that file. */
  clientPort: number;
  /** Payload bytes not kept, per direction: the sum of that direction's jumps. */
  notKeptBytes: SnapshotCounts;
}

/** The manifest's `snapshot` fact. */
export interface SnapshotFacts {
  /**
   * Why: "signal" (SIGUSR1), "disconnect", "link-error", "notify-error", "message=NAME",
   * "exit".
   */
  reason: string;
  /** What set it off, in words (the channel, the message, the link error). */
  detail?: string;
  /** When it was taken (ISO time). */
  takenAt: string;
  /** The ring's size (`--ring`), bytes. */
  ringBytes: number;
  /** Time of the oldest and newest message the ring kept, ns since the epoch (decimal). */
  covers: { fromNs: string; toNs: string };
  /** True when nothing ever fell out of the ring: the snapshot is the whole session so far. */
  wholeSession: boolean;
  /** One entry per channel file. */
  channels: SnapshotChannel[];
  /** Connections that start mid-stream (possibly none). */
  midStream: SnapshotMidStream[];
}

/** Reports a bad field (`field` relative to `snapshot`) and throws. */
export type SnapshotFail = (field: string, expected: string, value: unknown) => never;

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const NS = /^\d{1,20}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function own(o: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

/** A reader of one field's value. */
type Check<T> = (v: unknown, field: string, fail: SnapshotFail) => T;

const count: Check<number> = (v, field, fail) =>
  typeof v === "number" && Number.isSafeInteger(v) && v >= 0
    ? v
    : fail(field, "a count (integer ≥ 0)", v);

const text: Check<string> = (v, field, fail) =>
  typeof v === "string" && !CONTROL.test(v) && v.length <= 1000
    ? v
    : fail(field, "a string without control characters", v);

const fileName: Check<string> = (v, field, fail) =>
  typeof v === "string" && /^[A-Za-z0-9._-]{1,100}$/.test(v) && !/^\.\.?$/.test(v)
    ? v
    : fail(field, "a plain file name", v);

const nsTime: Check<string> = (v, field, fail) =>
  typeof v === "string" && NS.test(v) ? v : fail(field, "ns as a decimal string", v);

const counts: Check<SnapshotCounts> = (v, field, fail) => {
  if (!isObject(v)) return fail(field, "an object { sent, received }", v);
  return {
    sent: count(own(v, "sent"), `${field}.sent`, fail),
    received: count(own(v, "received"), `${field}.received`, fail),
  };
};

function list<T>(item: Check<T>): Check<T[]> {
  return (v, field, fail) => {
    if (!Array.isArray(v)) return fail(field, "a list", v);
    return v.map((x, i) => item(x, `${field}[${i}]`, fail));
  };
}

const channel: Check<SnapshotChannel> = (v, field, fail) => {
  if (!isObject(v)) return fail(field, "an object", v);
  return {
    file: fileName(own(v, "file"), `${field}.file`, fail),
    notKeptBytes: counts(own(v, "notKeptBytes"), `${field}.notKeptBytes`, fail),
    notKeptMessages: count(own(v, "notKeptMessages"), `${field}.notKeptMessages`, fail),
  };
};

const midStream: Check<SnapshotMidStream> = (v, field, fail) => {
  if (!isObject(v)) return fail(field, "an object", v);
  const port = own(v, "clientPort");
  return {
    file: fileName(own(v, "file"), `${field}.file`, fail),
    clientPort: typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535
      ? port
      : fail(`${field}.clientPort`, "a port 1..65535", port),
    notKeptBytes: counts(own(v, "notKeptBytes"), `${field}.notKeptBytes`, fail),
  };
};

/**
 * Validates a manifest's `snapshot` value.
 *
 * @param value the JSON value
 * @param fail reports a bad field and throws (the manifest validator's)
 * @returns the typed facts
 */
export function validateSnapshotFacts(value: unknown, fail: SnapshotFail): SnapshotFacts {
  if (!isObject(value)) return fail("", "an object", value);
  const v = value;
  const covers = own(v, "covers");
  if (!isObject(covers)) return fail("covers", "an object { fromNs, toNs }", covers);
  const takenAt = own(v, "takenAt");
  const whole = own(v, "wholeSession");
  const detail = own(v, "detail");
  return {
    reason: text(own(v, "reason"), "reason", fail),
    ...(detail === undefined ? {} : { detail: text(detail, "detail", fail) }),
    takenAt: typeof takenAt === "string" && !Number.isNaN(Date.parse(takenAt))
      ? takenAt
      : fail("takenAt", "an ISO time", takenAt),
    ringBytes: count(own(v, "ringBytes"), "ringBytes", fail),
    covers: {
      fromNs: nsTime(own(covers, "fromNs"), "covers.fromNs", fail),
      toNs: nsTime(own(covers, "toNs"), "covers.toNs", fail),
    },
    wholeSession: typeof whole === "boolean" ? whole : fail("wholeSession", "true or false", whole),
    channels: list(channel)(own(v, "channels"), "channels", fail),
    midStream: list(midStream)(own(v, "midStream"), "midStream", fail),
  };
}

/**
 * Why `replay` cannot re-drive a snapshot: the guest state at its start cannot be recreated
 * unless the ring kept the whole session.
 *
 * @param snapshot the manifest's `snapshot` fact, if any
 * @returns the refusal in words, or undefined when the session can be replayed
 */
export function snapshotReplayRefusal(snapshot: SnapshotFacts | undefined): string | undefined {
  if (snapshot === undefined || snapshot.wholeSession) return undefined;
  const lost = snapshot.channels.reduce(
    (n, c) => n + c.notKeptBytes.sent + c.notKeptBytes.received,
    0,
  );
  return `this session is a flight-recorder snapshot (${snapshot.reason}) that starts ` +
    `mid-stream: ${lost} bytes fell out of the ring before it, so the guest state it starts ` +
    "from cannot be recreated; only a snapshot whose ring kept the whole session replays";
}
