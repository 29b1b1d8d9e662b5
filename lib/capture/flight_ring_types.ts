/** Public types of `FlightRing`: its options and triggers, and the view a snapshot writes. */
import type { Direction } from "../net/types.ts";
import type { Clock } from "./clock.ts";
import type { ManifestFacts, UnrecordedConnection } from "./manifest.ts";
import type { KeptUnit } from "./flight_units.ts";

/** What can set off a snapshot while the session runs (`--snapshot-on`). */
export interface SnapshotTriggers {
  /** A connection closes or resets while the capture is not stopping. */
  disconnect?: boolean;
  /** A link reply or link result other than OK. */
  linkError?: boolean;
  /** A NOTIFY of error severity. */
  notifyError?: boolean;
  /** Message names (either direction, any channel) whose sight sets one off. */
  messages?: readonly string[];
}

/** Options of `FlightRing`. */
export interface FlightRingOptions {
  /** Bytes of messages kept (payload plus `UNIT_OVERHEAD_BYTES` each), > 0. */
  ringBytes: number;
  /** Time source. @default systemClock() */
  clock?: Clock;
  /** Events that call {@link FlightRingOptions.onTrigger}. */
  triggers?: SnapshotTriggers;
  /** Called when a trigger fires: `reason` as in the manifest, `detail` in words. */
  onTrigger?: (reason: string, detail: string) => void;
}

/** One connection as a snapshot sees it: every unit kept, in stream order. */
export interface RingConnectionView {
  /** When it opened, ns. */
  openedNs: bigint;
  /** When it closed, ns, if it did. */
  closedNs?: bigint;
  /** Direction of the RST that ended it, if reset. */
  resetBy?: Direction;
  /** Link phase, then state kept past the ring, then the ring's units (each in time order). */
  units: KeptUnit[];
  /** Payload bytes not kept, per direction (client → server first). */
  notKept: [number, number];
}

/** One channel as a snapshot sees it. */
export interface RingChannelView {
  /** Channel type. */
  type: number;
  /** Channel id. */
  id: number;
  /** Its connections in the order they opened. */
  connections: RingConnectionView[];
  /** Messages that fell out of the ring. */
  notKeptMessages: number;
}

/** Everything a snapshot writes. */
export interface RingView {
  /** `--ring` bytes. */
  ringBytes: number;
  /** When the view was taken, ns. */
  takenNs: bigint;
  /** Oldest and newest unit the ring holds (not counting the always-kept ones), ns. */
  fromNs: bigint;
  /** Newest unit, ns. */
  toNs: bigint;
  /** Channels in the order they opened. */
  channels: RingChannelView[];
  /** Facts for the manifest (sessionId, scrubbed, …). */
  facts: ManifestFacts;
  /** Connections relayed but in no channel. */
  unrecorded: UnrecordedConnection[];
}
