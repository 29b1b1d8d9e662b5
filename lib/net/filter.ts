/**
 * Packet filter expressions (a BPF-like subset, as netbird's capture filter), compiled once into
 * closures over {@link DecodedPacket}.
 *
 * Grammar (keywords are case-insensitive; `and`/`&&`, `or`/`||`, `not`/`!` are synonyms):
 *
 * ```text
 * expr    = orExpr | ""                      (empty matches every packet)
 * orExpr  = andExpr ( ("or" | "||") andExpr )*
 * andExpr = unary ( ("and" | "&&") unary )*
 * unary   = ("not" | "!") unary | "(" orExpr ")" | term
 * term    = "host" IP | "src" target | "dst" target | "port" NUM | "net" PREFIX
 *         | proto [ term ]                   ("tcp port 5930" = "tcp and port 5930")
 *         | "proto" (NUM | "tcp" | "udp" | "icmp" | "icmp6")
 * proto   = "tcp" | "udp" | "icmp" | "icmp6" | "ip" | "ip6"
 * target  = "host" IP | "port" NUM | "net" PREFIX | IP | PREFIX
 * IP      = dotted IPv4 | IPv6 text
 * PREFIX  = IP "/" bits | 1 to 3 leading IPv4 octets ("10.0" = 10.0.0.0/16) | IP (all bits)
 * NUM     = decimal; ports 0..65535, protocols 0..255
 * ```
 *
 * `host` and `net` match either address, `port` either port of a TCP or UDP packet; `ip` and
 * `ip6` select the IP version.
 */
import { AddressSyntaxError, formatIpv6, ipv4ToNumber, numberToIpv4, parseIpv6 } from "./ipv4.ts";
import { type DecodedPacket, IP_PROTOCOL } from "./types.ts";

/** A compiled filter. */
export interface Matcher {
  /** Whether the packet passes the filter. */
  match(p: DecodedPacket): boolean;
}

/** A filter expression that does not follow the grammar. */
export class FilterSyntaxError extends Error {
  /** Error name. */
  override name = "FilterSyntaxError";
  /** 1-based column of the offending token (length + 1 at the end of the expression). */
  readonly column: number;
  /** The offending token; "" at the end of the expression. */
  readonly token: string;
  /**
   * Creates the error.
   *
   * @param column 1-based column of the token
   * @param token the offending token, "" at the end
   * @param expected what the grammar wanted there
   */
  constructor(column: number, token: string, expected: string) {
    const found = token === "" ? "the end of the filter" : `'${token}'`;
    super(`filter: column ${column}: expected ${expected}, found ${found}`);
    this.column = column;
    this.token = token;
  }
}

type Predicate = (p: DecodedPacket) => boolean;
type Side = "src" | "dst" | "any";

interface Token {
  text: string;
  column: number;
}

const WORD_CHAR = /[A-Za-z0-9._:/\-]/;
const PUNCTUATION: readonly string[] = ["&&", "||", "(", ")", "!"];
const PROTOCOL_NAMES: ReadonlyMap<string, number> = new Map([
  ["tcp", IP_PROTOCOL.TCP],
  ["udp", IP_PROTOCOL.UDP],
  ["icmp", IP_PROTOCOL.ICMP],
  ["icmp6", IP_PROTOCOL.ICMP6],
]);
/** Keywords that start a term taking an argument; they may follow a protocol qualifier. */
const ARGUMENT_TERMS: ReadonlySet<string> = new Set(["host", "src", "dst", "port", "net", "proto"]);
const TERM_LIST = "a filter term (host, src, dst, port, net, tcp, udp, icmp, icmp6, ip, ip6, " +
  "proto, not, '(')";

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const punct = PUNCTUATION.find((p) => expr.startsWith(p, i));
    if (punct !== undefined) {
      tokens.push({ text: punct, column: i + 1 });
      i += punct.length;
      continue;
    }
    if (!WORD_CHAR.test(c)) throw new FilterSyntaxError(i + 1, c, TERM_LIST);
    const start = i;
    while (i < expr.length && WORD_CHAR.test(expr[i])) i++;
    tokens.push({ text: expr.slice(start, i), column: start + 1 });
  }
  return tokens;
}

function isPort(p: DecodedPacket): boolean {
  return p.protocol === IP_PROTOCOL.TCP || p.protocol === IP_PROTOCOL.UDP;
}

