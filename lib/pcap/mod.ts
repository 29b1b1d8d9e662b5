/**
 * pcap and pcapng for spicecap: a streaming reader that detects the format, byte order and
 * timestamp resolution (memory stays flat for any file size, records are views that are
 * never overwritten), and buffered writers whose `write()` never awaits. Both sides share one
 * codec per format.
 *
 * Fast paths: read with `readCaptureBatches` (one await per up to 512 records; `readCapture`
 * pays a promise per record); write frames in place with `beginRecord` / `commitRecord`
 * (see `InPlaceCaptureWriter`: no copy, no BigInt per record), and pass `recycleChunks` for
 * a file sink.
 *
 * @example
 * ```ts
 * import { PcapWriter, readCaptureFile } from "./lib/pcap/mod.ts";
 * const w = new PcapWriter(file.writable, { tsResolution: "ns" });
 * w.write({ tsNs: 1_700_000_000_000_000_000n, data: frame });
 * await w.close();
 * for await (const r of readCaptureFile("out.pcap")) console.log(r.packetNumber, r.tsNs);
 * ```
 *
 * @module
 */
export {
  type CaptureSource,
  DEFAULT_MAX_RECORD_BYTES,
  readCapture,
  readCaptureBatches,
  readCaptureFile,
  readCaptureFileBatches,
  type ReadOptions,
} from "./reader.ts";
export { createWriter, type CreateWriterOptions } from "./writer.ts";
export { PcapWriter, type PcapWriterOptions } from "./pcap_writer.ts";
export {
  type PcapngInterfaceOptions,
  PcapngWriter,
  type PcapngWriterOptions,
} from "./pcapng_writer.ts";
export {
  type CaptureFormat,
  CaptureFormatError,
  type CaptureRecord,
  type CaptureWriter,
  type InPlaceCaptureWriter,
  type InterfaceInfo,
  LINKTYPE,
  type PacketDirection,
  type PacketToWrite,
  type RecordInfo,
  TruncatedCaptureError,
  type TsResolution,
} from "./types.ts";
