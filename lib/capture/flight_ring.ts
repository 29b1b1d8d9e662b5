/**
 * The flight recorder's memory (`capture --ring SIZE`): what the recorders frame goes into a
 * bounded in-memory ring of whole SPICE units per connection instead of files. The oldest
 * messages fall out once the kept bytes pass SIZE; each connection's link phase and the latest
 * state messages (flight_units.ts `stickyKeys`) are always kept. {@link FlightRing.view} hands
 * the kept units to a snapshot writer (harness/capture/snapshot_writer.ts).
 *
 * Fair share: when over SIZE, the channel holding the most bytes loses its oldest message, so
 * a quiet channel keeps its whole history while a busy one is trimmed to what is left. A
 * channel's newest unit is never dropped (a message larger than the ring is kept whole, alone).
 *
 * @module
 */
import type { Direction } from "../net/types.ts";
import type { SpiceUnit } from "../spice/types.ts";
import { channelName } from "../spice/tables.ts";
import { type Clock, systemClock } from "./clock.ts";
import type { ManifestFacts, UnrecordedConnection } from "./manifest.ts";
import type { ChannelConnection } from "./session_types.ts";
import { firstClientPort, RECONNECT_PORT_BASE } from "./naming.ts";
import {
  type FlightChannelStats,
  type FlightRingStats,
  type KeptUnit,
  stickyKeys,
  UNIT_OVERHEAD_BYTES,
  unitTrouble,
} from "./flight_units.ts";
import type {
  FlightRingOptions,
  RingChannelView,
  RingConnectionView,
  RingView,
} from "./flight_ring_types.ts";

export type { FlightChannelStats, FlightCount, FlightRingStats, KeptUnit } from "./flight_units.ts";
export type {
  FlightRingOptions,
  RingChannelView,
  RingConnectionView,
  RingView,
  SnapshotTriggers,
} from "./flight_ring_types.ts";

interface RingChannel {
  type: number;
  id: number;
  conns: RingConnection[];
  /** Bytes charged for the ring units of its connections. */
  used: number;
  notKeptMessages: number;
}

const MAX_UNRECORDED = 1000;

/** "display", or "display-1" for a channel id other than 0. */
function nameOf({ type, id }: { type: number; id: number }): string {
  return id === 0 ? channelName(type) : `${channelName(type)}-${id}`;
}

/** A connection whose units go into the ring. */
class RingConnection implements ChannelConnection {
  readonly link: KeptUnit[] = [];
  /** Units that fell out of the ring but are still the latest of their state. */
  readonly kept = new Map<string, KeptUnit>();
  /** The latest unit of each state key, wherever it is. */
  readonly latest = new Map<string, KeptUnit>();
  units: KeptUnit[] = [];
  head = 0;
  readonly next: [number, number] = [0, 0];
  readonly notKept: [number, number] = [0, 0];
  closedNs?: bigint;
  resetBy?: Direction;
  readonly ring: FlightRing;
  readonly channel: RingChannel;
  readonly openedNs: bigint;
  /** The port the snapshot will give it (assigned as `CaptureSession` does). */
  readonly clientPort: number;
  constructor(
    init: { ring: FlightRing; channel: RingChannel; openedNs: bigint; clientPort: number },
  ) {
    this.ring = init.ring;
    this.channel = init.channel;
    this.openedNs = init.openedNs;
    this.clientPort = init.clientPort;
  }

  // sent, received, partial: positional as `ChannelConnection` is (they run per relayed chunk).
  sent(bytes: Uint8Array, comment?: string, unit?: SpiceUnit): void {
    this.ring._add(this, { fromClient: true, bytes, comment, unit });
  }
  received(bytes: Uint8Array, comment?: string, unit?: SpiceUnit): void {
    this.ring._add(this, { fromClient: false, bytes, comment, unit });
  }
  partial(fromClient: boolean, bytes: Uint8Array, comment?: string): void {
    this.ring._add(this, { fromClient, bytes, comment, partial: true });
  }
  skip(): void {
    // A live connection has no gaps: the ring never skips.
  }
  close(options: { resetBy?: Direction } = {}): void {
    if (this.closedNs !== undefined) return;
    this.closedNs = this.ring.nowNs();
    this.resetBy = options.resetBy;
    this.ring._closed(this);
  }
  /** The oldest ring unit, if any beyond the newest. */
  oldest(): KeptUnit | undefined {
    return this.units.length - this.head > 1 ? this.units[this.head] : undefined;
  }
}

/**
 * Keeps the last `ringBytes` of a session's SPICE units in memory. It stands in for a
 * `CaptureSession` as the target of `ConnectionRecorder`s.
 */
