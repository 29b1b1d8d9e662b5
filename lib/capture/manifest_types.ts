/**
 * The shape of `session.json`, every field named and typed (contract: docs/architecture.md
 * "Session directory"). The validator in manifest_validate.ts builds these values from JSON.
 */
import type { CaptureFormat, TsResolution } from "../pcap/types.ts";
import type { SnapshotFacts } from "./manifest_snapshot.ts";

export type * from "./manifest_snapshot.ts";

/** Name of the manifest file in a session directory. */
export const MANIFEST_FILE = "session.json";
/** Value of the manifest's `format` field. */
export const MANIFEST_FORMAT = "spicecap-session";
/** Schema version this code writes and the newest it reads. */
export const MANIFEST_VERSION = 1;
/**
 * Upper bound of `server.firstConnectionDelayMs`, ms. Replay waits this long before its first
 * connection, so a manifest must not make it wait for hours; a longer recorded delay is written
 * as this cap.
 */
export const MAX_FIRST_CONNECTION_DELAY_MS = 60_000;

/** One TCP connection of a channel. */
export interface ManifestConnection {
  /** Synthetic client TCP port this connection was given in the channel file. */
  clientPort: number;
  /** Open time, ns since the epoch, as a decimal string. */
  openedNs: string;
  /** Close time, ns since the epoch, as a decimal string; absent while still open. */
  closedNs?: string;
}

/** Counts per direction: `sent` client → server, `received` server → client. */
export interface DirectionCounts {
  /** Client → server. */
  sent: number;
  /** Server → client. */
  received: number;
}

/** One channel (type, id) of the session: its file and what it holds. */
export interface ManifestChannel {
  /** SPICE channel type number, 1..255 (main = 1, display = 2, …). */
  type: number;
  /** Channel type name from the tables, e.g. "display" (any name for a type they lack). */
  typeName: string;
  /** SPICE channel id, 0..255 (0 for the first channel of a type). */
  id: number;
  /** Channel file name inside the session directory, no path (e.g. "display-1.pcap"). */
  file: string;
  /** Client port of the first connection. */
  clientPort: number;
  /** Synthetic server TCP port in the channel file. */
  serverPort: number;
  /** Every TCP connection of this channel, in open order. */
  connections: ManifestConnection[];
  /** Frames with payload written, per direction. */
  packets: DirectionCounts;
  /** Payload bytes written, per direction. */
  bytes: DirectionCounts;
  /** Packets dropped because the queue was full or the file failed. */
  dropped: number;
  /** Payload bytes relayed and not written (dropped packets, lossy connections); absent: none. */
  droppedBytes?: DirectionCounts;
  /**
   * Bytes of SPICE units a connection ended inside, written as that direction's last segment
   * (commented "partial" in pcapng); absent: none.
   */
  partialBytes?: DirectionCounts;
  /** Write errors on this channel's file. */
  errors: number;
}

/** How the server was run, when spicecap started it. */
export interface ServerInfo {
  /** QEMU argv, binary first, secrets redacted. */
  commandLine: string[];
  /** Delay from server start to the first client connection, ms, 0..{@link MAX_FIRST_CONNECTION_DELAY_MS}. */
  firstConnectionDelayMs?: number;
}

/** Connections of a channel type outside the table: counted, not recorded. */
export interface SkippedChannel {
  /** The unknown channel type number. */
  type: number;
  /** How many connections of it were seen. */
  connections: number;
}

/** A connection whose recording stopped early because the recorder fell behind the relay. */
export interface LossyConnection {
  /** Channel file, when the connection was being recorded. */
  file: string | null;
  /** Channel name ("display", "display-1"; "?" before the link). */
  channel: string;
  /** Synthetic client port, when the connection was being recorded. */
  clientPort: number | null;
  /** The direction whose chunk did not fit. */
  trigger: "toServer" | "toClient";
  /** Relay chunks not recorded, per direction. */
  droppedChunks: DirectionCounts;
  /** Bytes of those chunks, per direction. */
  droppedBytes: DirectionCounts;
}

