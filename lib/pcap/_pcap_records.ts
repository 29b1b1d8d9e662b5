/** Record loop of classic pcap files, for the streaming reader. */
import { type ByteInput, hex32, MAX_BATCH_RECORDS } from "./_byte_input.ts";
import {
  decodePcapFileHeader,
  PCAP_FILE_HEADER_BYTES,
  PCAP_MAX_SNAPLEN,
  PCAP_RECORD_HEADER_BYTES,
  PCAP_VERSION_MAJOR,
} from "./pcap_codec.ts";
import type { CaptureRecord, InterfaceInfo } from "./types.ts";

/** What the pcap loop needs from the reader options. */
export interface PcapLoopOptions {
  maxRecordBytes: number;
  onInterface?: (i: InterfaceInfo) => void;
  onFormat?: (f: { format: "pcap"; littleEndian: boolean }) => void;
}

/** Reader state: the file header's facts, the packet counter, the last timestamp. */
interface PcapState {
  input: ByteInput;
  le: boolean;
  linkType: number;
  /** Snap length declared in the file header. */
  snapLength: number;
  /** Largest captured length accepted. */
  limit: number;
  /** Nanoseconds per timestamp fraction unit: 1000 (µs) or 1 (ns). */
  fractionNs: number;
  packetNumber: number;
  /** Seconds and fraction of the last timestamp, and their values in ns. */
  lastSec: number;
  lastSecNs: bigint;
  lastFraction: number;
  lastTsNs: bigint;
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
  const s = await readFileHeader(input, options);
  let batch: CaptureRecord[] = [];
  for (;;) {
    appendCompleteRecords(s, batch);
    if (batch.length > 0) {
      const full = batch.length === MAX_BATCH_RECORDS;
      yield batch;
      batch = [];
      if (full) continue; // more complete records may follow in this buffer
    }
    // Slow path: a record straddling chunks, the end of input, or an error.
    if (!await bufferNextRecord(s, options)) return;
  }
}

/** Reads and checks the file header, reports the format and interface, and skips past it. */
async function readFileHeader(input: ByteInput, options: PcapLoopOptions): Promise<PcapState> {
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
  options.onFormat?.({ format: "pcap", littleEndian: le });
  options.onInterface?.({
    id: 0,
    linkType: header.linkType,
    snapLength: header.snapLength,
    tsResolution: header.tsResolution,
  });
  return {
    input,
    le,
    linkType: header.linkType,
    snapLength: header.snapLength,
    limit: Math.min(options.maxRecordBytes, Math.max(header.snapLength, PCAP_MAX_SNAPLEN)),
    fractionNs: header.tsResolution === "ns" ? 1 : 1000,
    packetNumber: 0,
    lastSec: -1,
    lastSecNs: 0n,
    lastFraction: -1,
    lastTsNs: 0n,
  };
}

/**
 * Fast path: appends every complete record at the read position of the current buffer, with
 * no awaits; stops before a record that straddles chunks or is too long.
 */
function appendCompleteRecords(s: PcapState, batch: CaptureRecord[]): void {
  const input = s.input;
  const { buf, view } = input;
  const { le, limit, linkType, fractionNs } = s;
  const end = buf.length;
  let pos = input.pos;
  let packetNumber = s.packetNumber;
  let { lastSec, lastSecNs, lastFraction, lastTsNs } = s;
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
  s.packetNumber = packetNumber;
  s.lastSec = lastSec;
  s.lastSecNs = lastSecNs;
  s.lastFraction = lastFraction;
  s.lastTsNs = lastTsNs;
}

/**
 * Slow path: makes the next record contiguous (it straddles chunks), or reports why it
 * cannot be read.
 *
 * @returns false at the end of the input
 * @throws CaptureFormatError for a captured length over the limit
 * @throws TruncatedCaptureError when the input ends inside the record
 */
async function bufferNextRecord(s: PcapState, options: PcapLoopOptions): Promise<boolean> {
  const input = s.input;
  const number = s.packetNumber + 1;
  if (!await input.ensure(PCAP_RECORD_HEADER_BYTES)) {
    if (input.available === 0) return false;
    throw input.truncated(
      `a ${PCAP_RECORD_HEADER_BYTES}-byte record header, found ${input.available} bytes`,
      input.offset,
      number,
    );
  }
  const caplen = input.view.getUint32(input.pos + 8, s.le);
  if (caplen > s.limit) {
    throw input.formatError(
      `a captured length of at most ${s.limit} bytes (max(snap length ${s.snapLength}, ` +
        `${PCAP_MAX_SNAPLEN}) capped by maxRecordBytes ${options.maxRecordBytes}), ` +
        `found ${caplen} (${hex32(caplen)})`,
      input.offset + 8,
      number,
    );
  }
  const offset = input.offset;
  if (!await input.ensure(PCAP_RECORD_HEADER_BYTES + caplen)) {
    throw input.truncated(
      `${caplen} bytes of packet data, found ${
        input.available - PCAP_RECORD_HEADER_BYTES
      } before the end of input`,
      offset + PCAP_RECORD_HEADER_BYTES,
      number,
    );
  }
  return true;
}
