/**
 * Putting the report's page model together: the summary facts from the manifest and the
 * reading, the channel table, the check verdict with each finding tied to a message, and the
 * problems met while reading and drawing.
 */
import type { Manifest } from "../capture/manifest_types.ts";
import { type Finding, formatFinding } from "../check/findings.ts";
import type { DisplayProblem } from "../display/display_model.ts";
import type { StreamProblem } from "../session/types.ts";
import type { CollectedChannel, CollectedMessages } from "./collect.ts";
import type { ReportFrames } from "./frames.ts";
import type { ReportChannel, ReportCheck, ReportDiff, ReportModel } from "./types.ts";

/** Findings shown in the page; the counts stay complete. */
export const MAX_FINDINGS = 500;
/** Problem lines shown in the page. */
export const MAX_PROBLEMS = 50;

/** What {@link buildReportModel} takes. */
export interface ReportInput {
  /** The session path as given. */
  title: string;
  /** The session's manifest, for a session directory. */
  manifest?: Manifest;
  /** The units, collected in one pass. */
  collected: CollectedMessages;
  /** The message a finding about (file, packet) concerns, -1 for none. */
  messageAt: (file: string, packet: number) => number;
  /** Every `check` finding. */
  findings: Finding[];
  /** Screens. */
  frames: ReportFrames;
  /** Problems reading the captures as SPICE. */
  streamProblems: StreamProblem[];
  /** Text typed on the inputs channel, when any. */
  typed?: string;
  /** The diff part. */
  diff?: ReportDiff;
}

/** A command line as a shell would take it back: words quoted only when needed. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(" ");
}

function seconds(us: number): string {
  return `${(us / 1e6).toFixed(3)} s`;
}

function facts(input: ReportInput): [string, string][] {
  const m = input.manifest;
  const c = input.collected;
  const lanes = new Set(c.lanes.map((l) => `${l.file}#${l.connection}`)).size;
  const out: [string, string][] = [["session", input.title]];
  if (m) {
    out.push(["target", m.target ?? "none (spicecap started the server)"]);
    out.push([
      "QEMU command line",
      m.server ? shellJoin(m.server.commandLine) : "not started by spicecap",
    ]);
    const wall = m.stopped ? Date.parse(m.stopped) - Date.parse(m.started) : NaN;
    out.push(["started", `${m.started}${m.stopped ? ` → ${m.stopped}` : " (not closed)"}`]);
    if (Number.isFinite(wall)) out.push(["duration", seconds(wall * 1000)]);
  }
  out.push(["messages", `${c.messages.t.length} SPICE units over ${seconds(c.durationUs)}`]);
  out.push(["connections", String(lanes)]);
  if (m) {
    out.push(["recorded by", `${m.tool.name} ${m.tool.version}, ${m.captureFormat}`]);
    if (m.stoppedBy) out.push(["stopped by", m.stoppedBy]);
    const dropped = m.channels.reduce((n, ch) => n + ch.dropped, 0);
    out.push([
      "drops and errors",
      `${dropped} packet(s) dropped, ${m.errors.length} sink error(s)` +
      `${m.lossy ? `, ${m.lossy.connections.length} lossy connection(s)` : ""}` +
      `${m.unrecorded?.length ? `, ${m.unrecorded.length} unrecorded connection(s)` : ""}`,
    ]);
    if (m.scrubbed?.length) out.push(["scrubbed", m.scrubbed.join(", ")]);
    if (m.redacted?.length) out.push(["redacted", m.redacted.join(", ")]);
    if (m.replay) out.push(["replay of", `${m.replay.source} (${m.replay.sent} sent)`]);
  }
  if (input.typed) out.push(["keys typed", JSON.stringify(input.typed)]);
  return out;
}

function sumCounts(a?: { sent: number; received: number }): number {
  return a ? a.sent + a.received : 0;
}

function channels(input: ReportInput): ReportChannel[] {
  const got = input.collected.channels;
  const byFile = (file: string) => got.filter((c) => c.file === file);
  const fromCollected = (c: CollectedChannel): ReportChannel => ({
    label: c.label,
    file: c.file,
    connections: c.connections,
    toServer: c.toServer,
    toClient: c.toClient,
    bytes: { sent: c.bytesToServer, received: c.bytesToClient },
    dropped: 0,
    droppedBytes: 0,
    errors: 0,
  });
  const m = input.manifest;
  if (!m) return got.map(fromCollected);
  return m.channels.map((ch) => {
    const seen = byFile(ch.file);
    return {
      label: ch.id ? `${ch.typeName}-${ch.id}` : ch.typeName,
      file: ch.file,
      connections: ch.connections.length,
      toServer: seen.reduce((n, c) => n + c.toServer, 0),
      toClient: seen.reduce((n, c) => n + c.toClient, 0),
      bytes: { sent: ch.bytes.sent, received: ch.bytes.received },
      dropped: ch.dropped,
      droppedBytes: sumCounts(ch.droppedBytes),
      errors: ch.errors,
    };
  });
}

function check(input: ReportInput): ReportCheck {
  const errors = input.findings.filter((f) => f.severity === "error").length;
  return {
    errors,
    warnings: input.findings.length - errors,
    findings: input.findings.slice(0, MAX_FINDINGS).map((f) => ({
      severity: f.severity,
      code: f.code,
      text: formatFinding(f),
      message: f.packetNumber === undefined ? -1 : input.messageAt(f.file, f.packetNumber),
    })),
  };
}

function problems(stream: StreamProblem[], display: DisplayProblem[]): string[] {
  const lines = stream.slice(0, MAX_PROBLEMS).map((p) =>
    `reading: packet ${p.packetNumber}: ${p.kind}: ${p.message}`
  );
  if (stream.length > MAX_PROBLEMS) {
    lines.push(`reading: ${stream.length - MAX_PROBLEMS} more problem(s) not shown`);
  }
  // Display problems repeat (one per draw): one line per kind and text, with the count.
  const groups = new Map<string, { first: DisplayProblem; count: number }>();
  for (const p of display) {
    const key = `${p.kind}: ${p.message}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { first: p, count: 1 });
  }
  for (const [key, g] of [...groups].slice(0, MAX_PROBLEMS)) {
    lines.push(
      `display: ${key}${g.count > 1 ? ` (${g.count}×, first at` : " (at"} message ` +
        `${g.first.messageIndex} ${g.first.messageName})`,
    );
  }
  if (groups.size > MAX_PROBLEMS) lines.push(`display: ${groups.size - MAX_PROBLEMS} more kind(s)`);
  return lines;
}

/**
 * The page model from the collected parts.
 *
 * @param input the session's parts
 * @returns the model the page shows (html.ts renders it)
 */
export function buildReportModel(input: ReportInput): ReportModel {
  const c = input.collected;
  return {
    title: input.title,
    facts: facts(input),
    startUs: c.startUs,
    durationUs: c.durationUs,
    channels: channels(input),
    lanes: c.lanes,
    names: c.names,
    texts: c.texts,
    messages: c.messages,
    keys: c.keys,
    check: check(input),
    problems: problems(input.streamProblems, input.frames.problems),
    images: input.frames.images,
    frames: input.frames.frames,
    diff: input.diff,
  };
}
