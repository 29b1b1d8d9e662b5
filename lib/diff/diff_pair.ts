/**
 * One channel pair of a diff: both directions aligned at once over one pass per file (or one
 * pass per direction as the fallback), findings turned into records.
 */
import { alignStreams } from "./align.ts";
import { BlinkFolder } from "./blink.ts";
import type { BindingMap, UnitDifference } from "./compare.ts";
import { hexExcerpt } from "./hexdump.ts";
import type {
  ChannelRef,
  DiffInput,
  DiffOptions,
  DiffRecord,
  DiffSource,
  NormalisedUnit,
  StreamSummary,
} from "./types.ts";
import { DirectionSplitter, SkewError } from "./split.ts";

async function* normalised(
  batches: AsyncIterable<DiffInput[]>,
  how: {
    normalise: (u: DiffInput) => NormalisedUnit | undefined;
    counter: { n: number; baseNs?: bigint };
    blinks?: BlinkFolder;
  },
): AsyncGenerator<NormalisedUnit[]> {
  const { normalise, counter, blinks } = how;
  for await (const batch of batches) {
    if (batch.length === 0) continue;
    counter.baseNs ??= batch[0].tsNs;
    // Sized for the batch once (no growth), trimmed to what the normalisers kept.
    const out: NormalisedUnit[] = new Array(batch.length);
    let kept = 0;
    for (let i = 0; i < batch.length; i++) {
      const u = normalise(batch[i]);
      if (u && !blinks?.fold(u)) out[kept++] = u;
    }
    out.length = kept;
    counter.n += kept;
    yield out;
  }
}

/** The message index of a unit (0-based in its direction); undefined for link-phase units. */
function messageIndex(u: NormalisedUnit): number | undefined {
  return u.input.unit.kind === "message" ? u.input.unit.index : undefined;
}

/** Nanoseconds as milliseconds with three decimals, for timing details. */
function ms(ns: bigint): string {
  return (Number(ns) / 1e6).toFixed(3);
}

/** What every pair of a diff run shares. */
export interface PairRun {
  /** The options given to diffCaptures. */
  options: DiffOptions;
  /** The run's configured normaliser; undefined drops the unit. */
  normalise: (u: DiffInput) => NormalisedUnit | undefined;
  /** Bound identifiers, shared by every channel so a session id maps the same everywhere. */
  bindings: BindingMap;
  /** Time of the first unit of each capture (timing base). */
  base: { actual?: bigint; golden?: bigint };
  /** Timing tolerance in ns; absent = timing not compared. */
  toleranceNs?: bigint;
  /** Leave periodic blink draws out (`--normalise blink`). */
  foldBlinks?: boolean;
}

/** Counters and progress of one direction of a pair. */
export interface DirectionState {
  /** The direction: true client → server. */
  fromClient: boolean;
  /** This direction's counts, filled in as events are handled. */
  s: StreamSummary;
  /** Alignment events handled so far (a fallback re-run skips them). */
  processed: number;
  /** Actual side: units compared, and the time of its first unit (ns). */
  ac: { n: number; baseNs?: bigint };
  /** Golden side: units compared, and the time of its first unit (ns). */
  gc: { n: number; baseNs?: bigint };
}

/** Most records waiting for the consumer before the alignments pause. */
const MAX_PENDING_RECORDS = 256;

/**
 * Diffs one channel pair, both directions at once: one pass over each file when the sources
 * can read all units at once, else (or when the interleavings differ too much) one pass per
 * direction, skipping the alignment events already handled — alignment is deterministic.
 */
export async function* diffPair(
  run: PairRun,
  pair: {
    actual: DiffSource;
    golden: DiffSource;
    a: ChannelRef;
    g: ChannelRef;
    dirs: DirectionState[];
  },
): AsyncGenerator<DiffRecord> {
  const { actual, golden, a, g, dirs } = pair;
  const pending: DiffRecord[] = [];
  let wakeConsumer: (() => void) | undefined;
  const paused: (() => void)[] = [];
  const emit = async (r: DiffRecord) => {
    pending.push(r);
    wakeConsumer?.();
    if (pending.length >= MAX_PENDING_RECORDS) await new Promise<void>((res) => paused.push(res));
  };
  const work = (async () => {
    if (actual.allUnits && golden.allUnits) {
      const limit = run.options.splitQueueLimit;
      const sa = new DirectionSplitter(actual.allUnits(a), limit);
      const sg = new DirectionSplitter(golden.allUnits(g), limit);
      sa.pairWith(sg);
      try {
        await Promise.all(
          dirs.map((d) =>
            alignDirection(run, {
              d,
              actual: sa.stream(d.fromClient),
              golden: sg.stream(d.fromClient),
              emit,
            })
          ),
        );
        return;
      } catch (e) {
        if (!(e instanceof SkewError)) throw e;
      }
    }
    for (const d of dirs) {
      await alignDirection(run, {
        d,
        actual: actual.units(a, d.fromClient),
        golden: golden.units(g, d.fromClient),
        emit,
      });
    }
  })();
  let finished = false;
  let failure: unknown;
  work.then(() => finished = true, (e) => {
    failure = e;
    finished = true;
  }).finally(() => wakeConsumer?.());
  while (true) {
    if (pending.length > 0) {
      const batch = pending.splice(0);
      for (const res of paused.splice(0)) res();
      yield* batch;
      continue;
    }
    if (finished) break;
    await new Promise<void>((res) => wakeConsumer = res);
    wakeConsumer = undefined;
  }
  if (failure !== undefined) throw failure;
}

