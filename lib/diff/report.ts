/** Text and NDJSON rendering of diff findings and the summary table. */
import type { DiffRecord, DiffSummary } from "./types.ts";
import { hexRows } from "./hexdump.ts";

const ARROW = { toServer: "client→server", toClient: "server→client" } as const;

function at(index: number | undefined, name: string | undefined): string {
  return index === undefined ? `${name}` : `#${index} ${name}`;
}

/**
 * The text report of one finding: a headline naming channel, direction, message index and name,
 * field and offset, then a hexdump excerpt (expected above actual) for byte differences.
 *
 * @param r the finding
 * @returns lines ending in a newline
 */
export function formatRecord(r: DiffRecord): string {
  const where = r.direction ? `${r.channel} ${ARROW[r.direction]}` : r.channel;
  let head: string;
  switch (r.kind) {
    case "channel-missing":
    case "channel-extra":
      return `${r.channel}: ${r.detail}\n`;
    case "missing":
      head = `${where}: missing golden message ${at(r.goldenIndex, r.goldenName)}` +
        ` (golden packet ${r.goldenPacket}): ${r.detail}`;
      break;
    case "extra":
      head = `${where}: extra message ${at(r.index, r.name)} (packet ${r.packet}): ${r.detail}`;
      break;
    case "timing":
      head = `${where}: message ${at(r.index, r.name)} (packet ${r.packet}) timing: ${r.detail}`;
      break;
    case "changed": {
      const golden = r.goldenName !== r.name || r.goldenIndex !== r.index
        ? ` (golden ${at(r.goldenIndex, r.goldenName)})`
        : "";
      const off = r.offset === undefined
        ? ""
        : ` at offset ${r.offset}${r.field ? ` (field ${r.field})` : ""}`;
      head = `${where}: message ${
        at(r.index, r.name)
      }${golden} (packet ${r.packet}) differs${off}: ${r.detail}`;
      break;
    }
  }
  const lines = [r.informational ? `(informational) ${head}` : head];
  if (r.kind === "changed" && r.offset !== undefined && r.expectedBytes && r.actualBytes) {
    lines.push(...hexRows(r.expectedBytes, r.actualBytes, { offset: r.offset }));
  }
  return lines.join("\n") + "\n";
}

/**
 * A finding as one NDJSON line (camelCase keys, no raw bytes).
 *
 * @param r the finding or the summary
 * @returns one line with a trailing newline
 */
export function recordJson(r: DiffRecord | DiffSummary): string {
  if (r.type === "summary") return JSON.stringify(r) + "\n";
  const { expectedBytes: _e, actualBytes: _a, ...rest } = r;
  return JSON.stringify(rest) + "\n";
}

/**
 * The summary table: one row per channel direction, then the verdict.
 *
 * @param s the summary
 * @returns lines ending in a newline
 */
export function formatDiffSummary(s: DiffSummary): string {
  const header = [
    "channel",
    "direction",
    "actual",
    "golden",
    "same",
    "changed",
    "missing",
    "extra",
  ];
  const rows = s.streams.map((x) => [
    x.channel,
    ARROW[x.direction],
    String(x.actualUnits),
    String(x.goldenUnits),
    String(x.same),
    String(x.changed),
    String(x.missing),
    String(x.extra),
  ]);
  const withTiming = s.streams.some((x) => x.timing > 0);
  if (withTiming) {
    header.push("timing");
    s.streams.forEach((x, i) => rows[i].push(String(x.timing)));
  }
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const fmt = (r: string[]) =>
    r.map((cell, c) => c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])).join("  ")
      .trimEnd();
  const lines = [fmt(header), ...rows.map(fmt)];
  for (const c of s.channelsMissing) lines.push(`${c}: only in the golden capture`);
  for (const c of s.channelsExtra) lines.push(`${c}: only in the actual capture`);
  if (s.informational) {
    lines.push(
      `${s.informational} informational difference${
        s.informational === 1 ? "" : "s"
      } (display messages; screens compared instead)`,
    );
  }
  if (s.screens) {
    const { checkpoints: n, differing } = s.screens;
    lines.push(
      `screens: ${n} checkpoint${n === 1 ? "" : "s"} compared, ${differing} differ${
        differing === 1 ? "s" : ""
      }`,
    );
  }
  lines.push(
    s.same
      ? "same: no differences after normalisation"
      : `differs: ${s.differences} difference${s.differences === 1 ? "" : "s"}`,
  );
  return lines.join("\n") + "\n";
}
