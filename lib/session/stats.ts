/**
 * Session statistics for `stats`: per channel and direction, the message names with their counts
 * and bytes; the rate over time in buckets; PING → PONG round trips per channel; and how long each
 * connection's link took (LINK to LINK_RESULT). Fed one unit at a time, in any file order.
 */
import type { Direction } from "../net/types.ts";
import { COMMON_CLIENT_MESSAGES, COMMON_SERVER_MESSAGES } from "../spice/tables.ts";
import { channelLabel, unitName } from "./message_text.ts";
import type { MessageEvent } from "./types.ts";

/** One message name within a channel direction. */
export interface StatsType {
  /** The name inspect prints (`DRAW_COPY`, `LINK_REPLY`). */
  name: string;
  /** Units of that name. */
  count: number;
  /** Their bytes on the wire, header included (inspect's size). */
  bytes: number;
}

/** One channel direction. */
export interface StatsChannel {
  /** Channel label as inspect prints it: `main`, `display-1`. */
  channel: string;
  /** Which way the units went. */
  direction: Direction;
  /** Units, link phase included. */
  count: number;
  /** Bytes on the wire, header included. */
  bytes: number;
  /** Per name, most bytes first. */
  types: StatsType[];
}

/** One bucket of the rate over time. */
export interface StatsBucket {
  /** Start of the bucket, seconds after the first unit. */
  startSeconds: number;
  /** Units completed in it, both directions. */
  count: number;
  /** Their bytes, header included. */
  bytes: number;
}

/** PING → PONG round trips of one channel. */
export interface StatsRoundTrips {
  /** Channel label. */
  channel: string;
  /** PINGs answered by a PONG with the same id. */
  count: number;
  /** Shortest, median and longest round trip in ms (capture time: PING seen to PONG seen). */
  minMs: number;
  medianMs: number;
  maxMs: number;
}

/** The link phase of one connection. */
export interface StatsLink {
  /** Channel label. */
  channel: string;
  /** Channel file the connection is in. */
  file?: string;
  /** Connection index within the file (inspect's `connection`). */
  connection: number;
  /** LINK to LINK_RESULT in ms; undefined when the link never finished. */
  ms?: number;
  /** The LINK_RESULT's code (0 is OK). */
  result?: number;
}

/** Everything {@link SessionStats} found. */
export interface StatsReport {
  /** Every unit counted. */
  count: number;
  /** Their bytes, header included. */
  bytes: number;
  /** From the first unit to the last, seconds. */
  durationSeconds: number;
  /** Channel directions, in channel order then toServer before toClient. */
  channels: StatsChannel[];
  /** Bucket width of {@link rate}, seconds. */
  intervalSeconds: number;
  /** The rate over time, one bucket per interval from the first unit, empty ones included. */
  rate: StatsBucket[];
  /** Round trips per channel that had any. */
  roundTrips: StatsRoundTrips[];
  /** Every connection that sent a LINK. */
  links: StatsLink[];
}

const PING = [...COMMON_SERVER_MESSAGES].find(([, n]) => n === "PING")![0];
const PONG = [...COMMON_CLIENT_MESSAGES].find(([, n]) => n === "PONG")![0];

interface ConnState {
  link: StatsLink;
  linkTsNs?: bigint;
  pings: Map<number, bigint>;
}

/** Collects {@link StatsReport}: {@link push} every unit, then {@link report}. */
export class SessionStats {
  #channels = new Map<string, { c: StatsChannel; types: Map<string, StatsType> }>();
  #times: bigint[] = [];
  #sizes: number[] = [];
  #conns = new Map<string, ConnState>();
  #rtts = new Map<string, number[]>();

  /** Counts one unit. */
  push(ev: MessageEvent): void {
    const u = ev.unit;
    const label = channelLabel(ev.connection);
    const direction: Direction = u.fromClient ? "toServer" : "toClient";
    const key = `${label}\0${direction}`;
    let entry = this.#channels.get(key);
    if (!entry) {
      entry = { c: { channel: label, direction, count: 0, bytes: 0, types: [] }, types: new Map() };
      this.#channels.set(key, entry);
    }
    const name = unitName(u);
    let t = entry.types.get(name);
    if (!t) entry.types.set(name, t = { name, count: 0, bytes: 0 });
    t.count++;
    t.bytes += u.bytes.length;
    entry.c.count++;
    entry.c.bytes += u.bytes.length;
    this.#times.push(ev.tsNs);
    this.#sizes.push(u.bytes.length);
    this.#follow(ev, label);
  }