function folder(run: PairRun): BlinkFolder | undefined {
  return run.foldBlinks ? new BlinkFolder() : undefined;
}

/** Aligns one direction and turns its events into records and counts. */
async function alignDirection(
  run: PairRun,
  work: {
    d: DirectionState;
    actual: AsyncIterable<DiffInput[]>;
    golden: AsyncIterable<DiffInput[]>;
    emit: (r: DiffRecord) => Promise<void>;
  },
): Promise<void> {
  const { d, emit } = work;
  const { s } = d;
  const skip = d.processed;
  let seen = 0;
  d.ac = { n: 0, baseNs: run.base.actual };
  d.gc = { n: 0, baseNs: run.base.golden };
  const events = alignStreams(
    normalised(work.actual, { normalise: run.normalise, counter: d.ac, blinks: folder(run) }),
    normalised(work.golden, { normalise: run.normalise, counter: d.gc, blinks: folder(run) }),
    { lookahead: run.options.lookahead, bindings: run.bindings },
  );
  const where = {
    type: "difference" as const,
    channel: s.channel,
    channelType: s.channelType,
    channelId: s.channelId,
    direction: s.direction,
  };
  for await (const batch of events) {
    run.base.actual ??= d.ac.baseNs;
    run.base.golden ??= d.gc.baseNs;
    for (const e of batch) {
      if (seen++ < skip) continue;
      d.processed++;
      if (e.kind === "same" || e.kind === "changed") {
        if (e.kind === "same") s.same++;
        else {
          s.changed++;
          await emit(changedRecord(where, e));
        }
        const t = run.toleranceNs === undefined ? undefined : timingRecord(run, { where, pair: e });
        if (t) {
          s.timing++;
          await emit(t);
        }
      } else if (e.kind === "missing") {
        s.missing++;
        await emit({
          ...where,
          kind: "missing",
          goldenIndex: messageIndex(e.golden),
          goldenName: e.golden.name,
          goldenPacket: e.golden.input.packetNumber,
          detail: `${e.golden.name} (${e.golden.data.length} bytes) is missing`,
        });
      } else {
        s.extra++;
        await emit({
          ...where,
          kind: "extra",
          index: messageIndex(e.actual),
          name: e.actual.name,
          connection: e.actual.input.connection.index,
          packet: e.actual.input.packetNumber,
          detail: `unexpected ${e.actual.name} (${e.actual.data.length} bytes)`,
        });
      }
    }
  }
  s.actualUnits = d.ac.n;
  s.goldenUnits = d.gc.n;
}

type Where = Pick<DiffRecord, "type" | "channel" | "channelType" | "channelId" | "direction">;

function changedRecord(
  where: Where,
  e: { actual: NormalisedUnit; golden: NormalisedUnit; difference: UnitDifference },
): DiffRecord {
  const { actual: a, golden: g, difference: d } = e;
  return {
    ...where,
    kind: "changed",
    index: messageIndex(a),
    goldenIndex: messageIndex(g),
    name: a.name,
    goldenName: g.name,
    connection: a.input.connection.index,
    packet: a.input.packetNumber,
    goldenPacket: g.input.packetNumber,
    offset: d.offset,
    field: d.field,
    detail: d.detail,
    expected: d.offset === undefined ? undefined : hexExcerpt(g.data, d.offset),
    actual: d.offset === undefined ? undefined : hexExcerpt(a.data, d.offset),
    expectedBytes: g.data,
    actualBytes: a.data,
  };
}

function timingRecord(
  run: PairRun,
  at: { where: Where; pair: { actual: NormalisedUnit; golden: NormalisedUnit } },
): DiffRecord | undefined {
  const { where, pair: { actual: a, golden: g } } = at;
  const { toleranceNs, base } = run;
  if (toleranceNs === undefined || base.actual === undefined || base.golden === undefined) {
    return undefined;
  }
  const da = a.input.tsNs - base.actual;
  const dg = g.input.tsNs - base.golden;
  const delta = da > dg ? da - dg : dg - da;
  if (delta <= toleranceNs) return undefined;
  return {
    ...where,
    kind: "timing",
    index: messageIndex(a),
    goldenIndex: messageIndex(g),
    name: a.name,
    packet: a.input.packetNumber,
    goldenPacket: g.input.packetNumber,
    detail: `at ${ms(da)} ms, expected ${
      ms(dg)
    } ms (tolerance ${run.options.timingToleranceMs} ms)`,
  };
}
