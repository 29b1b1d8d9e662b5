/**
 * The message-level diff of two captures (session directories or channel files), channel by
 * channel and direction by direction, streaming: each channel file is read once, its directions
 * aligned side by side with a bounded look-ahead, so memory does not grow with the capture.
 */
import { channelName } from "../spice/tables.ts";
import { BindingMap } from "./compare.ts";
import { diffPair, type DirectionState, type PairRun } from "./diff_pair.ts";
import { createNormalise } from "./normalise.ts";
import { activeSet } from "./normalise_plan.ts";
import type {
  ChannelRef,
  DiffOptions,
  DiffRecord,
  DiffSource,
  DiffSummary,
  StreamSummary,
} from "./types.ts";

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

  const { foldBlinks } = activeSet(options);
  const run: PairRun = { options, normalise, bindings, base, toleranceNs, foldBlinks };
  const informational = new Set(options.informationalChannels ?? []);
  let notes = 0;
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
    const info = informational.has(g.channelType ?? a.channelType ?? -1);
    for await (const r of diffPair(run, { actual, golden, a, g, dirs })) {
      if (info) {
        notes++;
        r.informational = true;
      } else differences++;
      yield r;
    }
  }
  yield {
    type: "summary",
    same: differences === 0,
    differences,
    ...(informational.size > 0 ? { informational: notes } : {}),
    streams,
    channelsMissing: missing.map(refLabel),
    channelsExtra: extra.map(refLabel),
  };
}