  /** Link timing and PING/PONG pairing per connection. */
  #follow(ev: MessageEvent, label: string): void {
    const u = ev.unit;
    const connKey = `${ev.file ?? ""}\0${ev.connection.index}`;
    let conn = this.#conns.get(connKey);
    if (u.kind === "link" && !conn) {
      conn = {
        link: { channel: label, file: ev.file, connection: ev.connection.index },
        pings: new Map(),
      };
      conn.linkTsNs = ev.tsNs;
      this.#conns.set(connKey, conn);
      return;
    }
    if (!conn) return;
    conn.link.channel = label;
    if (u.kind === "linkResult" && conn.linkTsNs !== undefined) {
      conn.link.ms = nsToMs(ev.tsNs - conn.linkTsNs);
      conn.link.result = u.bytes.length >= 4
        ? new DataView(u.bytes.buffer, u.bytes.byteOffset).getUint32(0, true)
        : undefined;
    }
    if (u.kind !== "message" || u.bytes.length < u.headerSize + 4) return;
    const id = new DataView(u.bytes.buffer, u.bytes.byteOffset + u.headerSize).getUint32(0, true);
    if (!u.fromClient && u.type === PING) conn.pings.set(id, ev.tsNs);
    if (u.fromClient && u.type === PONG) {
      const sent = conn.pings.get(id);
      if (sent === undefined) return;
      conn.pings.delete(id);
      let list = this.#rtts.get(label);
      if (!list) this.#rtts.set(label, list = []);
      list.push(nsToMs(ev.tsNs - sent));
    }
  }

  /**
   * The statistics so far.
   *
   * @param options `intervalSeconds`: bucket width of the rate (> 0)
   */
  report(options: { intervalSeconds: number }): StatsReport {
    const channels = [...this.#channels.values()].map(({ c, types }) => ({
      ...c,
      types: [...types.values()].sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name)),
    })).sort((a, b) => a.channel.localeCompare(b.channel) || (a.direction === "toServer" ? -1 : 1));
    const roundTrips = [...this.#rtts].map(([channel, list]) => {
      const sorted = list.sort((a, b) => a - b);
      return {
        channel,
        count: sorted.length,
        minMs: sorted[0],
        medianMs: median(sorted),
        maxMs: sorted[sorted.length - 1],
      };
    }).sort((a, b) => a.channel.localeCompare(b.channel));
    const links = [...this.#conns.values()].map((c) => c.link);
    const { rate, durationSeconds } = this.#rate(options.intervalSeconds);
    const bytes = this.#sizes.reduce((a, b) => a + b, 0);
    return {
      count: this.#sizes.length,
      bytes,
      durationSeconds,
      channels,
      intervalSeconds: options.intervalSeconds,
      rate,
      roundTrips,
      links,
    };
  }

  /** How many buckets {@link report} would make for this interval. */
  bucketCount(intervalSeconds: number): number {
    if (this.#times.length === 0) return 0;
    const [first, last] = this.#span();
    return Math.floor(Number(last - first) / 1e9 / intervalSeconds) + 1;
  }

  #span(): [bigint, bigint] {
    let first = this.#times[0];
    let last = first;
    for (const t of this.#times) {
      if (t < first) first = t;
      if (t > last) last = t;
    }
    return [first, last];
  }

  #rate(intervalSeconds: number): { rate: StatsBucket[]; durationSeconds: number } {
    if (this.#times.length === 0) return { rate: [], durationSeconds: 0 };
    const [first, last] = this.#span();
    const rate: StatsBucket[] = Array.from(
      { length: this.bucketCount(intervalSeconds) },
      (_, i) => ({ startSeconds: round(i * intervalSeconds), count: 0, bytes: 0 }),
    );
    for (let i = 0; i < this.#times.length; i++) {
      const b = rate[Math.floor(Number(this.#times[i] - first) / 1e9 / intervalSeconds)];
      b.count++;
      b.bytes += this.#sizes[i];
    }
    return { rate, durationSeconds: round(Number(last - first) / 1e9) };
  }
}

function nsToMs(ns: bigint): number {
  return round(Number(ns) / 1e6);
}

/** Rounded to microseconds' worth of decimals, so JSON stays short. */
function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function median(sorted: number[]): number {
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : round((sorted[mid - 1] + sorted[mid]) / 2);
}
