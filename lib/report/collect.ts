/**
 * Collecting a session's SPICE units for the report: one pass over the units in time order
 * fills the message columns, the timeline lanes, the per-channel counts and the keys typed.
 */
import { u32le } from "../bytes.ts";
import { channelLabel, formatMessageLine, unitName } from "../session/message_text.ts";
import type { MessageEvent } from "../session/types.ts";
import { messageBody } from "../spice/messages.ts";
import { keyCodeEvents, type KeyEvent, scancodeEvents } from "../spice/scancodes.ts";
import { CHANNEL_TYPES } from "../spice/tables.ts";
import type { ReportKey, ReportLane, ReportMessages } from "./types.ts";

/** Options of {@link MessageCollector}. */
export interface MessageCollectorOptions {
  /** Text for a unit in place of its decoded fields, as `inspect --messages` is given it. */
  describe?: (ev: MessageEvent) => string | undefined;
}

/** Per channel file and label: units and bytes per direction, connections. */
export interface CollectedChannel {
  /** Channel label. */
  label: string;
  /** Channel file. */
  file: string;
  /** Connections seen. */
  connections: number;
  /** Units client → server. */
  toServer: number;
  /** Units server → client. */
  toClient: number;
  /** Unit bytes client → server. */
  bytesToServer: number;
  /** Unit bytes server → client. */
  bytesToClient: number;
}

/** What {@link MessageCollector.finish} returns. */
export interface CollectedMessages {
  /** Absolute time of the first unit, µs since the epoch (0 without units). */
  startUs: number;
  /** Last unit's time, µs from the start. */
  durationUs: number;
  /** Lanes in order of first appearance. */
  lanes: ReportLane[];
  /** Unit names. */
  names: string[];
  /** Field texts. */
  texts: string[];
  /** Columns, times relative to `startUs`. */
  messages: ReportMessages;
  /** Keys typed. */
  keys: ReportKey[];
  /** Channels in order of first appearance. */
  channels: CollectedChannel[];
}

const KEY_DOWN = 101;
const KEY_UP = 102;
const KEY_SCANCODE = 104;

/** Interning of strings into a table: value → index. */
class Interner {
  readonly list: string[] = [];
  readonly #index = new Map<string, number>();
  /** The index of `s`, added when new. */
  of(s: string): number {
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.#index.set(s, i);
    }
    return i;
  }
}

/** Key events of an inputs-channel client message, or none. */
function keyEventsOf(ev: MessageEvent): KeyEvent[] {
  const u = ev.unit;
  if (u.kind !== "message" || !u.fromClient) return [];
  if (ev.connection.channelType !== CHANNEL_TYPES.inputs) return [];
  const body = messageBody(u);
  if ((u.type === KEY_DOWN || u.type === KEY_UP) && body.length >= 4) {
    return keyCodeEvents(u32le(body, 0));
  }
  if (u.type === KEY_SCANCODE) return scancodeEvents(Array.from(body));
  return [];
}

