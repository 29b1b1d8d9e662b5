/**
 * A classic pcap of any size generated on the fly, for the memory-bound test and bench.
 * Chunks are fresh arrays of `chunkBytes` that do not line up with records, so records
 * straddle chunk boundaries all the time.
 */
import {
  encodePcapFileHeader,
  PCAP_FILE_HEADER_BYTES,
  PCAP_RECORD_HEADER_BYTES,
} from "../lib/pcap/pcap_codec.ts";

/**
 * A stream of a pcap file of at least `totalBytes` bytes with records of `packetBytes`.
 *
 * @param totalBytes minimum file size
 * @param packetBytes captured length of every record
 * @param chunkBytes size of each yielded chunk
 * @returns the stream, the number of records and the exact file size
 */
export function hugePcapStream(
  totalBytes: number,
  packetBytes: number,
  chunkBytes = 1 << 20,
): { stream: ReadableStream<Uint8Array>; records: number; fileBytes: number } {
  const recordBytes = PCAP_RECORD_HEADER_BYTES + packetBytes;
  const records = Math.ceil((totalBytes - PCAP_FILE_HEADER_BYTES) / recordBytes);
  const bodyBytes = records * recordBytes;
  const one = new Uint8Array(recordBytes);
  const v = new DataView(one.buffer);
  v.setUint32(0, 1_700_000_000, true);
  v.setUint32(4, 123_456, true);
  v.setUint32(8, packetBytes, true);
  v.setUint32(12, packetBytes, true);
  for (let i = PCAP_RECORD_HEADER_BYTES; i < recordBytes; i++) one[i] = i & 0xff;
  // Enough repeated records that any chunk is a slice of it at offset (position % record).
  const pattern = new Uint8Array(chunkBytes + recordBytes);
  for (let at = 0; at < pattern.length; at += recordBytes) {
    pattern.set(one.subarray(0, Math.min(recordBytes, pattern.length - at)), at);
  }
  let sent = -1; // -1: file header not sent yet
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent < 0) {
        controller.enqueue(encodePcapFileHeader({
          littleEndian: true,
          tsResolution: "us",
          snapLength: 262_144,
          linkType: 1,
        }));
        sent = 0;
        return;
      }
      if (sent >= bodyBytes) {
        controller.close();
        return;
      }
      const n = Math.min(chunkBytes, bodyBytes - sent);
      const phase = sent % recordBytes;
      controller.enqueue(pattern.slice(phase, phase + n));
      sent += n;
    },
  }, { highWaterMark: 0 });
  return { stream, records, fileBytes: PCAP_FILE_HEADER_BYTES + bodyBytes };
}
