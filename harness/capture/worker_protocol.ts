/**
 * The messages between {@link Recording} (harness/capture/recording.ts, the relay thread) and
 * the recording worker (harness/capture/record_worker.ts). Chunks, connection opens and closes
 * go through the shared ring (harness/capture/record_ring.ts); everything else is one of these
 * structured-cloneable messages. Both sides import this module, neither imports the other.
 *
 * @module
 */
import type { Manifest, ManifestFacts } from "../../lib/capture/manifest.ts";
import type { SessionStats } from "../../lib/capture/session.ts";
import type { CaptureFormat, TsResolution } from "../../lib/pcap/types.ts";
import type { RingBuffers } from "./record_ring.ts";
import type { SnapshotTriggers } from "../../lib/capture/flight_ring.ts";

/** `capture --ring` and `--snapshot-on`, as the worker gets them. */
export interface RingModeOptions {
  /** Ring size, bytes. */
  bytes: number;
  /** Events that take a snapshot while the session runs. */
  triggers: SnapshotTriggers;
  /** Take a snapshot when the session ends. */
  onExit: boolean;
}

/** Options of the session and the recorders in the worker (structured-cloneable). */
export interface RecordingSessionOptions {
  /** Session directory (created; must not hold a session). */
  dir: string;
  /** Channel file format. @default "pcap" */
  format?: CaptureFormat;
  /** Timestamp resolution. @default "ns" */
  tsResolution?: TsResolution;
  /** Synthetic server port in the files. @default 5930 */
  serverPort?: number;
  /** host:port captured, for the manifest. @default null */
  target?: string | null;
  /** CaptureSession's period of flush and provisional manifest; 0 disables it. @default 1000 */
  flushIntervalMs?: number;
  /** CaptureSession's packet queue while a file is backed up. @default 256 */
  queueLength?: number;
  /** Record the 128-byte ticket as sent (default: zeros). */
  keepTicket?: boolean;
  /** Zero inputs key codes and mouse buttons in the record. */
  redactInputs?: boolean;
  /** Per-packet comments (pcapng). */
  comments?: boolean;
  /** Bytes relayed and not yet recorded, at most. @default 64 MiB */
  maxInFlightBytes?: number;
  /**
   * Flight recorder (`--ring`): keep the last bytes in memory, write snapshots only, into
   * `<dir>/snapshots/` (harness/capture/ring_mode.ts).
   */
  ring?: RingModeOptions;
}

/** Messages from the relay thread to the worker (chunks, opens and closes go through the ring). */
export type ToWorker =
  | { t: "start"; options: RecordingSessionOptions; ring: RingBuffers }
  | { t: "facts"; facts: ManifestFacts }
  | { t: "stats"; req: number }
  | { t: "snapshot"; reason: string }
  | { t: "end"; req: number }
  /** Tests: block the worker's thread for `ms`, as a stuck disk would. */
  | { t: "stall"; ms: number };

/** Messages from the worker to the relay thread. */
export type FromWorker =
  | { t: "ready" }
  | { t: "failed"; name: string; message: string }
  | { t: "log"; level: "info" | "warn"; message: string }
  | { t: "recorderError"; message: string }
  | { t: "snapshot"; dir: string; reason: string }
  | { t: "stats"; req: number; stats: SessionStats }
  | { t: "ended"; req: number; manifest: Manifest; stats: SessionStats };
