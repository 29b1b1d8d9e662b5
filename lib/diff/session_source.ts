/**
 * A {@link DiffSource} over a session directory or a single capture file, built on lib/session:
 * one streaming pass per channel file (both directions), or one per direction when the diff
 * falls back; nothing but the alignment windows and the split queues is held in memory.
 */
import { readCaptureFileBatches } from "../pcap/reader.ts";
import { SpiceStreamReader } from "../session/messages.ts";
import type { MessageEvent, StreamProblem } from "../session/types.ts";
import { openSession } from "../session/session_files.ts";
import type { ChannelRef, DiffInput, DiffSource } from "./types.ts";

/** Options of {@link sessionDiffSource}. */
export interface SessionSourceOptions {
  /** Receives reading problems (gaps, framing errors) with the file name. @default ignore */
  onProblem?: (file: string, problem: StreamProblem) => void;
}

interface FileRef extends ChannelRef {
  path: string;
}

/**
 * Opens a session directory or capture file as a diff source.
 *
 * @param path session directory (with session.json) or a pcap/pcapng file
 * @param options problem sink
 * @returns the source; files are opened lazily, once per direction
 * @throws {Deno.errors.NotFound} when `path` does not exist; ManifestError for a bad manifest
 */
export async function sessionDiffSource(
  path: string,
  options: SessionSourceOptions = {},
): Promise<DiffSource> {
  const listing = await openSession(path);
  const channels: FileRef[] = listing.files.map((f) => ({
    channelType: f.channelType,
    channelId: f.channelId,
    file: f.file,
    path: f.path,
  }));
  return {
    channels,
    singleFile: listing.dir === undefined,
    units: (ref, fromClient) => unitsOf(ref as FileRef, fromClient, options),
    allUnits: (ref) => unitsOf(ref as FileRef, undefined, options),
  };
}

async function* unitsOf(
  ref: FileRef,
  fromClient: boolean | undefined,
  options: SessionSourceOptions,
): AsyncGenerator<DiffInput[]> {
  // Problems are reported on the client or the single pass only, so each is reported once.
  const onProblem = fromClient !== false && options.onProblem
    ? (p: StreamProblem) => options.onProblem!(ref.file, p)
    : undefined;
  const reader = new SpiceStreamReader({ file: ref.file, onProblem });
  // Message events are diff inputs as they are; only the direction filter applies. `out` is
  // sized for about one unit per record and filled by index (no growth from empty).
  const keep = (events: readonly MessageEvent[], out: { units: DiffInput[]; n: number }) => {
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (fromClient === undefined || ev.unit.fromClient === fromClient) out.units[out.n++] = ev;
    }
  };
  for await (const records of readCaptureFileBatches(ref.path, { file: ref.file })) {
    const out = { units: new Array<DiffInput>(records.length), n: 0 };
    for (let i = 0; i < records.length; i++) keep(reader.events(records[i]), out);
    out.units.length = out.n;
    if (out.n > 0) yield out.units;
  }
  const out = { units: [] as DiffInput[], n: 0 };
  keep(reader.finish(), out);
  if (out.n > 0) yield out.units;
}
