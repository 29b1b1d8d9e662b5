/** The summary `deno task capture` prints when it stops (and `--json` prints as JSON). */
import type { FlightRingStats } from "../../lib/capture/flight_ring.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import type { SessionStats } from "../../lib/capture/session.ts";
import type { ProxyStats } from "../capture/proxy.ts";

/** Why the capture stopped (manifest `stoppedBy`). */
export type StoppedBy = "client-exit" | "duration" | "signal" | "server-exit";

/** How the client ended. */
export interface ClientExit {
  kind: string;
  exitCode: number;
  /** We stopped it (SIGTERM at the end of the capture): its exit code says nothing. */
  stoppedByUs?: boolean;
}

/** The final summary (`--json` prints it). */
export interface Summary {
  type: "summary";
  dir: string | null;
  url: string;
  stoppedBy: StoppedBy;
  files: { file: string; packets: number; bytes: number; dropped: number; errors: number }[];
  packets: number;
  bytes: number;
  dropped: number;
  errors: number;
  proxy: ProxyStats;
  client?: ClientExit;
  /** Files in the session directory besides the channel files (session.json, screenshot.ppm, …). */
  otherFiles?: string[];
  /** `--ring`: what the flight recorder's ring held at the end, and the snapshots written. */
  ring?: FlightRingStats;
}

/** What {@link summarize} sums up. */
export interface SummaryFacts {
  /** Session directory; null with --no-record. */
  dir: string | null;
  /** Where the proxy listened (`spice://…`). */
  url: string;
  stoppedBy: StoppedBy;
  /** The recording's final counters; undefined with --no-record. */
  stats?: SessionStats;
  /** The manifest written; its `dropped` includes lossy connections. */
  manifest?: Manifest;
  proxy: ProxyStats;
  client?: ClientExit;
  /** Files in the session directory besides the channel files ({@link otherSessionFiles}). */
  otherFiles?: string[];
}

/**
 * The files of a session directory that are not channel files, sorted: the manifest, the
 * client's screenshot, the guest's serial log, …
 *
 * @param dir the session directory
 * @param channelFiles the channel files' names
 */
export async function otherSessionFiles(dir: string, channelFiles: string[]): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && !channelFiles.includes(e.name)) names.push(e.name);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

/**
 * Totals per channel file and over the session.
 *
 * @param facts the recording's and the proxy's final counters
 * @returns the summary
 */
export function summarize(facts: SummaryFacts): Summary {
  const { proxy, client } = facts;
  const files = (facts.stats?.channels ?? []).map((c) => ({
    file: c.file,
    packets: c.packets.sent + c.packets.received,
    bytes: c.bytes.sent + c.bytes.received,
    dropped: c.dropped,
    errors: c.errors,
  }));
  const sum = (k: "packets" | "bytes" | "dropped" | "errors") =>
    files.reduce((n, f) => n + f[k], 0);
  return {
    type: "summary",
    dir: facts.dir,
    url: facts.url,
    stoppedBy: facts.stoppedBy,
    files,
    packets: sum("packets"),
    bytes: sum("bytes"),
    dropped: facts.manifest?.dropped ?? sum("dropped"),
    errors: sum("errors") + proxy.captureErrors + proxy.tlsFailures,
    proxy,
    ...(client ? { client } : {}),
    ...(facts.otherFiles ? { otherFiles: facts.otherFiles } : {}),
    ...(facts.stats?.ring ? { ring: facts.stats.ring } : {}),
  };
}

/** The flight recorder's lines: per channel what the ring holds and let go, the snapshots. */
function ringLines(r: FlightRingStats): string[] {
  const lines = r.channels.map((c) =>
    `  ${c.channel.padEnd(18)} kept ${c.kept.messages} messages (${c.kept.bytes} bytes), ` +
    `let go ${c.notKept.messages} messages (${c.notKept.bytes} bytes)`
  );
  lines.push(
    `  ring of ${r.ringBytes} bytes (${r.usedBytes} in use); ` +
      `${r.snapshots.length} snapshot${r.snapshots.length === 1 ? "" : "s"}` +
      (r.snapshots.length > 0 ? ":" : ""),
  );
  for (const dir of r.snapshots) lines.push(`    ${dir}`);
  return lines;
}

/**
 * The summary as lines for stderr.
 *
 * @param s the summary
 * @returns the text, ending with a newline
 */
export function formatSummary(s: Summary): string {
  const lines = [`spicecap capture: stopped (${s.stoppedBy})`];
  if (s.ring) lines.push(...ringLines(s.ring));
  for (const f of s.files) {
    lines.push(
      `  ${f.file.padEnd(18)} ${String(f.packets).padStart(7)} packets ${
        String(f.bytes).padStart(11)
      } bytes${f.dropped ? `, ${f.dropped} dropped` : ""}${f.errors ? `, ${f.errors} errors` : ""}`,
    );
  }
  lines.push(
    (s.ring
      ? "  flight recorder: nothing written but snapshots"
      : `  ${s.packets} packets, ${s.bytes} bytes recorded`) +
      `; ${s.dropped} dropped; ${s.errors} errors; ` +
      `relayed ${s.proxy.bytesToServer} bytes to the server, ${s.proxy.bytesToClient} to clients ` +
      `over ${s.proxy.connections} connections` +
      (s.proxy.tlsFailures ? `; failed TLS handshakes: ${s.proxy.tlsFailures}` : ""),
  );
  if (s.proxy.relayHeldMs > 0) {
    lines.push(`  the relay waited ${s.proxy.relayHeldMs} ms for the recorder (--record-all)`);
  }
  for (const f of s.otherFiles ?? []) lines.push(`  ${f}`);
  if (s.client) {
    lines.push(
      s.client.stoppedByUs
        ? `  client ${s.client.kind}: stopped by us at the end`
        : `  client ${s.client.kind} exited with code ${s.client.exitCode}`,
    );
  }
  if (s.ring) lines.push(`  snapshots under: ${s.dir}/snapshots`);
  else lines.push(s.dir ? `  session: ${s.dir}` : "  nothing recorded (--no-record)");
  return lines.join("\n") + "\n";
}
