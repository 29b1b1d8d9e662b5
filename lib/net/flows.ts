/** Grouping decoded packets into bidirectional flows (connections). */
import type { DecodedPacket } from "./types.ts";

function endpoint(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/**
 * Canonical bidirectional key of the packet's flow: both endpoints as `ip:port` (IPv6 in
 * brackets), the lesser first by string order, joined by `-`. Both directions give the same key.
 *
 * @param p a decoded packet
 * @returns e.g. `"10.0.0.1:10001-10.0.0.2:5930"`
 * @example
 * ```ts
 * flowKey(decodePacket(frame, 1)); // "10.0.0.1:10001-10.0.0.2:5930"
 * ```
 */
export function flowKey(p: DecodedPacket): string {
  const src = endpoint(p.srcIp, p.srcPort);
  const dst = endpoint(p.dstIp, p.dstPort);
  return src <= dst ? `${src}-${dst}` : `${dst}-${src}`;
}

/** Whether the packet travels from the first endpoint of its {@link flowKey} to the second. */
export function isForward(p: DecodedPacket): boolean {
  return endpoint(p.srcIp, p.srcPort) <= endpoint(p.dstIp, p.dstPort);
}

/** A flow found by {@link FlowTable.lookup}. */
export interface FlowEntry<T> {
  /** The flow's {@link flowKey}. */
  key: string;
  /** State created for the flow by the table's factory. */
  value: T;
  /** Packet number (as passed to `lookup`) of the flow's first packet. */
  firstPacket: number;
  /** Source endpoint of the first packet (`ip:port`): the side that opened the flow, usually. */
  initiator: string;
}

/**
 * Per-flow state keyed by {@link flowKey}, in order of first appearance.
 *
 * @example
 * ```ts
 * const table = new FlowTable(() => ({ bytes: 0 }));
 * table.lookup(p, n).value.bytes += p.payload.length;
 * ```
 */
export class FlowTable<T> {
  #flows = new Map<string, FlowEntry<T>>();
  #create: (p: DecodedPacket, key: string) => T;

  /**
   * Creates an empty table.
   *
   * @param create makes the state of a flow on its first packet
   */
  constructor(create: (p: DecodedPacket, key: string) => T) {
    this.#create = create;
  }

  /**
   * The flow of `p`, created on first sight.
   *
   * @param p a decoded packet
   * @param packetNumber its number in the capture
   */
  lookup(p: DecodedPacket, packetNumber: number): FlowEntry<T> {
    const key = flowKey(p);
    let entry = this.#flows.get(key);
    if (entry === undefined) {
      entry = {
        key,
        value: this.#create(p, key),
        firstPacket: packetNumber,
        initiator: endpoint(p.srcIp, p.srcPort),
      };
      this.#flows.set(key, entry);
    }
    return entry;
  }

  /** Whether `p` travels from the flow's initiator (the source of its first packet). */
  fromInitiator(p: DecodedPacket, entry: FlowEntry<T>): boolean {
    return endpoint(p.srcIp, p.srcPort) === entry.initiator;
  }

  /** Number of flows. */
  get size(): number {
    return this.#flows.size;
  }

  /** Flows in order of first appearance. */
  entries(): IterableIterator<FlowEntry<T>> {
    return this.#flows.values();
  }
}
