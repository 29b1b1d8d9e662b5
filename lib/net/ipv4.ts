/** IPv4 and IPv6 address text: parsing and canonical formatting. */

/** Thrown by the address parsers for text that is not an address. */
export class AddressSyntaxError extends Error {
  /** Error name. */
  override name = "AddressSyntaxError";
  /** The rejected text. */
  readonly text: string;
  /**
   * Creates the error.
   *
   * @param text the rejected text
   * @param what "IPv4" or "IPv6"
   */
  constructor(text: string, what: string) {
    super(`Cannot parse ${what} address '${text}'`);
    this.text = text;
  }
}

const DOTTED_QUAD = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Parses dotted-quad text into an unsigned 32-bit number (`"10.0.0.1"` → `0x0a000001`).
 *
 * @param s four decimal octets 0..255
 * @returns the address, 0..2^32-1
 * @throws {AddressSyntaxError} when `s` is not a dotted quad
 */
export function ipv4ToNumber(s: string): number {
  const m = DOTTED_QUAD.exec(s);
  if (m === null) throw new AddressSyntaxError(s, "IPv4");
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) throw new AddressSyntaxError(s, "IPv4");
    n = n * 256 + octet;
  }
  return n;
}

/**
 * Formats an unsigned 32-bit number as dotted-quad text (`0x0a000001` → `"10.0.0.1"`).
 *
 * @param n the address (taken modulo 2^32)
 * @returns dotted-quad text
 */
export function numberToIpv4(n: number): string {
  return `${(n >>> 24) & 0xff}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/**
 * Formats 16 bytes of an IPv6 address as RFC 5952 text: lowercase hex, no leading zeros, the
 * longest run (first on a tie) of two or more zero groups as `::`, and IPv4-mapped addresses
 * as `::ffff:a.b.c.d`.
 *
 * @param bytes the buffer holding the address
 * @param offset where the 16 address bytes start @default 0
 * @returns canonical text
 */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const v4 = (groups[6] * 0x10000 + groups[7]) >>> 0;
    return `::ffff:${numberToIpv4(v4)}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(":");
  const head = hex.slice(0, bestStart).join(":");
  const tail = hex.slice(bestStart + bestLength).join(":");
  return `${head}::${tail}`;
}

/**
 * Parses IPv6 text (with `::` compression and an optional embedded dotted quad) into 16 bytes.
 *
 * @param s address text, without brackets or zone
 * @returns a new 16-byte array
 * @throws {AddressSyntaxError} when `s` is not an IPv6 address
 */
export function parseIpv6(s: string): Uint8Array {
  const fail = () => new AddressSyntaxError(s, "IPv6");
  const halves = s.split("::");
  if (halves.length > 2) throw fail();
  const parseGroups = (part: string): number[] => {
    if (part === "") return [];
    const out: number[] = [];
    const fields = part.split(":");
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (i === fields.length - 1 && f.includes(".")) {
        const v4 = ipv4ToNumber(f);
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(f)) {
        out.push(parseInt(f, 16));
      } else {
        throw fail();
      }
    }
    return out;
  };
  let groups: number[];
  try {
    const head = parseGroups(halves[0]);
    if (halves.length === 2) {
      const tail = parseGroups(halves[1]);
      if (head.length + tail.length > 7) throw fail();
      groups = [...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail];
    } else {
      groups = head;
    }
  } catch (e) {
    if (e instanceof AddressSyntaxError) throw fail();
    throw e;
  }
  if (groups.length !== 8) throw fail();
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[2 * i] = g >>> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}