export class FlightRing {
  readonly #o: FlightRingOptions;
  readonly #clock: Clock;
  readonly #floor: number;
  readonly #channels = new Map<string, RingChannel>();
  readonly #messages: ReadonlySet<string>;
  readonly #facts: ManifestFacts = {};
  readonly #unrecorded: UnrecordedConnection[] = [];
  #used = 0;
  #lastNs = 0n;
  #dropped = false;
  #stopping = false;
  #reconnections = 0;

  /**
   * An empty ring.
   *
   * @param options size, clock, triggers
   */
  constructor(options: FlightRingOptions) {
    if (!(options.ringBytes > 0)) throw new RangeError("ringBytes must be > 0");
    this.#o = options;
    this.#clock = options.clock ?? systemClock();
    this.#floor = Math.floor(options.ringBytes / 16);
    this.#messages = new Set(options.triggers?.messages ?? []);
  }

  /** Bytes charged for the units in the ring now (the always-kept ones not counted). */
  get usedBytes(): number {
    return this.#used;
  }

  /** Whether some message ever fell out of the ring. */
  get dropped(): boolean {
    return this.#dropped;
  }

  /** The capture is ending: connections that close from now on are no `disconnect`. */
  stopping(): void {
    this.#stopping = true;
  }

  /** The clock's time, never earlier than a time it gave before. */
  nowNs(): bigint {
    const t = this.#clock.nowNs();
    if (t > this.#lastNs) this.#lastNs = t;
    return this.#lastNs;
  }

  /** Starts a connection of a channel; see `CaptureSession.openConnection`. */
  openConnection(channelType: number, channelId: number): ChannelConnection | null {
    if (channelId < 0 || channelId > 255) return null;
    const key = `${channelType}:${channelId}`;
    let ch = this.#channels.get(key);
    if (!ch) {
      ch = { type: channelType, id: channelId, conns: [], used: 0, notKeptMessages: 0 };
      this.#channels.set(key, ch);
    }
    const port = ch.conns.length === 0
      ? firstClientPort(channelType, channelId)
      : RECONNECT_PORT_BASE + (this.#reconnections++ % (65536 - RECONNECT_PORT_BASE));
    const conn = new RingConnection({
      ring: this,
      channel: ch,
      openedNs: this.nowNs(),
      clientPort: port,
    });
    ch.conns.push(conn);
    return conn;
  }

  /** Lists a connection in no channel (kept for the snapshots' `unrecorded`). */
  noteUnrecorded(entry: UnrecordedConnection): void {
    if (this.#unrecorded.length < MAX_UNRECORDED) this.#unrecorded.push(structuredClone(entry));
  }

  /** Adds manifest facts for the snapshots; see `CaptureSession.setFacts`. */
  setFacts(facts: ManifestFacts): void {
    Object.assign(this.#facts, facts);
  }

  /** @internal A unit of a connection (bytes copied). */
  _add(
    conn: RingConnection,
    u: {
      fromClient: boolean;
      bytes: Uint8Array;
      comment?: string;
      unit?: SpiceUnit;
      partial?: true;
    },
  ): void {
    const d = u.fromClient ? 0 : 1;
    const kept: KeptUnit = {
      tsNs: this.nowNs(),
      fromClient: u.fromClient,
      offset: conn.next[d],
      bytes: u.bytes.slice(),
      ...(u.comment === undefined ? {} : { comment: u.comment }),
      ...(u.partial ? { partial: true } : {}),
    };
    conn.next[d] += u.bytes.length;
    const unit = u.unit;
    if (unit !== undefined && unit.kind !== "message") {
      conn.link.push(kept);
      if (this.#o.triggers?.linkError) this.#trouble(conn, unit);
      return;
    }
    if (unit !== undefined) {
      const { sticky, unsticks } = stickyKeys(conn.channel.type, unit);
      if (sticky !== undefined) {
        kept.sticky = sticky;
        conn.latest.set(sticky, kept);
        conn.kept.delete(sticky); // superseded
      } else if (unsticks !== undefined) {
        kept.unsticks = unsticks;
        conn.latest.delete(unsticks);
      }
      if (this.#o.triggers?.notifyError) this.#trouble(conn, unit);
      if (this.#messages.size > 0 && this.#messages.has(unit.name)) {
        this.#o.onTrigger?.(`message=${unit.name}`, `${this.#name(conn)}: ${unit.name}`);
      }
    }
    conn.units.push(kept);
    const cost = kept.bytes.length + UNIT_OVERHEAD_BYTES;
    conn.channel.used += cost;
    this.#used += cost;
    while (this.#used > this.#o.ringBytes && this.#evictOne());
  }

  /** @internal A connection closed. */
  _closed(conn: RingConnection): void {
    if (this.#stopping || !this.#o.triggers?.disconnect) return;
    const how = conn.resetBy === undefined
      ? "closed"
      : `reset by the ${conn.resetBy === "toServer" ? "client" : "server"}`;
    this.#o.onTrigger?.("disconnect", `${this.#name(conn)} connection ${how}`);
  }

  #name(conn: RingConnection): string {
    return nameOf(conn.channel);
  }

  #trouble(conn: RingConnection, unit: SpiceUnit): void {
    const t = unitTrouble(unit);
    if (!t) return;
    if (t.reason === "link-error" && !this.#o.triggers?.linkError) return;
    if (t.reason === "notify-error" && !this.#o.triggers?.notifyError) return;
    this.#o.onTrigger?.(t.reason, `${this.#name(conn)}: ${t.detail}`);
  }

  /** Drops the oldest unit of the fullest channel; false when nothing can go. */
  #evictOne(): boolean {
    let victim: RingChannel | undefined;
    let fallback: RingChannel | undefined;
    for (const ch of this.#channels.values()) {
      if (!ch.conns.some((c) => c.oldest() !== undefined)) continue;
      if (ch.used > this.#floor && (!victim || ch.used > victim.used)) victim = ch;
      if (!fallback || ch.used > fallback.used) fallback = ch;
    }
    victim ??= fallback;
    if (!victim) return false;
    let from: RingConnection | undefined;
    for (const c of victim.conns) {
      const o = c.oldest();
      if (o && (!from || o.tsNs < from.oldest()!.tsNs)) from = c;
    }
    this.#evict(from!);
    return true;
  }

  #evict(conn: RingConnection): void {
    const u = conn.units[conn.head];
    conn.units[conn.head++] = undefined as unknown as KeptUnit;
    if (conn.head > 1024 && conn.head * 2 > conn.units.length) {
      conn.units = conn.units.slice(conn.head);
      conn.head = 0;
    }
    const cost = u.bytes.length + UNIT_OVERHEAD_BYTES;
    conn.channel.used -= cost;
    this.#used -= cost;
    if (u.sticky !== undefined && conn.latest.get(u.sticky) === u) {
      conn.kept.set(u.sticky, u);
      return;
    }
    if (u.unsticks !== undefined) conn.kept.delete(u.unsticks);
    this.#dropped = true;
    conn.notKept[u.fromClient ? 0 : 1] += u.bytes.length;
    conn.channel.notKeptMessages++;
  }

  /**
   * Messages held and let go per channel, now.
   *
   * @returns the counters (`snapshots` empty: the ring writes none)
   */
  stats(): FlightRingStats {
    const channels = [...this.#channels.values()].map((ch): FlightChannelStats => {
      const kept = { messages: 0, bytes: ch.used };
      const notKept = { messages: ch.notKeptMessages, bytes: 0 };
      for (const c of ch.conns) {
        const inRing = c.units.length - c.head;
        kept.messages += inRing + c.kept.size;
        kept.bytes -= inRing * UNIT_OVERHEAD_BYTES;
        for (const u of c.kept.values()) kept.bytes += u.bytes.length;
        notKept.bytes += c.notKept[0] + c.notKept[1];
      }
      return { channel: nameOf(ch), kept, notKept };
    });
    return { ringBytes: this.#o.ringBytes, usedBytes: this.#used, channels, snapshots: [] };
  }

  /**
   * What a snapshot writes now: every connection's kept units in stream order. The units are
   * shared, not copied (the ring never writes a unit's bytes again).
   *
   * @returns the view
   */
  view(): RingView {
    let fromNs: bigint | undefined;
    let toNs = 0n;
    const channels = [...this.#channels.values()].map((ch): RingChannelView => ({
      type: ch.type,
      id: ch.id,
      notKeptMessages: ch.notKeptMessages,
      connections: ch.conns.map((c): RingConnectionView => {
        const ring = c.units.slice(c.head);
        if (ring.length > 0) {
          if (fromNs === undefined || ring[0].tsNs < fromNs) fromNs = ring[0].tsNs;
          if (ring[ring.length - 1].tsNs > toNs) toNs = ring[ring.length - 1].tsNs;
        }
        const kept = [...c.kept.values()].sort((a, b) => a.offset - b.offset);
        return {
          openedNs: c.openedNs,
          ...(c.closedNs === undefined ? {} : { closedNs: c.closedNs }),
          ...(c.resetBy === undefined ? {} : { resetBy: c.resetBy }),
          units: [...c.link, ...kept, ...ring],
          notKept: [c.notKept[0], c.notKept[1]],
        };
      }),
    }));
    const takenNs = this.nowNs();
    return {
      ringBytes: this.#o.ringBytes,
      takenNs,
      fromNs: fromNs ?? takenNs,
      toNs: fromNs === undefined ? takenNs : toNs,
      channels,
      facts: structuredClone(this.#facts),
      unrecorded: structuredClone(this.#unrecorded),
    };
  }
}
