/** Types shared by the SPICE link codec, framer, tables and decoders. */

/** The link-phase pieces of a SPICE connection, in the order they travel. */
export type SpiceLinkKind =
  | "link" // client link header + link message (REDQ …)
  | "linkReply" // server link header + link reply
  | "authMechanism" // client u32 auth mechanism (only when the client set AUTH_SELECTION)
  | "ticket" // client 128-byte RSA ticket
  | "linkResult"; // server u32 link result

/** The link-phase kinds in the order they travel. */
export const SPICE_LINK_KINDS: readonly SpiceLinkKind[] = Object.freeze([
  "link",
  "linkReply",
  "authMechanism",
  "ticket",
  "linkResult",
]);

/** The printed name of each link-phase kind, spelled like message names ("LINK_REPLY"). */
export const LINK_UNIT_NAMES: Readonly<Record<SpiceLinkKind, string>> = Object.freeze({
  link: "LINK",
  linkReply: "LINK_REPLY",
  authMechanism: "AUTH_MECHANISM",
  ticket: "TICKET",
  linkResult: "LINK_RESULT",
});

/** What a framed piece of a SPICE connection is: a link-phase piece or "message". */
export type SpiceUnitKind = SpiceLinkKind | "message";

/**
 * A link-phase unit: one whole link message, link reply, auth mechanism word, ticket or link
 * result. Its size is `bytes.length`.
 */
export interface SpiceLinkUnit {
  /** Which link-phase piece this is. */
  kind: SpiceLinkKind;
  /** True for client → server. */
  fromClient: boolean;
  /** The unit's raw bytes, header included (a view that is never overwritten). */
  bytes: Uint8Array;
  /** Offset of the unit's first byte in its direction's byte stream. */
  offset: number;
}

/**
 * One whole SPICE message, header included. Its size is `bytes.length`; the body is
 * `bytes.subarray(headerSize)`.
 */
export interface SpiceMessage {
  /** Always "message". */
  kind: "message";
  /** True for client → server. */
  fromClient: boolean;
  /** The message's raw bytes, header included (a view that is never overwritten). */
  bytes: Uint8Array;
  /** Offset of the message's first byte in its direction's byte stream. */
  offset: number;
  /**
   * The message index: 0-based position of this message among the messages (not link-phase
   * units) of its direction of its connection.
   */
  index: number;
  /** Message type from the header. */
  type: number;
  /** Message name from the tables, e.g. "INIT", or "unknown(n)". */
  name: string;
  /** Header length in bytes: MINI_HEADER_BYTES (6) or FULL_HEADER_BYTES (18). */
  headerSize: number;
  /** Full-header serial; undefined with the mini header. */
  serial: bigint | undefined;
  /** Sub-messages of a message with a sub-list or of a LIST (type 8); else undefined. */
  subMessages: SpiceSubMessage[] | undefined;
}

/** One whole unit of a SPICE byte stream: narrow on `kind` to reach the message fields. */
export type SpiceUnit = SpiceLinkUnit | SpiceMessage;

/** A sub-message from a message's sub-list. */
export interface SpiceSubMessage {
  /** Sub-message type number. */
  type: number;
  /** Sub-message name from the tables, or "unknown(n)". */
  name: string;
  /** Body bytes. */
  body: Uint8Array;
}

/** A byte stream that is not valid SPICE at `offset`. */
export class SpiceFramingError extends Error {
  /** Always "SpiceFramingError". */
  override name = "SpiceFramingError";
  /** Offset of the bad byte in its direction's byte stream. */
  readonly offset: number;
  /** True when the bad stream is client → server. */
  readonly fromClient: boolean;
  /** What the framer expected to find at `offset`. */
  readonly expected: string;
  /**
   * Builds the error; the message is `<client|server> stream byte <offset>: <expected>`.
   *
   * @param expected what should have been at the offset
   * @param where offset in the direction's byte stream and the direction
   */
  constructor(expected: string, where: { offset: number; fromClient: boolean }) {
    super(
      `${where.fromClient ? "client" : "server"} stream byte ${where.offset}: ${expected}`,
    );
    this.offset = where.offset;
    this.fromClient = where.fromClient;
    this.expected = expected;
  }
}
