/**
 * The message-level diff of two captures (session directories or channel files), channel by
 * channel and direction by direction, streaming: each channel file is read once, its directions
 * aligned side by side with a bounded look-ahead, so memory does not grow with the capture.
 */
import type { Direction } from "../net/types.ts";
import { channelName } from "../spice/tables.ts";
import { BindingMap } from "./compare.ts";
import { diffPair, type DirectionState, type PairRun } from "./diff_pair.ts";
import { createNormalise, type DiffInput, type NormaliseOptions } from "./normalise.ts";

/** One channel file of a capture. */
export interface ChannelRef {
  /** From the manifest or file name; absent for a foreign single file. */
  channelType?: number;
  /** SPICE channel id, from the manifest or file name; absent for a foreign single file. */
  channelId?: number;
  /** File name, for messages. */
  file: string;
}

/** Where the diff reads units from; the harness builds one over lib/session. */
export interface DiffSource {
  /** Channel files in capture order (main first). */
  channels: ChannelRef[];
  /** Whether this is a single channel file rather than a session directory. */
  singleFile: boolean;
  /** Units of one direction of one channel file, in capture order, in batches of any size. */
  units(ref: ChannelRef, fromClient: boolean): AsyncIterable<DiffInput[]>;
  /** Units of both directions in capture order (one pass); optional. */
  allUnits?(ref: ChannelRef): AsyncIterable<DiffInput[]>;
}

/** Options of {@link diffCaptures}. */
export interface DiffOptions extends NormaliseOptions {
  /** Look-ahead of the resync, in units per side. @default 64 */
  lookahead?: number;
  /** Report matched units whose time since the capture start differs by more (ms). */
  timingToleranceMs?: number;
  /**
   * Units one direction may queue in the one-pass split before falling back to one pass per
   * direction. @default 65536
   */
  splitQueueLimit?: number;
}

/** One finding: the NDJSON `difference` object and what the text report prints. */
export interface DiffRecord {
  /** Always "difference" (the NDJSON record type). */
  type: "difference";
  /** Channel label: "display", "display-1" for id 1, or the file name of a foreign file. */
  channel: string;
  /** SPICE channel type number, when known. */
  channelType?: number;
  /** SPICE channel id, when known. */
  channelId?: number;
  /** Direction of the unit's stream. */
  direction?: Direction;
  /**
   * "changed": aligned units differ; "missing": golden unit absent from the actual capture;
   * "extra": actual unit absent from the golden; "timing": aligned units further apart in time
   * than the tolerance; "channel-missing" / "channel-extra": a whole channel on one side only.
   */
  kind: "changed" | "missing" | "extra" | "timing" | "channel-missing" | "channel-extra";
  /** Message index in its direction of the actual capture (link-phase units: undefined). */
  index?: number;
  /** Message index in its direction of the golden capture (link-phase units: undefined). */
  goldenIndex?: number;
  /** Actual unit name (message name or link-phase kind). */
  name?: string;
  /** Golden unit name (message name or link-phase kind). */
  goldenName?: string;
  /** 0-based connection index of the actual unit within its channel file. */
  connection?: number;
  /** 1-based packet number completing the actual unit in its channel file. */
  packet?: number;
  /** 1-based packet number completing the golden unit in its channel file. */
  goldenPacket?: number;
  /** First differing offset in the body (messages) or unit (link phase). */
  offset?: number;
  /** Name of the field at `offset`, when the unit's layout is known. */
  field?: string;
  /** One line saying what differs, e.g. "body length 20, expected 18". */
  detail: string;
  /** Hex of the golden bytes around `offset`. */
  expected?: string;
  /** Hex of the actual bytes around `offset`. */
  actual?: string;
  /** Compared bytes, for the text report's hexdump (not serialised). */
  expectedBytes?: Uint8Array;
  /** Compared bytes of the actual unit, for the hexdump (not serialised). */
  actualBytes?: Uint8Array;
}

/** Counts of one channel direction. */
export interface StreamSummary {
  /** Channel label, as in {@link DiffRecord.channel}. */
  channel: string;
  /** SPICE channel type number, when known. */
  channelType?: number;
  /** SPICE channel id, when known. */
  channelId?: number;
  /** Direction of the stream. */
  direction: Direction;
  /** Units of the actual capture compared (after normalisers dropped theirs). */
  actualUnits: number;
  /** Units of the golden capture compared (after normalisers dropped theirs). */
  goldenUnits: number;
  /** Aligned pairs that compare equal. */
  same: number;
  /** Aligned pairs that differ ("changed" records). */
  changed: number;
  /** Golden units with no actual counterpart ("missing" records). */
  missing: number;
  /** Actual units with no golden counterpart ("extra" records). */
  extra: number;
  /** Aligned pairs outside the timing tolerance ("timing" records). */
  timing: number;
}

