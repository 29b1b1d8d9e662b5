/**
 * Sequence and acknowledgement invariants of one TCP connection, per direction, over plain
 * segment descriptions (no bytes). Sequence numbers are compared modulo 2^32.
 */
import { TCP_FLAGS } from "../net/types.ts";
import type { Severity } from "./findings.ts";

/** What the checker needs to know about one segment. */
export interface SegmentInput {
  /** 1-based packet number, copied into findings. */
  packetNumber: number;
  /** TCP sequence number, unsigned 32-bit. */
  seq: number;
  /** TCP acknowledgement number; only looked at when `flags` has ACK. */
  ack: number;
  /** Bitwise OR of TCP_FLAGS. */
  flags: number;
  /** TCP payload bytes (SYN and FIN add one sequence number each on top). */
  payloadLength: number;
}

/** A violated TCP invariant; the caller adds file and flow. `side` is the sender (0 or 1). */
export interface TcpFinding {
  /** A key of FINDING_CODES. */
  code: "seq-gap" | "seq-overlap" | "retransmission" | "ack-unsent" | "direction";
  /** Retransmissions and overlaps are warnings unless the checker is strict; the rest errors. */
  severity: Severity;
  /** Sender of the offending segment. */
  side: 0 | 1;
  /** Packet number of the offending segment, from its {@link SegmentInput}. */
  packetNumber: number;
  /** What went wrong, in words. */
  message: string;
  /** What the invariant expected, e.g. "seq 1001". */
  expected: string;
  /** What the segment holds instead, e.g. "seq 1201". */
  actual: string;
}

/** Options of {@link TcpConnectionChecker}. */
export interface TcpCheckOptions {
  /**
   * Our own captures never retransmit nor overlap, so those are errors there; in a foreign
   * capture they are network events (the capture is still complete) and only warnings.
   * @default false
   */
  strict?: boolean;
}

interface SideState {
  started: boolean;
  /** Next expected sequence number (highest seq + length seen so far). */
  next: number;
}

const NONE: readonly TcpFinding[] = Object.freeze([]);

/** Signed distance a − b on the 32-bit sequence circle. */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Tracks both directions of one TCP connection and reports where the sequence space breaks:
 * gaps (bytes missing from the capture), overlaps, retransmissions, acknowledgements of bytes
 * never sent, and segments that continue the *other* direction's stream (a packet addressed
 * backwards).
 *
 * @example
 * ```ts
 * const c = new TcpConnectionChecker({ strict: true });
 * c.segment(0, { packetNumber: 1, seq: 1000, ack: 0, flags: TCP_FLAGS.SYN, payloadLength: 0 });
 * ```
 */
export class TcpConnectionChecker {
  readonly #strict: boolean;
  readonly #sides: [SideState, SideState] = [
    { started: false, next: 0 },
    { started: false, next: 0 },
  ];

  /**
   * Starts with neither side seen; each side's first segment sets its sequence base.
   *
   * @param options strictness
   */
  constructor(options: TcpCheckOptions = {}) {
    this.#strict = options.strict ?? false;
  }

  /** Next expected sequence number of `side`, or undefined before its first segment. */
  nextSeq(side: 0 | 1): number | undefined {
    const s = this.#sides[side];
    return s.started ? s.next : undefined;
  }

  /**
   * Checks one segment sent by `side` and advances that side's state.
   *
   * @param side sender: 0 or 1 (the caller's endpoint numbering)
   * @param s the segment
   * @returns findings (usually none; the returned empty array is shared and frozen)
   */
  segment(side: 0 | 1, s: SegmentInput): readonly TcpFinding[] {
    const st = this.#sides[side];
    const other = this.#sides[1 - side];
    const len = s.payloadLength + ((s.flags & TCP_FLAGS.SYN) ? 1 : 0) +
      ((s.flags & TCP_FLAGS.FIN) ? 1 : 0);
    let out: TcpFinding[] | undefined;
    if (!st.started) {
      st.started = true;
      st.next = (s.seq + len) >>> 0;
    } else {
      const diff = seqDiff(s.seq, st.next);
      if (diff !== 0 && len > 0 && other.started && seqDiff(s.seq, other.next) === 0) {
        // The segment continues the other direction's stream exactly: addressed backwards.
        other.next = (s.seq + len) >>> 0;
        return [{
          code: "direction",
          severity: "error",
          side,
          packetNumber: s.packetNumber,
          message: "segment continues the opposite direction's byte stream: " +
            "source and destination are swapped",
          expected: `seq ${st.next} in this direction`,
          actual: `seq ${s.seq}, the next sequence number of the opposite direction`,
        }];
      }
      if (diff > 0 && !(len === 0 && (s.flags & TCP_FLAGS.RST))) {
        out = [{
          code: "seq-gap",
          severity: "error",
          side,
          packetNumber: s.packetNumber,
          message: `${diff} byte(s) missing before this segment`,
          expected: `seq ${st.next}`,
          actual: `seq ${s.seq}`,
        }];
        st.next = (s.seq + len) >>> 0;
      } else if (diff < 0 && len > 0) {
        const end = (s.seq + len) >>> 0;
        const severity: Severity = this.#strict ? "error" : "warning";
        if (seqDiff(end, st.next) <= 0) {
          out = [{
            code: "retransmission",
            severity,
            side,
            packetNumber: s.packetNumber,
            message: `segment repeats ${len} byte(s) already seen`,
            expected: `seq ${st.next}`,
            actual: `seq ${s.seq} (length ${len})`,
          }];
        } else {
          out = [{
            code: "seq-overlap",
            severity,
            side,
            packetNumber: s.packetNumber,
            message: `segment overlaps ${-diff} byte(s) already seen`,
            expected: `seq ${st.next}`,
            actual: `seq ${s.seq} (length ${len})`,
          }];
          st.next = end;
        }
      } else if (diff === 0) {
        st.next = (st.next + len) >>> 0;
      }
    }
    if ((s.flags & TCP_FLAGS.ACK) && other.started && seqDiff(s.ack, other.next) > 0) {
      (out ??= []).push({
        code: "ack-unsent",
        severity: "error",
        side,
        packetNumber: s.packetNumber,
        message: `acknowledges ${seqDiff(s.ack, other.next)} byte(s) the other side never sent`,
        expected: `ack ≤ ${other.next}`,
        actual: `ack ${s.ack}`,
      });
      // Those bytes were lost from the capture: report the loss once, then follow the ack.
      other.next = s.ack >>> 0;
    }
    return out ?? NONE;
  }
}
