/** One entry point for both capture writers. */
import { PcapngWriter, type PcapngWriterOptions } from "./pcapng_writer.ts";
import { PcapWriter, type PcapWriterOptions } from "./pcap_writer.ts";
import type { CaptureFormat, InPlaceCaptureWriter } from "./types.ts";

/** Options of {@link createWriter}: the options of whichever writer the format selects. */
export type CreateWriterOptions = PcapWriterOptions & PcapngWriterOptions;

/**
 * Creates a {@link PcapWriter} or a {@link PcapngWriter}.
 *
 * For "pcapng" without `interfaces`, the one default interface takes `linkType`,
 * `snapLength` and `tsResolution` from the pcap-style options, so both formats describe
 * the same capture from the same options.
 *
 * @param format "pcap" or "pcapng"
 * @param sink destination, locked until close
 * @param options options of the selected writer
 * @returns the writer (both writers also build frames in place, see {@link InPlaceCaptureWriter})
 */
export function createWriter(
  format: CaptureFormat,
  sink: WritableStream<Uint8Array>,
  options: CreateWriterOptions = {},
): InPlaceCaptureWriter {
  if (format === "pcap") return new PcapWriter(sink, options);
  const interfaces = options.interfaces ?? [{
    linkType: options.linkType,
    snapLength: options.snapLength,
    tsResolution: options.tsResolution,
  }];
  return new PcapngWriter(sink, { ...options, interfaces });
}
