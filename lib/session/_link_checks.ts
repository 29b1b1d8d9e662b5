/**
 * What the SPICE stream reader says about a connection's link phase and its ends: who the client
 * is from the first payload, refused links, unknown channels, and what the end of the input
 * leaves unframed (private to lib/session).
 */
import type { SpiceConnectionFramer } from "../spice/framer.ts";
import { CHANNEL_TYPES, channelName, linkErrorName } from "../spice/tables.ts";

/** Reports one problem of the connection concerned: kind, message, direction. */
export type ReportProblem = (kind: string, message: string, fromClient?: boolean) => void;

const REDQ = [0x52, 0x45, 0x44, 0x51];
const KNOWN_CHANNELS: ReadonlySet<number> = new Set<number>(Object.values(CHANNEL_TYPES));

/** Whether bytes start with the link magic "REDQ". */
export function startsWithRedq(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === REDQ[0] && b[1] === REDQ[1] && b[2] === REDQ[2] &&
    b[3] === REDQ[3];
}

/** What the first payload of a connection says, given the client side known from the SYN. */
export type FirstPayloadVerdict = "client" | "ok" | "dead";

/**
 * Judges a connection's first payload: a link message decides the client when the SYN did not;
 * anything else, or a link message from the side that answered the SYN, ends framing.
 *
 * @param payload the first payload
 * @param where whether the sender is the client (undefined: not known yet), the sender's
 *   endpoint, and the problem sink
 * @returns "client" when the sender is now the client, "ok", or "dead" (problem reported)
 */
export function judgeFirstPayload(
  payload: Uint8Array,
  where: { senderIsClient: boolean | undefined; sender: string; report: ReportProblem },
): FirstPayloadVerdict {
  const redq = startsWithRedq(payload);
  const { senderIsClient, sender, report } = where;
  if (senderIsClient === undefined) {
    if (redq) return "client";
    report(
      "no-link",
      "connection does not start with a SPICE link message (REDQ): " +
        "the capture starts after the link phase or this is not SPICE",
    );
    return "dead";
  }
  if (!senderIsClient) {
    report(
      "direction",
      `the first payload comes from the side that answered the SYN (${sender})` +
        (redq
          ? " and is a link message: the client's link is missing or the sides are swapped"
          : ""),
      false,
    );
    // The SYN says who connected; without the client's link message the stream cannot be framed.
    return "dead";
  }
  if (!redq) {
    report("no-link", "the client's first payload is not a SPICE link message (REDQ)", true);
    return "dead";
  }
  return "ok";
}

/** Which link-phase pieces a framer had framed, to see what one push added. */
export interface LinkProgress {
  /** The client link message was framed. */
  link: boolean;
  /** The server link reply was framed. */
  reply: boolean;
  /** The link result was framed. */
  result: boolean;
}

/** The framer's link-phase progress now. */
export function linkProgress(f: SpiceConnectionFramer): LinkProgress {
  return {
    link: f.link !== undefined,
    reply: f.reply !== undefined,
    result: f.linkResult !== undefined,
  };
}

/**
 * Reports what the link phase newly showed since `before`: a link naming an unknown channel, a
 * failed link reply, a failed link result.
 */
export function reportLinkProgress(
  f: SpiceConnectionFramer,
  since: { before: LinkProgress; report: ReportProblem },
): void {
  const { before, report } = since;
  const link = f.link;
  if (!before.link && link !== undefined && !KNOWN_CHANNELS.has(link.channelType)) {
    report("unknown-channel", `link names ${channelName(link.channelType)}`, true);
  }
  const replyError = f.reply?.error;
  if (!before.reply && replyError !== undefined && replyError !== 0) {
    report("link-refused", `link reply error ${replyError} (${linkErrorName(replyError)})`, false);
  }
  const result = f.linkResult;
  if (!before.result && result !== undefined && result !== 0) {
    report("link-refused", `link result ${result} (${linkErrorName(result)})`, false);
  }
}

/**
 * Reports what the end of the input leaves unfinished on one connection: a link phase that
 * never completed, bytes that do not form a whole unit.
 *
 * @param f the connection's framer
 * @param end whether the connection was closed (FIN or RST seen), and the problem sink
 */
export function reportUnfinished(
  f: SpiceConnectionFramer,
  end: { closed: boolean; report: ReportProblem },
): void {
  const { closed, report } = end;
  const refused = (f.reply !== undefined && f.reply.error !== 0) ||
    (f.linkResult !== undefined && f.linkResult !== 0);
  if (f.linkResult === undefined && !refused) {
    const missing = f.link === undefined
      ? "no link message"
      : f.reply === undefined
      ? "no link reply"
      : "no link result";
    const end = closed ? "the connection was closed" : "the capture ends";
    report("link-incomplete", `link phase did not complete (${missing}); ${end}`);
  }
  for (const fromClient of [true, false]) {
    const pending = f.pending(fromClient);
    if (pending > 0 && !f.failed(fromClient)) {
      report(
        "incomplete-message",
        `${pending} byte(s) at the end of the ${fromClient ? "client" : "server"} stream ` +
          "do not form a whole SPICE unit",
        fromClient,
      );
    }
  }
}