function bySide(side: Side, test: (ip: string, n: number | undefined) => boolean): Predicate {
  if (side === "src") return (p) => p.ipVersion !== 0 && test(p.srcIp, p.srcIpNumber);
  if (side === "dst") return (p) => p.ipVersion !== 0 && test(p.dstIp, p.dstIpNumber);
  return (p) => p.ipVersion !== 0 && (test(p.srcIp, p.srcIpNumber) || test(p.dstIp, p.dstIpNumber));
}

function ipv4Value(ip: string, n: number | undefined): number | undefined {
  if (n !== undefined) return n;
  try {
    return ipv4ToNumber(ip);
  } catch (e) {
    if (e instanceof AddressSyntaxError) return undefined;
    throw e;
  }
}

/** Deepest nesting of '(' and 'not' a filter may have; deeper input could overflow the stack. */
export const MAX_FILTER_NESTING = 100;

class Parser {
  #tokens: Token[];
  #pos = 0;
  /** '(' and 'not' open around the token being parsed. */
  #depth = 0;
  #end: number;

  constructor(tokens: Token[], length: number) {
    this.#tokens = tokens;
    this.#end = length + 1;
  }

  parse(): Predicate {
    const predicate = this.#or();
    if (this.#pos < this.#tokens.length) this.#fail("'and', 'or' or the end of the filter");
    return predicate;
  }

  #peek(): string {
    return this.#tokens[this.#pos]?.text.toLowerCase() ?? "";
  }

  #fail(expected: string): never {
    const t = this.#tokens[this.#pos];
    throw new FilterSyntaxError(t?.column ?? this.#end, t?.text ?? "", expected);
  }

  // A chain of `or`/`and` becomes one loop over its operands rather than nested closures, so
  // matching a long chain never goes deeper on the stack than the expression's nesting.
  #or(): Predicate {
    const parts = [this.#and()];
    while (this.#peek() === "or" || this.#peek() === "||") {
      this.#pos++;
      parts.push(this.#and());
    }
    return parts.length === 1 ? parts[0] : (p) => parts.some((part) => part(p));
  }

  #and(): Predicate {
    const parts = [this.#unary()];
    while (this.#peek() === "and" || this.#peek() === "&&") {
      this.#pos++;
      parts.push(this.#unary());
    }
    return parts.length === 1 ? parts[0] : (p) => parts.every((part) => part(p));
  }

  #unary(): Predicate {
    const word = this.#peek();
    if (word !== "not" && word !== "!" && word !== "(") return this.#term();
    if (this.#depth === MAX_FILTER_NESTING) {
      this.#fail(`at most ${MAX_FILTER_NESTING} nested '(' and 'not'`);
    }
    this.#pos++;
    this.#depth++;
    const inner = word === "(" ? this.#or() : this.#unary();
    this.#depth--;
    if (word !== "(") return (p) => !inner(p);
    if (this.#peek() !== ")") this.#fail("')'");
    this.#pos++;
    return inner;
  }

  #term(): Predicate {
    const word = this.#peek();
    this.#pos++;
    const qualifier = this.#qualifier(word);
    if (qualifier !== undefined) {
      if (!ARGUMENT_TERMS.has(this.#peek())) return qualifier;
      const rest = this.#term();
      return (p) => qualifier(p) && rest(p);
    }
    switch (word) {
      case "host":
        return this.#host("any", "host");
      case "net":
        return this.#net("any", "net");
      case "port":
        return this.#port("any", "port");
      case "proto":
        return this.#proto();
      case "src":
      case "dst":
        return this.#target(word);
    }
    this.#pos--;
    return this.#fail(TERM_LIST);
  }

  #qualifier(word: string): Predicate | undefined {
    if (word === "ip") return (p) => p.ipVersion === 4;
    if (word === "ip6") return (p) => p.ipVersion === 6;
    const protocol = PROTOCOL_NAMES.get(word);
    if (protocol === undefined) return undefined;
    return (p) => p.protocol === protocol;
  }

  #target(side: "src" | "dst"): Predicate {
    const word = this.#peek();
    if (word === "host" || word === "net" || word === "port") {
      this.#pos++;
      if (word === "host") return this.#host(side, `${side} host`);
      if (word === "net") return this.#net(side, `${side} net`);
      return this.#port(side, `${side} port`);
    }
    const text = this.#tokens[this.#pos]?.text ?? "";
    if (text.includes("/")) return this.#net(side, side);
    return this.#host(side, side);
  }

  #argument(): string {
    const t = this.#tokens[this.#pos];
    if (t === undefined || PUNCTUATION.includes(t.text)) return "";
    this.#pos++;
    return t.text;
  }

