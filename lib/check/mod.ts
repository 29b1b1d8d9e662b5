/**
 * Invariants of captures and session directories: TCP sequence/ack continuity per direction,
 * client/server direction, time order, SPICE framing, and the session manifest. Findings carry
 * stable codes, a severity, the file, packet number, flow, and what was expected.
 *
 * @module
 */
export {
  type CheckSummary,
  type Finding,
  FINDING_CODES,
  findingJson,
  formatFinding,
  formatSummary,
  type Severity,
} from "./findings.ts";
export {
  type SegmentInput,
  type TcpCheckOptions,
  TcpConnectionChecker,
  type TcpFinding,
} from "./tcp_checks.ts";
export {
  checkManifestCounts,
  checkManifestFiles,
  checkManifestSchema,
  type ManifestChannelLike,
  type ObservedChannel,
  type SchemaCheck,
} from "./manifest_checks.ts";
export { FileChecker, type FileCheckOptions, type FileCheckResult } from "./file_checker.ts";
export { checkFile, type CheckItem, checkPath, type CheckPathOptions } from "./check_path.ts";