/** The `lossy` note of a capture whose recorder fell behind. */
export interface LossyNote {
  /** What the list means, for a human reading the file. */
  note: string;
  /** One entry per connection cut short. */
  connections: LossyConnection[];
}

/**
 * A relayed connection that is in no channel file: not SPICE, a channel type outside the
 * tables, or closed before its link named a channel.
 */
export interface UnrecordedConnection {
  /** Why it was not recorded, in words. */
  reason: string;
  /** Channel name when the link named one ("display-1"), else null. */
  channel: string | null;
  /** Connections this entry stands for, when past the list's cap they are summed; absent: 1. */
  connections?: number;
  /** Open time, ns since the epoch, as a decimal string. */
  openedNs: string;
  /** Close time, ns since the epoch, as a decimal string. */
  closedNs?: string;
  /** Bytes relayed, per direction. */
  bytes: DirectionCounts;
  /** The first bytes relayed each way (up to 16), as lowercase hex. */
  firstBytes: { sent: string; received: string };
}

/** Values of QEMU's `-spice image-compression=`. */
export const IMAGE_COMPRESSIONS = ["off", "quic", "lz", "glz", "auto_lz", "auto_glz"] as const;
/** Values of QEMU's `-spice jpeg-wan-compression=` and `zlib-glz-wan-compression=`. */
export const WAN_COMPRESSIONS = ["always", "never", "auto"] as const;
/** Values of QEMU's `-spice streaming-video=`. */
export const STREAMING_VIDEO_MODES = ["off", "all", "filter"] as const;

/**
 * How our QEMU was told to compress the display channel (capture's `--image-compression`,
 * `--jpeg-wan`, `--zlib-glz-wan` and `--streaming-video`); a setting not given is absent and
 * QEMU's default applied (auto_glz, auto, auto, off).
 */
export interface DisplayCompression {
  /** `image-compression=`: the lossless codec for images. */
  imageCompression?: (typeof IMAGE_COMPRESSIONS)[number];
  /** `jpeg-wan-compression=`: JPEG for photo-like images ("auto": only on a slow link). */
  jpegWan?: (typeof WAN_COMPRESSIONS)[number];
  /** `zlib-glz-wan-compression=`: zlib over GLZ ("auto": only on a slow link). */
  zlibGlzWan?: (typeof WAN_COMPRESSIONS)[number];
  /** `streaming-video=`: which regions may become MJPEG video streams. */
  streamingVideo?: (typeof STREAMING_VIDEO_MODES)[number];
}

/** Why a capture stopped. */
export type StoppedBy = "client-exit" | "duration" | "signal" | "server-exit";

/** What a replay did (`replay` field of a replay's session). */
export interface ReplayFacts {
  /** Session directory or channel file replayed. */
  source: string;
  /** "max" or the speed-up factor. */
  speed: "max" | number;
  /** Client messages sent. */
  sent: number;
  /** `--until`, or null. */
  until: number | null;
  /** Divergence message, or null. */
  diverged: string | null;
  /** Stopped by an interrupt (SIGINT, SIGTERM) before it ended; absent in older sessions. */
  interrupted?: boolean;
  /** What inputs waited for besides causality: "screen" (`--gate screen`) or "none". */
  gate?: "screen" | "none";
  /** What a replay that ran to its end fell short of (one line), or null. */
  short?: string | null;
}

/**
 * One file QEMU was given to read (`-kernel`, `-initrd`, `-bios`, a disk image …) and its
 * contents' SHA-256, so a replay can refuse a different file (`qemuFiles`).
 */
export interface QemuFileHash {
  /** The option that named it: `-kernel`, `-drive`, `-fw_cfg` …. */
  option: string;
  /** The path as the command line gave it. */
  path: string;
  /** Lowercase hex SHA-256 of the contents. */
  sha256: string;
  /** Size in bytes. */
  size: number;
  /** `capture --bundle`: its copy's plain file name in the session directory's `bundle/`. */
  bundled?: string;
}

