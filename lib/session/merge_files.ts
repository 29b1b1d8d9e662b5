/** Merging a session's channel files into one time-ordered pcapng, one interface per channel. */
import { decodePacket } from "../net/decode.ts";
import { PcapngWriter } from "../pcap/pcapng_writer.ts";
import { readCaptureFileBatches } from "../pcap/reader.ts";
import { timestampProblem } from "../pcap/time_limits.ts";
import {
  CaptureFormatError,
  type CaptureRecord,
  type InterfaceInfo,
  type PacketDirection,
} from "../pcap/types.ts";
import { mergeByTime } from "./merge.ts";
import type { SessionFile } from "./session_files.ts";

/** Options of {@link mergeFiles}. */
export interface MergeOptions {
  /**
   * Fill in the pcapng direction flag from our synthetic addressing (10.0.0.1 is the client,
   * outbound) for records that have none, as classic pcap channel files do. @default true
   */
  deriveDirection?: boolean;
  /** `shb_userappl`. @default "spicecap merge" */
  application?: string;
  /** Buffered bytes that trigger a write to the sink. @default 1 MiB */
  flushBytes?: number;
}

/** Totals of a merge. */
export interface MergeResult {
  /** Packets written to the merged file. */
  packets: number;
  /** Packets per input file, in input order. */
  perFile: number[];
}

const OUR_CLIENT_IP = "10.0.0.1";
const OUR_SERVER_IP = "10.0.0.2";

async function* records(
  f: SessionFile,
  onInterface: (i: InterfaceInfo) => void,
): AsyncGenerator<CaptureRecord> {
  for await (const batch of readCaptureFileBatches(f.path, { file: f.file, onInterface })) {
    yield* batch;
  }
}

function ourDirection(r: CaptureRecord): PacketDirection | undefined {
  const p = decodePacket(r.data, r.linkType);
  if (p.srcIp === OUR_CLIENT_IP && p.dstIp === OUR_SERVER_IP) return "outbound";
  if (p.srcIp === OUR_SERVER_IP && p.dstIp === OUR_CLIENT_IP) return "inbound";
  return undefined;
}

/**
 * Merges capture files into one pcapng by timestamp (a streaming k-way merge): interface i is
 * file i's first interface, named after the file; direction flags and comments are kept.
 *
 * @param files the inputs, e.g. a session's channel files in manifest order
 * @param sink where the pcapng goes
 * @param options direction derivation, application name
 * @returns packet counts
 * @throws CaptureFormatError from a bad input file, or a time past what a nanosecond pcapng
 * holds (2554), naming the file and packet (the output is then incomplete)
 */
export async function mergeFiles(
  files: readonly SessionFile[],
  sink: WritableStream<Uint8Array>,
  options: MergeOptions = {},
): Promise<MergeResult> {
  const derive = options.deriveDirection ?? true;
  const flushBytes = options.flushBytes ?? 1 << 20;
  const infos: Map<number, InterfaceInfo>[] = files.map(() => new Map());
  const sources = files.map((f, i) => records(f, (info) => infos[i].set(info.id, info)));
  let writer: PcapngWriter | undefined;
  /** (file, interface) → output interface id. */
  const ids = new Map<string, number>();
  const perFile = files.map(() => 0);
  const open = (): PcapngWriter => {
    const w = new PcapngWriter(sink, {
      interfaces: [],
      application: options.application ?? "spicecap merge",
    });
    files.forEach((f, i) => {
      const info = infos[i].get(0);
      ids.set(
        `${i}:0`,
        w.addInterface({
          name: f.file,
          description: f.channelType !== undefined ? `SPICE channel file ${f.file}` : undefined,
          linkType: info?.linkType,
          snapLength: info?.snapLength,
          tsResolution: "ns",
        }),
      );
    });
    return w;
  };
  try {
    for await (const { item: r, source } of mergeByTime(sources, (r) => r.tsNs)) {
      writer ??= open();
      const key = `${source}:${r.interfaceId}`;
      let id = ids.get(key);
      if (id === undefined) {
        const info = infos[source].get(r.interfaceId);
        id = writer.addInterface({
          name: `${files[source].file}#${r.interfaceId}`,
          linkType: r.linkType,
          snapLength: info?.snapLength,
          tsResolution: "ns",
        });
        ids.set(key, id);
      }
      const problem = timestampProblem(r.tsNs, { format: "pcapng", resolution: "ns" });
      if (problem !== undefined) {
        throw new CaptureFormatError(problem, {
          file: files[source].file,
          packetNumber: r.packetNumber,
          offset: r.offset,
        });
      }
      writer.write({
        tsNs: r.tsNs,
        data: r.data,
        originalLength: r.originalLength,
        interfaceId: id,
        direction: r.direction ?? (derive ? ourDirection(r) : undefined),
        comment: r.comment,
      });
      perFile[source]++;
      if (writer.bufferedBytes >= flushBytes) await writer.flush();
    }
    writer ??= open();
  } finally {
    if (writer) await writer.close();
    else await sink.close().catch(() => {});
  }
  return { packets: perFile.reduce((a, b) => a + b, 0), perFile };
}
