/** Findings of `check`: stable codes, severities, and their text and JSON forms. */

/** How bad a finding is: errors make `check` exit 1, warnings and information do not. */
export type Severity = "error" | "warning" | "info";

/**
 * Stable finding codes and what each means. The names are a contract: CI and `jq` filters
 * match on them.
 */
export const FINDING_CODES: Readonly<Record<string, string>> = Object.freeze({
  "seq-gap": "a TCP segment starts after the next expected sequence number: bytes are missing",
  "seq-overlap": "a TCP segment overlaps bytes already seen and carries new bytes too",
  "retransmission": "a TCP segment repeats bytes already seen",
  "ack-unsent": "an acknowledgement covers bytes the other side never sent",
  "handshake": "a connection of our capture does not start with SYN, SYN-ACK",
  "direction": "client and server are the wrong way round, or a packet is addressed backwards",
  "time-backwards": "a packet's timestamp is earlier than the one before it",
  "framing": "the SPICE byte stream is not valid SPICE at this point",
  "link-incomplete": "a connection ended before its SPICE link phase completed",
  "link-refused": "the server refused a link (link reply error or link result not OK)",
  "incomplete-message": "the capture ends inside a SPICE message",
  "unknown-message": "a message type not in the tables for its channel and direction",
  "unknown-channel": "a link names a channel type not in the tables",
  "not-tcp": "a packet that is not TCP over IP",
  "snapped": "a packet was cut by the snap length, its payload is incomplete",
  "truncated-tail": "the file ends inside its last record (the capture was killed)",
  "unreadable": "the file is not a capture this reader understands at this point",
  "manifest-schema": "session.json is missing a field or has one of the wrong type",
  "manifest-version": "session.json has a format or version this spicecap does not read",
  "manifest-count": "session.json's packet or byte counts differ from what the file holds",
  "manifest-files": "a listed file is missing, or a capture file in the directory is not listed",
  "manifest-ports": "session.json's client ports differ from the file's connections",
  "mid-stream": "information: a connection of a flight-recorder snapshot starts mid-stream; its " +
    "sequence numbers jump over the bytes the ring did not keep (session.json snapshot.midStream)",
  "manifest-drops": "incomplete recording: session.json reports bytes relayed and not recorded " +
    "(dropped packets, lossy or unrecorded connections); a warning with check --allow-drops",
});

/** One violated invariant (or a warning), located as precisely as the check allows. */
export interface Finding {
  /** "error" makes `check` exit 1; "warning" and "info" do not. */
  severity: Severity;
  /** A key of {@link FINDING_CODES}. */
  code: string;
  /** File name (as given on the command line, or the session dir's file). */
  file: string;
  /** 1-based packet number in `file`, when the finding is about a packet. */
  packetNumber?: number;
  /** "10.0.0.1:10001 → 10.0.0.2:5930" for the direction concerned, when known. */
  flow?: string;
  /** SPICE channel name of the connection, when known. */
  channel?: string;
  /** What went wrong, in words. */
  message: string;
  /** What the invariant expected. */
  expected?: string;
  /** What the file holds instead. */
  actual?: string;
}

/** Totals reported after the findings. */
export interface CheckSummary {
  /** Capture files checked, unreadable ones included. */
  files: number;
  /** Packets (records) read, over all files. */
  packets: number;
  /** SPICE units (link pieces and messages) framed, over all files. */
  messages: number;
  /** TCP connections seen, over all files. */
  connections: number;
  /** Findings of severity "error". */
  errors: number;
  /** Findings of severity "warning". */
  warnings: number;
  /** Files that could not be read (exit 2). */
  unreadable: number;
}

/**
 * One finding as a text line: `file: packet N: flow: code: message (expected …, actual …)`.
 *
 * @param f the finding
 * @returns the line, without a newline
 */
export function formatFinding(f: Finding): string {
  const where = [f.file];
  if (f.packetNumber !== undefined) where.push(`packet ${f.packetNumber}`);
  if (f.flow) where.push(f.channel ? `${f.flow} (${f.channel})` : f.flow);
  else if (f.channel) where.push(f.channel);
  const detail = [
    f.expected !== undefined ? `expected ${f.expected}` : "",
    f.actual !== undefined ? `actual ${f.actual}` : "",
  ].filter((s) => s).join(", ");
  return `${where.join(": ")}: ${f.severity} ${f.code}: ${f.message}${
    detail ? ` (${detail})` : ""
  }`;
}

/**
 * One finding as an NDJSON line, `{"type":"finding",…}`.
 *
 * @param f the finding
 * @returns compact JSON, without a newline
 */
export function findingJson(f: Finding): string {
  return JSON.stringify({ type: "finding", ...f });
}

/**
 * The summary as a text line.
 *
 * @param s totals
 * @returns the line, without a newline
 */
export function formatSummary(s: CheckSummary): string {
  const verdict = s.unreadable > 0 ? "UNREADABLE" : s.errors > 0 ? "VIOLATIONS" : "OK";
  return `${verdict}: ${s.files} file(s), ${s.connections} connection(s), ${s.packets} packet(s), ` +
    `${s.messages} SPICE unit(s); ${s.errors} error(s), ${s.warnings} warning(s)` +
    (s.unreadable > 0 ? `, ${s.unreadable} unreadable file(s)` : "");
}
