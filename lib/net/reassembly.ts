/**
 * Reassembly of one direction of a TCP connection from captured segments, reporting every
 * irregularity (gap, overlap, retransmission, out-of-order arrival) with the packet number and
 * the expected versus actual sequence number.
 */
import { TCP_FLAGS } from "./types.ts";

/** One captured segment of the direction being reassembled. */
export interface TcpSegment {
  /** Sequence number from the TCP header. */
  seq: number;
  /** Bitwise OR of TCP_FLAGS. */
  flags: number;
  /** TCP payload (kept as a view while buffered out of order; not copied). */
  payload: Uint8Array;
  /** Packet number in the capture, for reporting. */
  packetNumber: number;
}

/** An irregularity found while reassembling. */
export interface ReassemblyEvent {
  /**
   * - gap: bytes never captured; reassembly skipped `length` bytes from `expectedSeq` to `seq`.
   * - overlap: the segment repeats `length` bytes already delivered, then carries new ones.
   * - retransmission: the segment (`length` bytes, or a repeated SYN/FIN) was all delivered.
   * - outOfOrder: the segment starts `seq - expectedSeq` bytes ahead; buffered until the hole fills.
   */
  kind: "gap" | "overlap" | "retransmission" | "outOfOrder";
  /** Packet that revealed it (for a gap: the packet where reassembly resumed). */
  packetNumber: number;
  /** Sequence number reassembly was waiting for. */
  expectedSeq: number;
  /** Sequence number of the segment's first data byte (or of the resumed data, for a gap). */
  seq: number;
  /** Bytes concerned (see `kind`). */
  length: number;
}

/** Outcome of one {@link TcpReassembler.push}. */
export interface ReassemblyResult {
  /** Newly in-order bytes, in order (views into the pushed payloads). */
  data: Uint8Array[];
  /** Irregularities found, in the order met. */
  events: ReassemblyEvent[];
}

/** Options of {@link TcpReassembler}. */
export interface ReassemblerOptions {
  /** Payload bytes held out of order before declaring a gap and resynchronising. @default 4 MiB */
  maxBufferedBytes?: number;
}

const SEQ_MODULUS = 0x1_0000_0000;
const DEFAULT_MAX_BUFFERED = 4 * 1024 * 1024;
/** The result of a call that found nothing (most acknowledgements): shared, never changed. */
const NOTHING: ReassemblyResult = Object.freeze({
  data: Object.freeze([]) as unknown as Uint8Array[],
  events: Object.freeze([]) as unknown as ReassemblyEvent[],
});

/** Signed distance from `b` to `a` modulo 2^32 (positive when `a` is after `b`). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

function addSeq(seq: number, n: number): number {
  return (seq + n) % SEQ_MODULUS;
}

interface Pending {
  /** First data byte. */
  start: number;
  payload: Uint8Array;
  fin: boolean;
  packetNumber: number;
}

/**
 * Reassembles one direction of a TCP connection.
 *
 * A SYN sets the initial sequence number (SYN and FIN each count one); without a SYN the first
 * segment's sequence number starts the stream. Segments ahead of the expected sequence are held
 * (up to `maxBufferedBytes`) and delivered once the hole fills; on overflow, or on
 * {@link TcpReassembler.flush}, the hole is reported as a gap and reassembly resumes at the next
 * held segment. Arithmetic is modulo 2^32, so streams may wrap.
 *
 * @example
 * ```ts
 * const r = new TcpReassembler();
 * const { data, events } = r.push({ seq: p.tcp.seq, flags: p.tcp.flags, payload: p.payload, packetNumber: 7 });
 * ```
 */
export class TcpReassembler {
  #next = 0;
  #started = false;
  #isn: number | undefined;
  #finSeq: number | undefined;
  #pending: Pending[] = [];
  #pendingBytes = 0;
  #maxBuffered: number;

  /**
   * Creates a reassembler waiting for its first segment.
   *
   * @param options out-of-order buffer limit
   */
  constructor(options?: ReassemblerOptions) {
    this.#maxBuffered = options?.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED;
  }

  /** Sequence number of the next expected byte (undefined before the first segment). */
  get expectedSeq(): number | undefined {
    return this.#started ? this.#next : undefined;
  }

  /** Whether the FIN has been delivered in order. */
  get finished(): boolean {
    return this.#finSeq !== undefined && seqDiff(this.#next, this.#finSeq) > 0;
  }

