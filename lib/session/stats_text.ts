/** The text of `stats`: tables of names, an IO graph of bars, round trips and link times. */
import type { StatsReport } from "./stats.ts";

/** Width of the longest bar of the IO graph, in characters. */
const BAR_WIDTH = 40;

const ARROWS = { toServer: "→", toClient: "←" } as const;

/** Bytes with a binary unit: `812 B`, `4.2 KiB`, `1.5 MiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function messageTables(r: StatsReport): string[] {
  const lines = ["Messages per channel and direction (→ client to server, ← server to client);"];
  lines.push("bytes are on the wire, header included:");
  for (const c of r.channels) {
    lines.push(
      `${c.channel} ${ARROWS[c.direction]}  ${c.count} unit(s), ${formatBytes(c.bytes)}`,
    );
    lines.push(
      `  ${"name".padEnd(26)} ${"count".padStart(8)} ${"bytes (with header)".padStart(20)}`,
    );
    for (const t of c.types) {
      lines.push(
        `  ${t.name.padEnd(26)} ${String(t.count).padStart(8)} ${String(t.bytes).padStart(20)}`,
      );
    }
  }
  return lines;
}

function ioGraph(r: StatsReport): string[] {
  const lines = [`Rate over time (${r.intervalSeconds} s per bar, units and bytes with header):`];
  const most = Math.max(1, ...r.rate.map((b) => b.bytes));
  for (const b of r.rate) {
    const width = b.bytes === 0 ? 0 : Math.max(1, Math.round((b.bytes / most) * BAR_WIDTH));
    lines.push(
      `  ${`+${b.startSeconds.toFixed(3)}s`.padStart(11)} ${String(b.count).padStart(7)} ` +
        `${formatBytes(b.bytes).padStart(10)} ${"█".repeat(width)}`,
    );
  }
  return lines;
}

function roundTrips(r: StatsReport): string[] {
  if (r.roundTrips.length === 0) return ["PING → PONG round trips: none"];
  const lines = ["PING → PONG round trips (ms):"];
  lines.push(
    `  ${"channel".padEnd(12)} ${"count".padStart(6)} ${"min".padStart(9)} ` +
      `${"median".padStart(9)} ${"max".padStart(9)}`,
  );
  for (const t of r.roundTrips) {
    lines.push(
      `  ${t.channel.padEnd(12)} ${String(t.count).padStart(6)} ${
        t.minMs.toFixed(3).padStart(9)
      } ` +
        `${t.medianMs.toFixed(3).padStart(9)} ${t.maxMs.toFixed(3).padStart(9)}`,
    );
  }
  return lines;
}

function linkTimes(r: StatsReport): string[] {
  const lines = ["Link times (LINK to LINK_RESULT, ms):"];
  for (const l of r.links) {
    const where = `${l.file ? `${l.file} ` : ""}connection ${l.connection}`;
    const time = l.ms === undefined ? "no LINK_RESULT" : l.ms.toFixed(3);
    const result = l.result === undefined || l.result === 0 ? "" : `  result ${l.result}`;
    lines.push(`  ${l.channel.padEnd(12)} ${time.padStart(14)}  (${where})${result}`);
  }
  return lines;
}

/**
 * The report as text, every section after a blank line.
 *
 * @returns lines ending in "\n"
 */
export function formatStats(r: StatsReport): string {
  const head = `${r.count} unit(s), ${
    formatBytes(r.bytes)
  } with headers, over ${r.durationSeconds} s`;
  const sections = [[head], messageTables(r), ioGraph(r), roundTrips(r), linkTimes(r)];
  return sections.map((s) => s.join("\n")).join("\n\n") + "\n";
}
