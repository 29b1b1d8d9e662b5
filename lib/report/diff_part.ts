/**
 * The `--diff GOLDEN` part of the report: the diff's records and summary as `diff` prints
 * them, each difference tied to the message of this run it concerns, plus compared screens.
 */
import { formatRecord } from "../diff/report.ts";
import type { DiffRecord, DiffSummary } from "../diff/types.ts";
import type { ReportDiff, ReportScreen } from "./types.ts";

/** Differences shown per channel direction, as `diff --max-report`; counts stay complete. */
export const MAX_DIFFERENCES_PER_STREAM = 50;

const ARROW = { toServer: "client→server", toClient: "server→client" } as const;

/** Options of {@link DiffPart}. */
export interface DiffPartOptions {
  /** The golden path as given. */
  golden: string;
  /** The message of this run completed by `packet` in the file of channel `label`, or -1. */
  messageAt: (label: string, packet: number) => number;
  /** Differences shown per channel direction. @default MAX_DIFFERENCES_PER_STREAM */
  maxPerStream?: number;
}

/** Collects what `diffCaptures` yields into the report's diff part. */
export class DiffPart {
  readonly #options: DiffPartOptions;
  readonly #shown = new Map<string, number>();
  readonly #records: ReportDiff["records"] = [];
  #summary: DiffSummary | undefined;

  /** @param options golden path, message lookup, cap */
  constructor(options: DiffPartOptions) {
    this.#options = options;
  }

  /** Takes one record or the summary. */
  push(r: DiffRecord | DiffSummary): void {
    if (r.type === "summary") {
      this.#summary = r;
      return;
    }
    const key = `${r.channel}/${r.direction ?? ""}`;
    const n = (this.#shown.get(key) ?? 0) + 1;
    this.#shown.set(key, n);
    if (n > (this.#options.maxPerStream ?? MAX_DIFFERENCES_PER_STREAM)) return;
    const message = r.packet === undefined ? -1 : this.#options.messageAt(r.channel, r.packet);
    this.#records.push({ kind: r.kind, text: formatRecord(r).trimEnd(), message });
  }

  /**
   * The part, once the summary came.
   *
   * @param screens screens compared (expected, actual, difference), when rendered
   */
  finish(screens: ReportScreen[] = []): ReportDiff {
    const s = this.#summary;
    if (!s) throw new Error("diff ended without its summary");
    return {
      golden: this.#options.golden,
      same: s.same,
      differences: s.differences,
      streams: s.streams.map((x) => ({
        channel: x.channel,
        direction: ARROW[x.direction],
        counts: [x.actualUnits, x.goldenUnits, x.same, x.changed, x.missing, x.extra, x.timing],
      })),
      channelNotes: [
        ...s.channelsMissing.map((c) => `${c}: only in the golden capture`),
        ...s.channelsExtra.map((c) => `${c}: only in the actual capture`),
      ],
      records: this.#records,
      screens,
    };
  }
}
