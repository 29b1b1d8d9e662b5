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
  if (s.client) lines.push(`  client ${s.client.kind} exited with code ${s.client.exitCode}`);
  if (s.ring) lines.push(`  snapshots under: ${s.dir}/snapshots`);
  else lines.push(s.dir ? `  session: ${s.dir}` : "  nothing recorded (--no-record)");
  return lines.join("\n") + "\n";
}
