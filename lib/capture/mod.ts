/**
 * Recording SPICE channels as one capture file per channel: {@link CaptureSession}, the
 * `session.json` manifest (typed, and read only through one validator), file naming and
 * synthetic addressing, and the injectable clock.
 *
 * @module
 */
export { type Clock, steppingClock, systemClock } from "./clock.ts";
export { fileSink } from "./file_sink.ts";
export {
  type DirectionCounts,
  type DisplayCompression,
  IMAGE_COMPRESSIONS,
  type ImportedConnection,
  type ImportedFrom,
  type LossyConnection,
  type LossyNote,
  type Manifest,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type ManifestChannel,
  type ManifestConnection,
  ManifestError,
  type ManifestFacts,
  type ManifestProblem,
  MAX_FIRST_CONNECTION_DELAY_MS,
  parseManifest,
  type QemuFileHash,
  readManifest,
  type ReplayFacts,
  type ServerInfo,
  type SkippedChannel,
  type StoppedBy,
  STREAMING_VIDEO_MODES,
  type UnrecordedConnection,
  validateManifest,
  WAN_COMPRESSIONS,
  writeManifest,
} from "./manifest.ts";
export {
  channelFileName,
  CLIENT_IP,
  DEFAULT_SERVER_PORT,
  firstClientPort,
  SERVER_IP,
} from "./naming.ts";
export {
  CaptureSession,
  type CaptureSessionOptions,
  type ChannelConnection,
  type ChannelStats,
  type SessionStats,
} from "./session.ts";
export type {
  SnapshotChannel,
  SnapshotCounts,
  SnapshotFacts,
  SnapshotMidStream,
} from "./manifest_snapshot.ts";
export type { FlightChannelStats, FlightCount, FlightRingStats } from "./flight_units.ts";