/** The last event: overall result and per-stream counts. */
export interface DiffSummary {
  /** Always "summary" (the NDJSON record type). */
  type: "summary";
  /** True when no difference was found (`diff` exits 0). */
  same: boolean;
  /** Number of difference records emitted before this summary. */
  differences: number;
  /** Counts per channel direction, client before server for each channel pair. */
  streams: StreamSummary[];
  /** Labels of channels in the golden capture only. */
  channelsMissing: string[];
  /** Labels of channels in the actual capture only. */
  channelsExtra: string[];
}

function refKey(r: ChannelRef): string | undefined {
  return r.channelType === undefined ? undefined : `${r.channelType}:${r.channelId ?? 0}`;
}

function refLabel(r: ChannelRef): string {
  if (r.channelType === undefined) return r.file;
  const id = r.channelId ?? 0;
  return id === 0 ? channelName(r.channelType) : `${channelName(r.channelType)}-${id}`;
}

/** Pairs channel files: by (type, id); two single files pair with each other. */
function pairChannels(
  actual: DiffSource,
  golden: DiffSource,
): { pairs: [ChannelRef, ChannelRef][]; missing: ChannelRef[]; extra: ChannelRef[] } {
  if (actual.singleFile && golden.singleFile) {
    return { pairs: [[actual.channels[0], golden.channels[0]]], missing: [], extra: [] };
  }
  const pairs: [ChannelRef, ChannelRef][] = [];
  const missing: ChannelRef[] = [];
  const used = new Set<ChannelRef>();
  for (const g of golden.channels) {
    const a = actual.channels.find((c) =>
      !used.has(c) && (refKey(c) === refKey(g) && refKey(g) !== undefined || c.file === g.file)
    );
    if (a) {
      used.add(a);
      pairs.push([a, g]);
    } else missing.push(g);
  }
  return { pairs, missing, extra: actual.channels.filter((c) => !used.has(c)) };
}

/**
 * Diffs two captures message by message.
 *
 * @param actual the run under test
 * @param golden the expected capture
 * @param options normalisers, rules, look-ahead, timing tolerance
 * @returns differences as they are found, then one summary
 * @throws {UnknownNormaliserError} for an unknown normaliser name
 */
export async function* diffCaptures(
  actual: DiffSource,
  golden: DiffSource,
  options: DiffOptions = {},
): AsyncGenerator<DiffRecord | DiffSummary> {
  const normalise = createNormalise(options);
  const bindings = new BindingMap();
  const { pairs, missing, extra } = pairChannels(actual, golden);
  const streams: StreamSummary[] = [];
  const base: { actual?: bigint; golden?: bigint } = {};
  let differences = 0;
  const toleranceNs = options.timingToleranceMs === undefined
    ? undefined
    : BigInt(Math.round(options.timingToleranceMs * 1e6));

  for (const g of missing) {
    differences++;
    yield {
      type: "difference",
      channel: refLabel(g),
      channelType: g.channelType,
      channelId: g.channelId,
      kind: "channel-missing",
      detail: `channel ${refLabel(g)} (${g.file}) is in the golden capture only`,
    };
  }
  for (const a of extra) {
    differences++;
    yield {
      type: "difference",
      channel: refLabel(a),
      channelType: a.channelType,
      channelId: a.channelId,
      kind: "channel-extra",
      detail: `channel ${refLabel(a)} (${a.file}) is in the actual capture only`,
    };
  }

  const run: PairRun = { options, normalise, bindings, base, toleranceNs };
  for (const [a, g] of pairs) {
    const label = refLabel(g.channelType === undefined ? a : g);
    const dirs = [true, false].map((fromClient): DirectionState => ({
      fromClient,
      processed: 0,
      ac: { n: 0 },
      gc: { n: 0 },
      s: {
        channel: label,
        channelType: g.channelType ?? a.channelType,
        channelId: g.channelId ?? a.channelId,
        direction: fromClient ? "toServer" : "toClient",
        actualUnits: 0,
        goldenUnits: 0,
        same: 0,
        changed: 0,
        missing: 0,
        extra: 0,
        timing: 0,
      },
    }));
    streams.push(...dirs.map((d) => d.s));
    for await (const r of diffPair(run, actual, golden, a, g, dirs)) {
      differences++;
      yield r;
    }
  }
  yield {
    type: "summary",
    same: differences === 0,
    differences,
    streams,
    channelsMissing: missing.map(refLabel),
    channelsExtra: extra.map(refLabel),
  };
}