  #host(side: Side, after: string): Predicate {
    const at = this.#pos;
    const text = this.#argument();
    const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(text)
      ? tryParse(() => ipv4ToNumber(text))
      : undefined;
    if (v4 !== undefined) {
      const dotted = numberToIpv4(v4);
      return bySide(side, (ip, n) => n !== undefined ? n === v4 : ip === dotted);
    }
    const v6 = text.includes(":") ? tryParse(() => parseIpv6(text)) : undefined;
    if (v6 !== undefined) {
      const canonical = formatIpv6(v6);
      return bySide(side, (ip) => ip === canonical);
    }
    this.#pos = at;
    return this.#fail(`an IP address after '${after}'`);
  }

  #net(side: Side, after: string): Predicate {
    const at = this.#pos;
    const text = this.#argument();
    const slash = text.indexOf("/");
    const address = slash < 0 ? text : text.slice(0, slash);
    const bitsText = slash < 0 ? undefined : text.slice(slash + 1);
    const fail = (): never => {
      this.#pos = at;
      return this.#fail(`a network prefix after '${after}'`);
    };
    if (bitsText !== undefined && !/^\d{1,3}$/.test(bitsText)) fail();
    if (!address.includes(":")) {
      const octets = address.split(".");
      if (octets.length > 4 || octets.some((o) => !/^\d{1,3}$/.test(o))) fail();
      const padded = [...octets, "0", "0", "0"].slice(0, 4).join(".");
      const base = tryParse(() => ipv4ToNumber(padded));
      const bits = bitsText === undefined ? octets.length * 8 : Number(bitsText);
      if (base === undefined || bits > 32) return fail();
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      if (((base & ~mask) >>> 0) !== 0) {
        this.#pos = at;
        return this.#fail(`a network prefix without host bits after '${after}'`);
      }
      return bySide(side, (ip, n) => {
        const v = ipv4Value(ip, n);
        return v !== undefined && ((v & mask) >>> 0) === base;
      });
    }
    const base = tryParse(() => parseIpv6(address));
    const bits = bitsText === undefined ? 128 : Number(bitsText);
    if (base === undefined || bits > 128) return fail();
    return bySide(side, (ip, n) => {
      if (n !== undefined || !ip.includes(":")) return false;
      const bytes = tryParse(() => parseIpv6(ip));
      return bytes !== undefined && prefixEquals(bytes, base, bits);
    });
  }

  #port(side: Side, after: string): Predicate {
    const at = this.#pos;
    const text = this.#argument();
    const port = /^\d{1,5}$/.test(text) ? Number(text) : -1;
    if (port < 0 || port > 0xffff) {
      this.#pos = at;
      return this.#fail(`a port number after '${after}'`);
    }
    if (side === "src") return (p) => isPort(p) && p.srcPort === port;
    if (side === "dst") return (p) => isPort(p) && p.dstPort === port;
    return (p) => isPort(p) && (p.srcPort === port || p.dstPort === port);
  }

  #proto(): Predicate {
    const at = this.#pos;
    const text = this.#argument().toLowerCase();
    const protocol = /^\d{1,3}$/.test(text) ? Number(text) : PROTOCOL_NAMES.get(text) ?? -1;
    if (protocol < 0 || protocol > 255) {
      this.#pos = at;
      return this.#fail("a protocol number after 'proto'");
    }
    return (p) => p.protocol === protocol;
  }
}

function tryParse<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (e) {
    if (e instanceof AddressSyntaxError) return undefined;
    throw e;
  }
}

function prefixEquals(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole] & mask) === (b[whole] & mask);
}

const MATCH_ALL: Matcher = Object.freeze({ match: () => true });

/**
 * Compiles a filter expression (grammar in the module doc).
 *
 * @param expr the expression; empty or blank matches every packet
 * @returns a matcher reusable for any number of packets
 * @throws {FilterSyntaxError} with the column and token where the grammar was broken
 * @example
 * ```ts
 * const m = parseFilter("tcp port 5930 and not host 10.0.0.9");
 * const hit = m.match(decodePacket(frame, 1));
 * ```
 */
export function parseFilter(expr: string): Matcher {
  const tokens = tokenize(expr);
  if (tokens.length === 0) return MATCH_ALL;
  const predicate = new Parser(tokens, expr.length).parse();
  return { match: predicate };
}
