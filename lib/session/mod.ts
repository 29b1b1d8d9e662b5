/**
 * Reading captures back as SPICE: packets → TCP connections → reassembled streams → SPICE
 * units, for one file or a whole session directory; time-ordered merging of channel files;
 * importing raw tcpdump/Wireshark captures into session directories.
 *
 * @module
 */
export { readSpiceMessages, SpiceStreamReader } from "./messages.ts";
export type {
  ConnectionInfo,
  MessageEvent,
  PushResult,
  ReadMessagesOptions,
  StreamProblem,
  TrackedConnection,
} from "./types.ts";
export {
  isSessionDir,
  listCaptureFiles,
  openSession,
  readSessionMessages,
  type SessionFile,
  type SessionListing,
} from "./session_files.ts";
export { mergeByTime, type Merged } from "./merge.ts";
export { mergeFiles, type MergeOptions, type MergeResult } from "./merge_files.ts";
export { importCapture, type ImportOptions, type ImportResult } from "./import_capture.ts";
export {
  channelLabel,
  formatMessageLine,
  messageJson,
  type MessageLineOptions,
  unitFields,
  unitName,
} from "./message_text.ts";
