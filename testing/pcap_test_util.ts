/** Helpers shared by the lib/pcap tests: in-memory sinks, chunkings, record snapshots. */
import { readCapture, type ReadOptions } from "../lib/pcap/reader.ts";
import type { CaptureRecord } from "../lib/pcap/types.ts";
import { concatBytes } from "../lib/bytes.ts";

/** A sink that keeps copies of everything written. */
export function memorySink(): { sink: WritableStream<Uint8Array>; bytes(): Uint8Array } {
  const chunks: Uint8Array[] = [];
  return {
    sink: new WritableStream<Uint8Array>({
      write(c) {
        chunks.push(c.slice());
      },
    }),
    bytes: () => concatBytes(chunks),
  };
}

/**
 * The ways every reader test feeds its bytes: whole, byte by byte, noisy subarrays with a
 * non-zero byteOffset, and split in two at every position.
 */
export function chunkings(bytes: Uint8Array): { name: string; chunks: Uint8Array[] }[] {
  const noisy = (b: Uint8Array) => {
    const host = new Uint8Array(b.length + 7).fill(0xee);
    host.set(b, 3);
    return host.subarray(3, 3 + b.length);
  };
  const out = [
    { name: "whole", chunks: [bytes.slice()] },
    { name: "byte by byte", chunks: Array.from(bytes, (b) => Uint8Array.of(b)) },
    {
      name: "noisy 5-byte subarrays",
      chunks: Array.from(
        { length: Math.ceil(bytes.length / 5) },
        (_, i) => noisy(bytes.subarray(i * 5, i * 5 + 5)),
      ),
    },
  ];
  for (let cut = 1; cut < bytes.length; cut++) {
    out.push({
      name: `split at ${cut}`,
      chunks: [noisy(bytes.subarray(0, cut)), bytes.slice(cut)],
    });
  }
  return out;
}

/** A record as plain data, for deepEqual. */
export interface RecordSnapshot {
  packetNumber: number;
  offset: number;
  tsNs: bigint;
  interfaceId: number;
  linkType: number;
  data: number[];
  originalLength: number;
  direction?: string;
  comment?: string;
}

/** Plain-data copy of a record. */
export function snapshot(r: CaptureRecord): RecordSnapshot {
  const s: RecordSnapshot = {
    packetNumber: r.packetNumber,
    offset: r.offset,
    tsNs: r.tsNs,
    interfaceId: r.interfaceId,
    linkType: r.linkType,
    data: Array.from(r.data),
    originalLength: r.originalLength,
  };
  if (r.direction !== undefined) s.direction = r.direction;
  if (r.comment !== undefined) s.comment = r.comment;
  return s;
}

/** Reads everything; returns the records delivered and the error thrown, if any. */
export async function readAll(
  chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  options?: ReadOptions,
): Promise<{ records: RecordSnapshot[]; error?: unknown }> {
  const records: RecordSnapshot[] = [];
  try {
    for await (const r of readCapture(chunks, options)) records.push(snapshot(r));
  } catch (error) {
    return { records, error };
  }
  return { records };
}
