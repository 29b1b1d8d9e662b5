/**
 * The page model of `report`: everything the HTML page shows, as plain JSON-ready values. The
 * builders in this folder fill it from a session; {@link ReportModel} is what the page reads.
 */

/** One channel of the session, as the summary table shows it. */
export interface ReportChannel {
  /** Channel label as inspect prints it: "main", "display", "display-1". */
  label: string;
  /** Channel file name in the session (or the capture file given). */
  file: string;
  /** TCP connections seen in the file. */
  connections: number;
  /** SPICE units read, client → server. */
  toServer: number;
  /** SPICE units read, server → client. */
  toClient: number;
  /** Payload bytes per direction (manifest counts; else the units' bytes). */
  bytes: { sent: number; received: number };
  /** Packets dropped by the recorder (manifest), 0 without one. */
  dropped: number;
  /** Bytes relayed and not written (manifest), 0 without one. */
  droppedBytes: number;
  /** Write errors on the file (manifest), 0 without one. */
  errors: number;
}

/** One timeline lane: one direction of one TCP connection. */
export interface ReportLane {
  /** Channel label of the connection ("?" before its link). */
  label: string;
  /** Channel file. */
  file: string;
  /** 0-based connection index within the file. */
  connection: number;
  /** Connection number of this channel label, from 1: 2 and up are reconnections. */
  nth: number;
  /** Direction: true client → server. */
  toServer: boolean;
  /** Time of the lane's last link-phase unit, µs from the report start; -1 for none. */
  linkEndUs: number;
}

/**
 * The messages, column by column (one entry per SPICE unit, in time order as `inspect
 * --messages` lists them): compact in JSON, and the page never builds one object per message.
 */
export interface ReportMessages {
  /** Time, µs from {@link ReportModel.startUs}. */
  t: number[];
  /** Lane index ({@link ReportModel.lanes}). */
  lane: number[];
  /** Index into {@link ReportModel.names}. */
  name: number[];
  /** The message's `#N` as inspect prints it (per connection and direction), -1 for link units. */
  index: number[];
  /** Bytes on the wire, header included. */
  size: number[];
  /** Index into {@link ReportModel.texts}: the decoded fields as inspect prints them. */
  text: number[];
  /** 1-based packet number completing the unit in its channel file. */
  packet: number[];
}

/** One key press or release read from the inputs channel. */
export interface ReportKey {
  /** Message index. */
  message: number;
  /** Key name ("a", "Enter", "Shift"). */
  key: string;
  /** True for press, false for release. */
  down: boolean;
}

/** One `check` finding and the message it concerns. */
export interface ReportFinding {
  /** "error" or "warning". */
  severity: string;
  /** Finding code. */
  code: string;
  /** The finding as `check` prints it. */
  text: string;
  /** Message index nearest the finding's packet, -1 when it concerns none. */
  message: number;
}

/** The `check` verdict. */
export interface ReportCheck {
  /** Findings of severity error. */
  errors: number;
  /** Findings of severity warning. */
  warnings: number;
  /** The findings shown (the first ones, up to the cap). */
  findings: ReportFinding[];
}

/** One rendered moment of the screen. */
export interface ReportFrame {
  /** "before-input", "mark", "final". */
  reason: string;
  /** Time, µs from the report start. */
  t: number;
  /** Index into {@link ReportModel.images}. */
  image: number;
  /** Width × height of the surface. */
  width: number;
  /** Height of the surface. */
  height: number;
  /** Rectangles of unknown pixels. */
  unknown: number;
}

/** One screen compared against the golden run: expected, actual and where they differ. */
export interface ReportScreen {
  /** What moment this is ("final", "mark 3"). */
  label: string;
  /** PNG data URI of the golden screen. */
  expected: string;
  /** PNG data URI of this run's screen. */
  actual: string;
  /** PNG data URI of the difference picture, when one was made. */
  diff?: string;
  /** Pixels that differ (outside masks), when counted. */
  differing?: number;
}

/** One channel direction of the diff summary. */
export interface ReportDiffStream {
  /** Channel label. */
  channel: string;
  /** "client→server" or "server→client". */
  direction: string;
  /** Counts: actual, golden, same, changed, missing, extra, timing. */
  counts: number[];
}

/** One difference, as `diff` prints it. */
export interface ReportDifference {
  /** The kind: changed, missing, extra, timing, channel-missing, channel-extra. */
  kind: string;
  /** The text `diff` prints: headline and hexdump. */
  text: string;
  /** Message index of the actual unit, -1 when there is none. */
  message: number;
}

/** The `--diff GOLDEN` part. */
export interface ReportDiff {
  /** The golden path as given. */
  golden: string;
  /** No differences after normalisation. */
  same: boolean;
  /** Differences found (all of them, shown or not). */
  differences: number;
  /** Rows of the summary table. */
  streams: ReportDiffStream[];
  /** Channels on one side only, in words. */
  channelNotes: string[];
  /** Differences shown (capped per channel direction). */
  records: ReportDifference[];
  /** Screens compared, when screens were rendered for both runs. */
  screens: ReportScreen[];
}

/** Everything the page shows. */
export interface ReportModel {
  /** The session path as given. */
  title: string;
  /** Facts of the manifest and the reading, as label → text rows. */
  facts: [string, string][];
  /** Capture start: absolute time of the first unit, µs since the epoch. */
  startUs: number;
  /** Last unit's time, µs from the start. */
  durationUs: number;
  /** Channels. */
  channels: ReportChannel[];
  /** Timeline lanes. */
  lanes: ReportLane[];
  /** Unit names. */
  names: string[];
  /** Decoded field texts (deduplicated). */
  texts: string[];
  /** The messages. */
  messages: ReportMessages;
  /** Keys typed. */
  keys: ReportKey[];
  /** The check verdict. */
  check: ReportCheck;
  /** Lines about what could not be read or drawn (stream and display problems, capped). */
  problems: string[];
  /** PNG data URIs, shared by frames showing the same pixels. */
  images: string[];
  /** Screen moments in time order; the last is the final screen. */
  frames: ReportFrame[];
  /** The diff against a golden run, when asked for. */
  diff?: ReportDiff;
}
