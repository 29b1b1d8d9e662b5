/** Record loop of classic pcap files, for the streaming reader. */
import { type ByteInput, hex32 } from "./_byte_input.ts";
import {
  decodePcapFileHeader,
  PCAP_FILE_HEADER_BYTES,
  PCAP_MAX_SNAPLEN,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
} from "./pcap_codec.ts";
import { MAX_BATCH_RECORDS } from "./_byte_input.ts";
import type { CaptureRecord, InterfaceInfo } from "./types.ts";

/** What the pcap loop needs from the reader options. */
export interface PcapLoopOptions {
  maxRecordBytes: number;
  onInterface?: (i: InterfaceInfo) => void;
  onFormat?: (f: { format: "pcap"; littleEndian: boolean }) => void;
}

/**
 * Reads the file header at the start of `input`, then yields records in batches (one batch
 * per source chunk). Records longer than `min(maxRecordBytes, max(snapLength, 262144))` are
 * rejected before any buffer is allocated for them.
 *
 * @param input cursor positioned at the magic
 * @param options limits and callbacks
 * @returns batches of records
 * @throws CaptureFormatError for a bad header or record length
 * @throws TruncatedCaptureError when the input ends inside a header or record
 */
export async function* pcapBatches(
  input: ByteInput,
  options: PcapLoopOptions,
): AsyncGenerator<CaptureRecord[]> {
  if (!await input.ensure(PCAP_FILE_HEADER_BYTES)) {
    throw input.truncated(
      `a ${PCAP_FILE_HEADER_BYTES}-byte pcap file header, found ${input.available} bytes`,
      input.offset,
    );
  }
  const header = decodePcapFileHeader(input.buf.subarray(input.pos));
  if (header === undefined) throw input.formatError("a pcap magic", input.offset);
  if (header.versionMajor !== PCAP_VERSION_MAJOR) {
    throw input.formatError(
      `pcap version ${PCAP_VERSION_MAJOR}.x, found ${header.versionMajor}.${header.versionMinor}`,
      input.offset + 4,
    );
  }
  input.pos += PCAP_FILE_HEADER_BYTES;
  const le = header.littleEndian;
  const linkType = header.linkType;
  options.onFormat?.({ format: "pcap", littleEndian: le });
  options.onInterface?.({
    id: 0,
    linkType,
    snapLength: header.snapLength,
    tsResolution: header.tsResolution,
  });
  const limit = Math.min(options.maxRecordBytes, Math.max(header.snapLength, PCAP_MAX_SNAPLEN));
  const fractionNs = header.tsResolution === "ns" ? 1 : 1000;
  let packetNumber = 0;
  let lastSec = -1;
  let lastSecNs = 0n;
  let lastFraction = -1;
  let lastTsNs = 0n;
  let batch: CaptureRecord[] = [];

  for (;;) {
    // Fast path: every complete record of the current buffer, no awaits.
    let buf = input.buf;
    let view = input.view;
    let pos = input.pos;
    const end = buf.length;
    while (end - pos >= PCAP_RECORD_HEADER_BYTES && batch.length < MAX_BATCH_RECORDS) {
      const caplen = view.getUint32(pos + 8, le);
      if (caplen > limit || end - pos - PCAP_RECORD_HEADER_BYTES < caplen) break;
      const sec = view.getUint32(pos, le);
      const fraction = view.getUint32(pos + 4, le);
      if (sec !== lastSec) {
        lastSec = sec;
        lastSecNs = BigInt(sec) * 1_000_000_000n;
        lastFraction = -1;
      }
      if (fraction !== lastFraction) {
        // Frames of one SPICE message share their time: their records share the BigInt.
        lastFraction = fraction;
        lastTsNs = lastSecNs + BigInt(fraction * fractionNs);
      }
      const start = pos + PCAP_RECORD_HEADER_BYTES;
      batch.push({
        packetNumber: ++packetNumber,
        offset: input.base + pos,
        tsNs: lastTsNs,
        interfaceId: 0,
        linkType,
        // A view made by the constructor: measured ~8 ns cheaper than subarray().
        data: new Uint8Array(buf.buffer, buf.byteOffset + start, caplen),
        originalLength: view.getUint32(pos + 12, le),
      });
      pos = start + caplen;
    }
    input.pos = pos;
    if (batch.length > 0) {
      const full = batch.length === MAX_BATCH_RECORDS;
      yield batch;
      batch = [];
      if (full) continue; // more complete records may follow in this buffer
    }
    // Slow path: a record straddling chunks, the end of input, or an error.
    if (!await input.ensure(PCAP_RECORD_HEADER_BYTES)) {
      if (input.available === 0) return;
      throw input.truncated(
        `a ${PCAP_RECORD_HEADER_BYTES}-byte record header, found ${input.available} bytes`,
        input.offset,
        packetNumber + 1,
      );
    }
    buf = input.buf;
    view = input.view;
    pos = input.pos;
    const caplen = view.getUint32(pos + 8, le);
    if (caplen > limit) {
      throw input.formatError(
        `a captured length of at most ${limit} bytes (max(snap length ${header.snapLength}, ` +
          `${PCAP_MAX_SNAPLEN}) capped by maxRecordBytes ${options.maxRecordBytes}), ` +
          `found ${caplen} (${hex32(caplen)})`,
        input.offset + 8,
        packetNumber + 1,
      );
    }
    const offset = input.offset;
    if (!await input.ensure(PCAP_RECORD_HEADER_BYTES + caplen)) {
      throw input.truncated(
        `${caplen} bytes of packet data, found ${
          input.available - PCAP_RECORD_HEADER_BYTES
        } before the end of input`,
        offset + PCAP_RECORD_HEADER_BYTES,
        packetNumber + 1,
      );
    }
  }
}