/** Builds the report's message data from units fed in time order. */
export class MessageCollector {
  readonly #describe?: (ev: MessageEvent) => string | undefined;
  readonly #names = new Interner();
  readonly #texts = new Interner();
  readonly #lanes: ReportLane[] = [];
  readonly #laneIndex = new Map<string, number>();
  readonly #channels = new Map<string, CollectedChannel>();
  readonly #connectionsPerLabel = new Map<string, number>();
  readonly #nthOfConnection = new Map<string, number>();
  readonly #columns: ReportMessages = {
    t: [],
    lane: [],
    name: [],
    index: [],
    size: [],
    text: [],
    packet: [],
  };
  readonly #keys: ReportKey[] = [];
  readonly #packets = new Map<string, { packets: number[]; messages: number[] }>();

  /** @param options the field text for a unit, as inspect's */
  constructor(options: MessageCollectorOptions = {}) {
    this.#describe = options.describe;
  }

  /** Units so far. */
  get count(): number {
    return this.#columns.t.length;
  }

  /** Adds one unit; units must come in time order (inspect's order). */
  push(ev: MessageEvent): void {
    const u = ev.unit;
    const index = this.#columns.t.length;
    const file = ev.file ?? "";
    const lane = this.#lane(ev, file);
    const name = unitName(u);
    const line = formatMessageLine(ev, { describe: this.#describe });
    const number = u.kind === "message" ? `#${u.index} ` : "";
    const head = `${this.#lanes[lane].label.padEnd(9)} ${u.fromClient ? "→" : "←"} ${number}` +
      `${name} ${u.bytes.length}`;
    const at = line.indexOf(head);
    const text = at < 0 ? "" : line.slice(at + head.length + 1);
    const c = this.#columns;
    c.t.push(Number(ev.tsNs / 1000n));
    c.lane.push(lane);
    c.name.push(this.#names.of(name));
    c.index.push(u.kind === "message" ? u.index : -1);
    c.size.push(u.bytes.length);
    c.text.push(this.#texts.of(text));
    c.packet.push(ev.packetNumber);
    let byFile = this.#packets.get(file);
    if (!byFile) this.#packets.set(file, byFile = { packets: [], messages: [] });
    byFile.packets.push(ev.packetNumber);
    byFile.messages.push(index);
    for (const k of keyEventsOf(ev)) {
      this.#keys.push({
        message: index,
        key: k.key?.name ?? `0x${k.code.toString(16)}`,
        down: k.down,
      });
    }
    const ch = this.#channel(ev, file);
    if (u.fromClient) {
      ch.toServer++;
      ch.bytesToServer += u.bytes.length;
    } else {
      ch.toClient++;
      ch.bytesToClient += u.bytes.length;
    }
    if (u.kind !== "message") this.#lanes[lane].linkEndUs = c.t[index];
  }

  /**
   * The first message of `file` completed at or after `packet` (the message a finding about
   * that packet concerns), or the file's last message before it; -1 when the file has none.
   */
  messageAt(file: string, packet: number): number {
    const p = this.#packets.get(file);
    if (!p || p.packets.length === 0) return -1;
    let lo = 0;
    let hi = p.packets.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (p.packets[mid] < packet) lo = mid + 1;
      else hi = mid;
    }
    return p.messages[Math.min(lo, p.packets.length - 1)];
  }

  /** The collected data, times made relative to the first unit. */
  finish(): CollectedMessages {
    const t = this.#columns.t;
    let start = Infinity;
    for (const v of t) if (v < start) start = v;
    if (start === Infinity) start = 0;
    let last = 0;
    for (let i = 0; i < t.length; i++) {
      t[i] -= start;
      if (t[i] > last) last = t[i];
    }
    for (const l of this.#lanes) if (l.linkEndUs >= 0) l.linkEndUs -= start;
    return {
      startUs: start,
      durationUs: last,
      lanes: this.#lanes,
      names: this.#names.list,
      texts: this.#texts.list,
      messages: this.#columns,
      keys: this.#keys,
      channels: [...this.#channels.values()],
    };
  }

  #lane(ev: MessageEvent, file: string): number {
    const toServer = ev.unit.fromClient;
    const conn = `${file}#${ev.connection.index}`;
    const key = `${conn}#${toServer ? 1 : 0}`;
    let lane = this.#laneIndex.get(key);
    if (lane !== undefined) return lane;
    const label = channelLabel(ev.connection);
    let nth = this.#nthOfConnection.get(conn);
    if (nth === undefined) {
      nth = (this.#connectionsPerLabel.get(label) ?? 0) + 1;
      this.#connectionsPerLabel.set(label, nth);
      this.#nthOfConnection.set(conn, nth);
      const ch = this.#channel(ev, file);
      ch.connections++;
    }
    lane = this.#lanes.length;
    this.#lanes.push({
      label,
      file,
      connection: ev.connection.index,
      nth,
      toServer,
      linkEndUs: -1,
    });
    this.#laneIndex.set(key, lane);
    return lane;
  }

  #channel(ev: MessageEvent, file: string): CollectedChannel {
    const label = channelLabel(ev.connection);
    const key = `${file}#${label}`;
    let ch = this.#channels.get(key);
    if (!ch) {
      ch = {
        label,
        file,
        connections: 0,
        toServer: 0,
        toClient: 0,
        bytesToServer: 0,
        bytesToClient: 0,
      };
      this.#channels.set(key, ch);
    }
    return ch;
  }
}
