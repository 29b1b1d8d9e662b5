/**
 * Little-endian body cursor and small combinators for the message decoder table (private to
 * lib/spice).
 */

import type { Direction } from "../net/types.ts";

/** Decoded fields of one message body. */
export type MessageFields = Record<string, unknown>;

/** Raised inside a decoder when the body ends early; caught by decodeMessage. */
export class ShortBody extends Error {}

/** Little-endian cursor over a body; every read past the end throws ShortBody. */
export class BodyReader {
  #dv: DataView;
  /** Next byte to read. */
  pos = 0;
  /** The body. */
  readonly body: Uint8Array;

  /** @param body message body (header excluded) */
  constructor(body: Uint8Array) {
    this.body = body;
    this.#dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }
  /** Bytes left to read. */
  get left(): number {
    return this.body.length - this.pos;
  }
  #at(n: number): number {
    if (this.pos + n > this.body.length) throw new ShortBody();
    const at = this.pos;
    this.pos += n;
    return at;
  }
  u8(): number {
    return this.body[this.#at(1)];
  }
  u16(): number {
    return this.#dv.getUint16(this.#at(2), true);
  }
  i16(): number {
    return this.#dv.getInt16(this.#at(2), true);
  }
  u32(): number {
    return this.#dv.getUint32(this.#at(4), true);
  }
  i32(): number {
    return this.#dv.getInt32(this.#at(4), true);
  }
  u64(): bigint {
    return this.#dv.getBigUint64(this.#at(8), true);
  }
  i64(): bigint {
    return this.#dv.getBigInt64(this.#at(8), true);
  }
  bytes(n: number): Uint8Array {
    const at = this.#at(n);
    return this.body.subarray(at, at + n);
  }
  /** Moves to an absolute body offset (for image pointers); past the end counts as short. */
  seek(at: number): void {
    if (at > this.body.length) throw new ShortBody();
    this.pos = at;
  }
}

/** Fills `out` from a body; may stop early by throwing (the reader does). */
export type Decoder = (r: BodyReader, out: MessageFields) => void;
export type Kind = "u8" | "u16" | "i16" | "u32" | "i32" | "u64" | "i64" | "rest";

/** A decoder for a fixed list of fields; "rest" records the remaining byte count. */
export function fields(...spec: [string, Kind][]): Decoder {
  return (r, out) => {
    for (const [name, kind] of spec) {
      out[name] = kind === "rest" ? r.bytes(r.left).length : r[kind]();
    }
  };
}

export function seq(...decoders: Decoder[]): Decoder {
  return (r, out) => decoders.forEach((d) => d(r, out));
}

export const RECT_BYTES = 16;
export const rect = (r: BodyReader) => ({
  top: r.i32(),
  left: r.i32(),
  bottom: r.i32(),
  right: r.i32(),
});
export const utf8 = new TextDecoder("utf-8", { fatal: false });
export const text = (b: Uint8Array) => utf8.decode(b[b.length - 1] === 0 ? b.subarray(0, -1) : b);

/** Server → client, short for the decoder tables. */
export const S: Direction = "toClient";
/** Client → server, short for the decoder tables. */
export const K: Direction = "toServer";
