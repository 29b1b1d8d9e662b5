/**
 * Bounds-checked little-endian cursor over one display message body (private to lib/display).
 * Every failed read throws DisplayParseError naming the message, the field and the offset.
 */
import { DisplayParseError } from "./errors.ts";

/** Which message a cursor reads, for error context. */
export interface CursorContext {
  /** Message index among its direction's messages. */
  messageIndex: number;
  /** Message name. */
  messageName: string;
}

/** Cursor over a message body; pointers (u32 offsets from the body start) jump with `at()`. */
export class BodyCursor {
  readonly body: Uint8Array;
  readonly context: CursorContext;
  pos: number;
  #dv: DataView;

  constructor(body: Uint8Array, context: CursorContext, pos = 0) {
    this.body = body;
    this.context = context;
    this.pos = pos;
    this.#dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  /** A new cursor at body offset `offset` (a pointer target), checked against the body. */
  at(offset: number, field: string): BodyCursor {
    if (offset >= this.body.length) {
      this.fail(field, `pointer ${offset} is past the body end (${this.body.length} bytes)`);
    }
    return new BodyCursor(this.body, this.context, offset);
  }

  /** Throws DisplayParseError for `field` at the current position (or `offset`). */
  fail(field: string, what: string, offset = this.pos): never {
    throw new DisplayParseError(what, { ...this.context, field, offset });
  }

  #take(n: number, field: string): number {
    if (n < 0 || this.pos + n > this.body.length) {
      this.fail(field, `need ${n} bytes, found ${Math.max(0, this.body.length - this.pos)}`);
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  u8(field: string): number {
    return this.body[this.#take(1, field)];
  }
  u16(field: string): number {
    return this.#dv.getUint16(this.#take(2, field), true);
  }
  i16(field: string): number {
    return this.#dv.getInt16(this.#take(2, field), true);
  }
  u32(field: string): number {
    return this.#dv.getUint32(this.#take(4, field), true);
  }
  i32(field: string): number {
    return this.#dv.getInt32(this.#take(4, field), true);
  }
  u64(field: string): bigint {
    return this.#dv.getBigUint64(this.#take(8, field), true);
  }
  /** `n` bytes as a view into the body. */
  bytes(n: number, field: string): Uint8Array {
    const p = this.#take(n, field);
    return this.body.subarray(p, p + n);
  }
}
