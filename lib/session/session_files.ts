/** The capture files of a session directory or of a single capture file, and reading them all. */
import { type Manifest, MANIFEST_FILE, readManifest } from "../capture/manifest.ts";
import { readCaptureFile } from "../pcap/reader.ts";
import { readSpiceMessages } from "./messages.ts";
import type { MessageEvent, ReadMessagesOptions } from "./types.ts";
import type { SpiceUnit } from "../spice/types.ts";

/** One capture file to read. */
export interface SessionFile {
  /** Path to open. */
  path: string;
  /** Name for messages: the channel file name in a session, else the path as given. */
  file: string;
  /** From the manifest, in a session directory. */
  channelType?: number;
  /** Channel id from the manifest, in a session directory. */
  channelId?: number;
}

/** What {@link openSession} found: the files and, for a session directory, its manifest. */
export interface SessionListing {
  /** Files to read: the manifest's channels in manifest order, or the one file given. */
  files: SessionFile[];
  /** Session directory, when `path` is one. */
  dir?: string;
  /** The validated `session.json`, for a session directory. */
  manifest?: Manifest;
}

/**
 * Lists a session directory (manifest order) or a single capture file.
 *
 * @param path a session directory (holding session.json) or a pcap/pcapng file
 * @returns the files and the manifest
 * @throws {Deno.errors.NotFound} when `path` does not exist, ManifestError for a bad manifest
 */
export async function openSession(path: string): Promise<SessionListing> {
  const info = await Deno.stat(path);
  if (!info.isDirectory) return { files: [{ path, file: path }] };
  const dir = path.replace(/\/+$/, "") || "/";
  const manifest = await readManifest(dir);
  const files = manifest.channels.map((c) => ({
    path: `${dir}/${c.file}`,
    file: c.file,
    channelType: c.type,
    channelId: c.id,
  }));
  return { files, dir, manifest };
}

/**
 * Lists the capture files of a session directory (manifest order) or a single file.
 *
 * @param path a session directory or a pcap/pcapng file
 * @returns the files to read
 */
export async function listCaptureFiles(path: string): Promise<SessionFile[]> {
  return (await openSession(path)).files;
}

/** Whether `dir` holds a session manifest. */
export async function isSessionDir(dir: string): Promise<boolean> {
  try {
    return (await Deno.stat(`${dir}/${MANIFEST_FILE}`)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
    throw e;
  }
}

/**
 * Reads every file of a session (or one file) as SPICE messages, file after file.
 *
 * @param path a session directory or a capture file
 * @param options problem sink, limits (the file name is set per file)
 * @returns message events, `file` set to the channel file name
 */
export async function* readSessionMessages(
  path: string,
  options: Omit<ReadMessagesOptions, "file"> = {},
): AsyncGenerator<MessageEvent> {
  for (const f of await listCaptureFiles(path)) {
    yield* readSpiceMessages(readCaptureFile(f.path, { file: f.file }), {
      ...options,
      file: f.file,
    });
  }
}

/** One recorded unit of a session, with the file and connection it came from. */
export interface RecordedUnit {
  /** Channel file name. */
  file: string;
  /** Connection index within the file. */
  connection: number;
  /** Channel type, from the link or else from the file. */
  channelType?: number;
  /** Channel id, from the link or else from the file. */
  channelId?: number;
  /** The unit. */
  unit: SpiceUnit;
  /** Capture time, ns. */
  tsNs: bigint;
}

/**
 * Every recorded unit of a listed session, file after file: what replay and serve plan from.
 *
 * @param listing the session, from {@link openSession}
 * @returns the units with their file, connection and channel
 */
export async function* readRecordedUnits(
  listing: SessionListing,
): AsyncGenerator<RecordedUnit> {
  for (const f of listing.files) {
    const events = readSpiceMessages(readCaptureFile(f.path, { file: f.file }), { file: f.file });
    for await (const ev of events) {
      yield {
        file: f.file,
        connection: ev.connection.index,
        channelType: ev.connection.channelType ?? f.channelType,
        channelId: ev.connection.channelId ?? f.channelId,
        unit: ev.unit,
        tsNs: ev.tsNs,
      };
    }
  }
}
