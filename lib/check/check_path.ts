/** Checking a capture file or a whole session directory, streaming findings as they are found. */
import { MANIFEST_FILE } from "../capture/manifest.ts";
import type { SnapshotMidStream } from "../capture/manifest_snapshot.ts";
import { readCaptureFileBatches } from "../pcap/reader.ts";
import { CaptureFormatError, TruncatedCaptureError } from "../pcap/types.ts";
import { FileChecker, type FileCheckResult } from "./file_checker.ts";
import type { Finding } from "./findings.ts";
import { checkManifestCounts, checkManifestFiles, checkManifestSchema } from "./manifest_checks.ts";
import { checkRecordingLoss } from "./recording_loss.ts";

const CAPTURE_FILE = /\.(pcap|pcapng|cap)$/;

/** Options of {@link checkPath}. */
export interface CheckPathOptions {
  /** Server port of our captures when there is no manifest. @default 5930 */
  serverPort?: number;
  /** Bytes the manifest reports relayed and not recorded are warnings, not errors. */
  allowDrops?: boolean;
}

/** What {@link checkPath} yields: findings as found, then one result per file read. */
export type CheckItem =
  | { type: "finding"; finding: Finding }
  | { type: "file"; file: string; result?: FileCheckResult; unreadable: boolean };

/**
 * Checks one capture file.
 *
 * @param path file to open
 * @param file name for findings
 * @param options ours/foreign and server port
 * @returns findings, then the file's result
 */
export async function* checkFile(
  path: string,
  file: string,
  options: { ours?: boolean; serverPort?: number; midStream?: readonly SnapshotMidStream[] } = {},
): AsyncGenerator<CheckItem> {
  let pending: Finding[] = [];
  const checker = new FileChecker({
    file,
    ours: options.ours,
    serverPort: options.serverPort,
    midStream: options.midStream,
    onFinding: (f) => pending.push(f),
  });
  const flush = function* (): Generator<CheckItem> {
    if (pending.length === 0) return;
    const out = pending;
    pending = [];
    for (const finding of out) yield { type: "finding", finding };
  };
  let unreadable = false;
  try {
    for await (const batch of readCaptureFileBatches(path, { file })) {
      for (const record of batch) checker.push(record);
      yield* flush();
    }
  } catch (e) {
    if (e instanceof TruncatedCaptureError) {
      pending.push({
        severity: "error",
        code: "truncated-tail",
        file,
        packetNumber: e.packetNumber,
        message: `truncated tail: the file ends inside its last record at byte ${e.offset} ` +
          "(the capture was killed); every record before it was checked",
        expected: "a complete record",
        actual: e.expected,
      });
    } else if (e instanceof CaptureFormatError) {
      unreadable = true;
      pending.push({
        severity: "error",
        code: "unreadable",
        file,
        packetNumber: e.packetNumber,
        message: `cannot read on from byte ${e.offset}`,
        expected: e.expected,
      });
    } else if (
      e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied ||
      e instanceof Deno.errors.IsADirectory
    ) {
      unreadable = true;
      pending.push({ severity: "error", code: "unreadable", file, message: e.message });
    } else throw e;
  }
  const result = checker.finish();
  yield* flush();
  yield { type: "file", file, result, unreadable };
}

async function readJson(path: string): Promise<{ value?: unknown; error?: string }> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: `not valid JSON: ${(e as SyntaxError).message}` };
  }
}

/**
 * Checks a session directory: the manifest, every channel file, and the manifest's counts.
 * A directory without a manifest that holds capture files has each file checked on its own.
 *
 * @param dir session directory
 * @param options `allowDrops`: losses the manifest reports are warnings
 */
async function* checkSessionDir(dir: string, options: CheckPathOptions): AsyncGenerator<CheckItem> {
  const manifestPath = `${dir}/${MANIFEST_FILE}`;
  const { value, error } = await readJson(manifestPath);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  names.sort();
  const captures = names.filter((n) => CAPTURE_FILE.test(n));
  if (!names.includes(MANIFEST_FILE) && captures.length > 0) {
    // A plain directory of captures: check each file on its own.
    for (const n of captures) yield* checkFile(`${dir}/${n}`, `${dir}/${n}`, options);
    return;
  }
  if (error !== undefined) {
    yield {
      type: "finding",
      finding: {
        severity: "error",
        code: "manifest-schema",
        file: manifestPath,
        message: error,
      },
    };
    yield { type: "file", file: manifestPath, unreadable: true };
    return;
  }
  const { manifest: m, finding } = checkManifestSchema(value, manifestPath);
  if (finding) {
    // A manifest that fails validation cannot be trusted to name the channel files.
    yield { type: "finding", finding };
    yield { type: "file", file: manifestPath, unreadable: true };
    return;
  }
  const channels = m.channels;
  for (const finding of checkManifestFiles(channels, { dirFiles: names, file: manifestPath })) {
    yield { type: "finding", finding };
  }
  for (const finding of checkRecordingLoss(m, manifestPath, options)) {
    yield { type: "finding", finding };
  }
  const complete = m.complete;
  const present = new Set(names);
  for (const ch of channels) {
    if (!present.has(ch.file)) continue;
    const serverPort = ch.serverPort;
    let result: FileCheckResult | undefined;
    const midStream = m.snapshot?.midStream.filter((x) => x.file === ch.file);
    for await (
      const item of checkFile(`${dir}/${ch.file}`, ch.file, { ours: true, serverPort, midStream })
    ) {
      if (item.type === "file") result = item.result;
      yield item;
    }
    if (result) {
      for (const finding of checkManifestCounts(ch, { observed: result.observed, complete })) {
        yield { type: "finding", finding };
      }
    }
  }
}

/**
 * Checks a capture file or a session directory.
 *
 * @param path file or directory
 * @param options server port for our captures without a manifest; `allowDrops`
 * @returns findings as they are found and one item per file read
 */
export async function* checkPath(
  path: string,
  options: CheckPathOptions = {},
): AsyncGenerator<CheckItem> {
  let isDir = false;
  try {
    isDir = (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied)) throw e;
    yield {
      type: "finding",
      finding: { severity: "error", code: "unreadable", file: path, message: e.message },
    };
    yield { type: "file", file: path, unreadable: true };
    return;
  }
  if (isDir) yield* checkSessionDir(path.replace(/\/+$/, "") || "/", options);
  else yield* checkFile(path, path, { serverPort: options.serverPort });
}
