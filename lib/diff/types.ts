/**
 * The types the diff modules share: what a source yields, what the normaliser makes of it, the
 * run's options, and the records and summary a diff run emits.
 */
import type { Direction } from "../net/types.ts";
import type { SpiceUnit, SpiceUnitKind } from "../spice/types.ts";

/**
 * What normalisers, rules and field layouts select units by: channel, direction, kind and
 * (messages) type.
 */
export interface UnitClass {
  /** SPICE channel type number. */
  channelType: number;
  /** True client → server. */
  fromClient: boolean;
  /** Link-phase piece or "message". */
  kind: SpiceUnitKind;
  /** Message type; undefined for link-phase units. */
  type: number | undefined;
}

/** A validated rule. */
export interface DiffRule {
  /** Channel type number; absent = every channel. */
  channel?: number;
  /** true client → server, false server → client; absent = both directions. */
  fromClient?: boolean;
  /** Message name as given (matched as `nameMatches` does) or link-phase kind; absent = all. */
  message?: string;
  /** Start of the masked range (action "mask"), offset into the compared bytes. @default 0 */
  start: number;
  /** Byte after the masked range; absent = to the end. */
  end?: number;
  /** Field name the range was resolved from, when the rule named one. */
  field?: string;
  /** "mask" ignores the range (or the whole unit without one); "ignore" drops the unit. */
  action: "mask" | "ignore";
}

/** The connection a unit was read from (a session reader's connection info fits). */
export interface DiffConnection {
  /** 0-based connection index within the channel file. */
  index: number;
  /** SPICE channel type from the connection's link message. */
  channelType?: number;
  /** SPICE channel id from the connection's link message. */
  channelId?: number;
}

/**
 * One unit read from a capture, as the diff sees it: the session reader's message events are
 * diff inputs as they are.
 */
export interface DiffInput {
  /** The unit's connection. */
  connection: DiffConnection;
  /** The framed unit. */
  unit: SpiceUnit;
  /** Timestamp of the packet that completed the unit, ns. */
  tsNs: bigint;
  /** Packet that completed the unit. */
  packetNumber: number;
}

/** A range of the compared bytes and the normaliser (or rule) that owns it. */
export interface OwnedRange {
  /** First byte, offset into the compared bytes. */
  start: number;
  /** Byte after the range (clipped to the unit's length). */
  end: number;
  /** Field name shown in reports. */
  field: string;
  /** Name of the normaliser that owns the range, or "rule" for `--rules` entries. */
  by: string;
}

/** A unit ready for comparison. */
export interface NormalisedUnit {
  /** The unit as read. */
  input: DiffInput;
  /** Message name ("INIT", "DRAW_COPY") or unit kind ("link", "ticket", …). */
  name: string;
  /** Alignment key: kind and type. */
  key: string;
  /** Compared bytes: the body for messages, the whole unit for link-phase units (a view, made on first use). */
  readonly data: Uint8Array;
  /** Offset of `data` within `input.unit.bytes`. */
  dataOffset: number;
  /** Length of `data`. */
  length: number;
  /** Ignored ranges, sorted by start. */
  masks: OwnedRange[];
  /** Ranges of u32 identifiers mapped one-to-one between the runs. */
  binds: OwnedRange[];
  /** Full-header serial, when compared. */
  serial?: bigint;
  /**
   * Where a mask running to the end of the unit starts, when one does (and the unit is that
   * long): two units masked from the same offset compare equal whatever their lengths.
   */
  readonly maskedFrom?: number;
}

/** Which normalisers are active and which extra rules apply. */
export interface NormaliseOptions {
  /** Normalisers turned off (`--keep NAME`). */
  keep?: readonly string[];
  /** Off-by-default normalisers turned on (`--normalise NAME`). */
  enable?: readonly string[];
  /** Message names dropped (`--ignore-type NAME`), matched as nameMatches does. */
  ignoreTypes?: readonly string[];
  /** Rules from `--rules FILE`. */
  rules?: readonly DiffRule[];
}

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

/** Options of diffCaptures. */
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
  /**
   * Channel types whose differences are reported as informational: they do not count in the
   * summary's `differences` nor make it differ (`diff --screens` for the display channel).
   */
  informationalChannels?: readonly number[];
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
  /** True for a difference of an informational channel: it does not make the diff differ. */
  informational?: boolean;
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
  /** Number of difference records emitted before this summary (informational ones not counted). */
  differences: number;
  /** Informational difference records emitted, when some channel was informational. */
  informational?: number;
  /** Screen checkpoints compared (`diff --screens`), and how many differ. */
  screens?: { checkpoints: number; differing: number };
  /** Counts per channel direction, client before server for each channel pair. */
  streams: StreamSummary[];
  /** Labels of channels in the golden capture only. */
  channelsMissing: string[];
  /** Labels of channels in the actual capture only. */
  channelsExtra: string[];
}
