/**
 * Flight-recorder snapshots (`capture --ring`) hold connections that start mid-stream: their
 * sequence numbers jump over the bytes the ring did not keep, and the manifest's
 * `snapshot.midStream` says so (lib/capture/manifest_snapshot.ts). There, and only there, the
 * TCP checker's "bytes missing" findings are information, up to the bytes declared.
 *
 * @module
 */
import type { SnapshotMidStream } from "../capture/manifest_snapshot.ts";
import type { TcpFinding } from "./tcp_checks.ts";

/** The TCP findings a declared jump produces: the peer's ACK of bytes not kept, a seq gap. */
const JUMP_CODES = new Set(["ack-unsent", "seq-gap"]);

/** How many bytes a jump finding reports (its message says). */
function bytesOf(f: TcpFinding): number | undefined {
  const m = /(\d+) byte/.exec(f.message);
  return m ? Number(m[1]) : undefined;
}

/** The declared mid-stream connections of one file and what is left of their allowance. */
export class MidStreamAllowance {
  readonly #left = new Map<number, number>();

  /**
   * @param entries the manifest's `snapshot.midStream` entries of this file
   */
  constructor(entries: readonly SnapshotMidStream[]) {
    for (const e of entries) {
      const n = e.notKeptBytes.sent + e.notKeptBytes.received;
      this.#left.set(e.clientPort, (this.#left.get(e.clientPort) ?? 0) + n);
    }
  }

  /**
   * The information line that replaces a TCP finding, when the finding is a jump the manifest
   * declared on this connection (and within the bytes it declared).
   *
   * @param clientPort the connection's client port
   * @param f the finding
   * @returns the message ("starts mid-stream (N bytes not kept)"), or undefined to keep `f`
   */
  excuse(clientPort: number, f: TcpFinding): string | undefined {
    if (!JUMP_CODES.has(f.code)) return undefined;
    const left = this.#left.get(clientPort);
    const n = bytesOf(f);
    if (left === undefined || n === undefined || n > left) return undefined;
    this.#left.set(clientPort, left - n);
    return `starts mid-stream (${n} bytes not kept): a flight-recorder snapshot, the ring ` +
      "had let these bytes go";
  }
}
