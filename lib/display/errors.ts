/** Typed errors of the display channel model. */

/** Where in a display message something went wrong. */
export interface DisplayErrorContext {
  /** 0-based index of the message among its direction's messages. */
  messageIndex: number;
  /** Message name, e.g. "DRAW_COPY". */
  messageName: string;
  /** Field being read, e.g. "src_bitmap.bitmap.data". */
  field: string;
  /** Byte offset in the message body. */
  offset: number;
}

/** A display message body that does not match its layout (short body, pointer out of range). */
export class DisplayParseError extends Error {
  /** Always "DisplayParseError". */
  override name = "DisplayParseError";
  /** 0-based index of the message among its direction's messages. */
  readonly messageIndex: number;
  /** Message name, e.g. "DRAW_COPY". */
  readonly messageName: string;
  /** Field being read. */
  readonly field: string;
  /** Byte offset in the message body. */
  readonly offset: number;
  /**
   * Builds the error; the message is `message <i> <NAME> body byte <offset>: <field>: <what>`.
   *
   * @param what what was wrong, e.g. "need 4 bytes, found 2"
   * @param where message, field and offset
   */
  constructor(what: string, where: DisplayErrorContext) {
    super(
      `message ${where.messageIndex} ${where.messageName} body byte ${where.offset}: ` +
        `${where.field}: ${what}`,
    );
    this.messageIndex = where.messageIndex;
    this.messageName = where.messageName;
    this.field = where.field;
    this.offset = where.offset;
  }
}
