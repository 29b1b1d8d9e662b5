/**
 * Reading captures back as SPICE: packets → TCP connections → reassembled streams → SPICE
 * units, for one file or a whole session directory; time-ordered merging of channel files;
 * importing raw tcpdump/Wireshark captures into session directories.
 *
 * @module
 */
export {
  type ConnectionInfo,
  type MessageEvent,
  type PushResult,
  type ReadMessagesOptions,
  readSpiceMessages,
  SpiceStreamReader,
  type StreamProblem,
  type TrackedConnection,
} from "./messages.ts";
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
