/** Types shared by the SPICE link codec, framer, tables and decoders. */

/** What a framed piece of a SPICE connection is. */
export type SpiceUnitKind =
  | "link" // client link header + link message (REDQ …)
  | "linkReply" // server link header + link reply
  | "authMechanism" // client u32 auth mechanism (only when the client set AUTH_SELECTION)
  | "ticket" // client 128-byte RSA ticket
  | "linkResult" // server u32 link result
  | "message"; // a message with mini or full header

/** One whole unit of a SPICE byte stream: a link-phase piece or a message. */
export interface SpiceUnit {
  /** Which link-phase piece this is, or "message". */
  kind: SpiceUnitKind;
  /** True for client → server. */
  fromClient: boolean;
  /** The unit's raw bytes, header included (a view that is never overwritten). */
  bytes: Uint8Array;
  /** Offset of the unit's first byte in its direction's byte stream. */
  offset: number;
  /** 0-based index of this message among the messages of its direction (messages only). */
  index?: number;
  /** Message type (messages only). */
  type?: number;
  /** Message name from the tables, e.g. "MAIN_INIT", or "unknown(n)" (messages only). */
  name?: string;
  /** Header length: 6 (mini) or 18 (full) (messages only). */
  headerSize?: number;
  /** Full-header serial (messages with full header only). */
  serial?: bigint;
  /** Sub-messages of a message with a sub-list or of a LIST (type 8). */
  subMessages?: SpiceSubMessage[];
}

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
