/**
 * What a session's manifest says was relayed and not recorded: packets dropped from a channel
 * file, connections whose recording stopped early (`lossy`) and connections in no file at all
 * (`unrecorded`). Any of them makes the recording incomplete (docs/architecture.md "Capture").
 */
import type { DirectionCounts, Manifest } from "../capture/manifest.ts";
import type { Finding, Severity } from "./findings.ts";

/** Options of {@link checkRecordingLoss}. */
export interface RecordingLossOptions {
  /** Report the losses as warnings instead of errors (`check --allow-drops`). */
  allowDrops?: boolean;
}

function total(c: DirectionCounts | undefined): number {
  return c === undefined ? 0 : c.sent + c.received;
}

/**
 * One `manifest-drops` finding per channel or connection whose bytes were not recorded:
 * "incomplete recording: N bytes of channel X not recorded".
 *
 * @param manifest the validated manifest
 * @param file manifest path for the findings
 * @param options `allowDrops` makes them warnings
 * @returns the findings, none for a complete recording
 */
export function checkRecordingLoss(
  manifest: Manifest,
  file: string,
  options: RecordingLossOptions = {},
): Finding[] {
  const severity: Severity = options.allowDrops ? "warning" : "error";
  const out: Finding[] = [];
  const add = (what: string, actual: string) =>
    out.push({
      severity,
      code: "manifest-drops",
      file,
      message: `incomplete recording: ${what} not recorded`,
      expected: "everything relayed recorded",
      actual,
    });
  for (const ch of manifest.channels) {
    const bytes = total(ch.droppedBytes);
    if (ch.dropped === 0 && bytes === 0) continue;
    const name = ch.id === 0 ? ch.typeName : `${ch.typeName}-${ch.id}`;
    add(
      bytes > 0
        ? `${bytes} bytes of channel ${name}`
        : `${ch.dropped} packet(s) of channel ${name}`,
      `${ch.dropped} packet(s) dropped from ${ch.file}`,
    );
  }
  for (const l of manifest.lossy?.connections ?? []) {
    const bytes = total(l.droppedBytes);
    if (l.file === null && bytes > 0) {
      add(`${bytes} bytes of a connection before its link`, "lossy, in no channel file");
    }
  }
  for (const u of manifest.unrecorded ?? []) {
    const bytes = total(u.bytes);
    if (bytes === 0) continue;
    const who = u.connections === undefined ? "a connection" : `${u.connections} connections`;
    add(
      `${bytes} bytes of ${u.channel === null ? who : `channel ${u.channel}`}`,
      `${u.reason} (first bytes sent ${u.firstBytes.sent || "none"})`,
    );
  }
  return out;
}