/** One TCP connection found in an imported capture. */
export interface ImportedConnection {
  /** Client address, `ip:port`. */
  client: string;
  /** Server address, `ip:port`. */
  server: string;
  /** SPICE channel type from the link message, or null when there was none. */
  channelType: number | null;
  /** SPICE channel id from the link message, or null. */
  channelId: number | null;
}

/** Where an imported session came from (`importedFrom`). */
export interface ImportedFrom {
  /** The capture file imported, or null for a stream. */
  file: string | null;
  /** Every TCP connection of it. */
  connections: ImportedConnection[];
}

/**
 * Facts that capture, replay and import add beside the counts; every one optional. Set with
 * `CaptureSession.setFacts`.
 */
export interface ManifestFacts {
  /** host:port captured, or null. */
  target?: string | null;
  /** How the server was run when spicecap started it; null when it was already running. */
  server?: ServerInfo | null;
  /** SPICE session id of the main channel's INIT (0..2³²-1). */
  sessionId?: number;
  /** Flight-recorder snapshot (`capture --ring`): why, what it covers, what it lost. */
  snapshot?: SnapshotFacts;
  /** Capture: every file our QEMU was given to read, with its SHA-256 (replay checks them). */
  qemuFiles?: QemuFileHash[];
  /** Capture: the display compression settings our QEMU was started with. */
  displayCompression?: DisplayCompression;
  /** Secrets removed from the capture ("ticket", "password"). */
  scrubbed?: string[];
  /** Channels whose payloads were redacted ("inputs"). */
  redacted?: string[];
  /** Why the capture stopped. */
  stoppedBy?: StoppedBy;
  /** Errors of the per-connection recorders (framing the stream). */
  recorderErrors?: number;
  /** Connections the recorder could not keep up with. */
  lossy?: LossyNote;
  /** Connections relayed but in no channel file, with what they carried. */
  unrecorded?: UnrecordedConnection[];
  /** Replay: the session replayed. */
  replayOf?: string;
  /** Replay: recorded messages not sent because the replay regenerates them, by name. */
  droppedFromReplay?: Record<string, number>;
  /** Replay: what it did. */
  replay?: ReplayFacts;
  /** Import: the capture imported. */
  importedFrom?: ImportedFrom;
  /** Import: true when some streams could not be read whole. */
  partial?: boolean;
}

/** Contents of `session.json`. */
export interface Manifest extends ManifestFacts {
  /** Always {@link MANIFEST_FORMAT}; readers reject anything else. */
  format: typeof MANIFEST_FORMAT;
  /** Schema version, 1..{@link MANIFEST_VERSION}; readers reject a newer one. */
  version: number;
  /** Program that wrote the session and its version. */
  tool: { name: string; version: string };
  /** ISO time of the session start. */
  started: string;
  /** ISO time of close, absent while capturing. */
  stopped?: string;
  /** False while capturing (or when the capture was killed): counts may trail the files. */
  complete: boolean;
  /** host:port captured, or null. */
  target: string | null;
  /** How the server was run when spicecap started it; null when it was already running. */
  server: ServerInfo | null;
  /** Timestamp resolution of the channel files. */
  tsResolution: TsResolution;
  /** File format of the channel files. */
  captureFormat: CaptureFormat;
  /** Synthetic server TCP port used in every channel file. */
  serverPort: number;
  /** True when timestamps count from the session start instead of the epoch. */
  relativeTime: boolean;
  /** One entry per (type, id) channel recorded. */
  channels: ManifestChannel[];
  /** Connections of channel types outside the table: not recorded. */
  skipped: SkippedChannel[];
  /** Sum of channel drops. */
  dropped: number;
  /** Sink errors, one line each. */
  errors: string[];
}