  /** Payload bytes currently held out of order. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /**
   * Adds one captured segment.
   *
   * @param seg sequence number, flags, payload and packet number
   * @returns in-order bytes now available and the irregularities found (do not modify: an
   *   empty result may be shared)
   */
  push(seg: TcpSegment): ReassemblyResult {
    const result: ReassemblyResult = { data: [], events: [] };
    const syn = (seg.flags & TCP_FLAGS.SYN) !== 0;
    const fin = (seg.flags & TCP_FLAGS.FIN) !== 0;
    const seq = seg.seq >>> 0;
    if (syn) {
      if (this.#isn === seq) {
        if (seg.payload.length === 0) {
          result.events.push(this.#event("retransmission", seg.packetNumber, seq, 1));
          return result;
        }
      } else if (!this.#started || this.#isn === undefined) {
        this.#isn = seq;
        this.#next = addSeq(seq, 1);
        this.#started = true;
      }
    }
    const start = syn ? addSeq(seq, 1) : seq;
    if (!this.#started) {
      this.#next = start;
      this.#started = true;
    }
    const length = seg.payload.length;
    if (length === 0 && !fin) return NOTHING; // pure ACK, window update, keep-alive
    const ahead = seqDiff(start, this.#next);
    if (ahead > 0) {
      result.events.push(this.#event("outOfOrder", seg.packetNumber, start, length));
      this.#hold({ start, payload: seg.payload, fin, packetNumber: seg.packetNumber }, result);
      return result;
    }
    this.#accept(start, seg.payload, fin, seg.packetNumber, result);
    this.#drain(result);
    return result;
  }

  /**
   * Declares that no more segments will come: held segments are delivered after reporting the
   * holes before them as gaps.
   *
   * @returns the bytes and gap events
   */
  flush(): ReassemblyResult {
    const result: ReassemblyResult = { data: [], events: [] };
    while (this.#pending.length > 0) this.#resync(result);
    return result;
  }

  /**
   * Handles an acknowledgement from the peer (optional): when it covers bytes never captured
   * (capture loss), they are reported as a gap and reassembly resumes at the acknowledged
   * sequence number or the first held segment, whichever is earlier.
   *
   * @param ack acknowledgement number sent by the other direction
   * @param packetNumber packet carrying it
   */
  acknowledged(ack: number, packetNumber: number): ReassemblyResult {
    if (!this.#started || seqDiff(ack >>> 0, this.#next) <= 0) return NOTHING;
    const result: ReassemblyResult = { data: [], events: [] };
    let resume = ack >>> 0;
    const first = this.#pending[0];
    if (first !== undefined && seqDiff(first.start, resume) < 0) resume = first.start;
    const skipped = seqDiff(resume, this.#next);
    if (skipped > 0) {
      result.events.push(this.#event("gap", packetNumber, resume, skipped));
      this.#next = resume;
      this.#drain(result);
    }
    return result;
  }

  #event(
    kind: ReassemblyEvent["kind"],
    packetNumber: number,
    seq: number,
    length: number,
  ): ReassemblyEvent {
    return { kind, packetNumber, expectedSeq: this.#next, seq, length };
  }

  /** Delivers a segment that starts at or before the expected sequence number. */
  #accept(
    start: number,
    payload: Uint8Array,
    fin: boolean,
    packetNumber: number,
    result: ReassemblyResult,
  ): void {
    const behind = -seqDiff(start, this.#next);
    const length = payload.length;
    const finSeq = addSeq(start, length);
    if (behind >= length) {
      // Everything already delivered, unless it is a FIN not yet counted.
      const newFin = fin && this.#finSeq === undefined && behind === length;
      if (length > 0 || (fin && !newFin)) {
        result.events.push(this.#event("retransmission", packetNumber, start, length));
      }
      if (newFin) {
        this.#finSeq = finSeq;
        this.#next = addSeq(this.#next, 1);
      }
      return;
    }
    if (behind > 0) {
      result.events.push(this.#event("overlap", packetNumber, start, behind));
    }
    const fresh = behind > 0 ? payload.subarray(behind) : payload;
    if (fresh.length > 0) result.data.push(fresh);
    this.#next = addSeq(this.#next, fresh.length);
    if (fin) {
      this.#finSeq = finSeq;
      this.#next = addSeq(this.#next, 1);
    }
  }

  #hold(p: Pending, result: ReassemblyResult): void {
    const key = seqDiff(p.start, this.#next);
    let i = this.#pending.length;
    while (i > 0 && seqDiff(this.#pending[i - 1].start, this.#next) > key) i--;
    this.#pending.splice(i, 0, p);
    this.#pendingBytes += p.payload.length;
    while (this.#pendingBytes > this.#maxBuffered && this.#pending.length > 0) {
      this.#resync(result);
    }
  }

  /** Reports the hole before the first held segment as a gap and resumes there. */
  #resync(result: ReassemblyResult): void {
    const first = this.#pending[0];
    const skipped = seqDiff(first.start, this.#next);
    if (skipped > 0) {
      result.events.push(this.#event("gap", first.packetNumber, first.start, skipped));
      this.#next = first.start;
    }
    this.#drain(result);
  }

  /** Delivers held segments that are now at or before the expected sequence number. */
  #drain(result: ReassemblyResult): void {
    while (this.#pending.length > 0 && seqDiff(this.#pending[0].start, this.#next) <= 0) {
      const p = this.#pending.shift()!;
      this.#pendingBytes -= p.payload.length;
      this.#accept(p.start, p.payload, p.fin, p.packetNumber, result);
    }
  }
}
