import assert from "node:assert/strict";
import { FilterSyntaxError, MAX_FILTER_NESTING, parseFilter } from "./filter.ts";
import type { DecodedPacket } from "./types.ts";

function packet(fields: Partial<DecodedPacket>): DecodedPacket {
  return {
    ipVersion: 4,
    srcIp: "10.0.0.1",
    dstIp: "10.0.0.2",
    protocol: 6,
    srcPort: 10001,
    dstPort: 5930,
    payload: new Uint8Array(0),
    problems: [],
    ...fields,
  };
}

const TCP_C2S = packet({});
const TCP_S2C = packet({ srcIp: "10.0.0.2", dstIp: "10.0.0.1", srcPort: 5930, dstPort: 10001 });
const UDP_DNS = packet({
  protocol: 17,
  srcIp: "192.168.1.5",
  dstIp: "8.8.8.8",
  srcPort: 40000,
  dstPort: 53,
});
const ICMP = packet({ protocol: 1, srcIp: "10.1.2.3", dstIp: "10.0.0.1", srcPort: 0, dstPort: 0 });
const TCP6 = packet({
  ipVersion: 6,
  srcIp: "2001:db8::1",
  dstIp: "fe80::2",
  srcPort: 443,
  dstPort: 50000,
});
const ICMP6 = packet({
  ipVersion: 6,
  protocol: 58,
  srcIp: "::1",
  dstIp: "::1",
  srcPort: 0,
  dstPort: 0,
});
const ARP = packet({ ipVersion: 0, protocol: -1, srcIp: "", dstIp: "", srcPort: 0, dstPort: 0 });
const ALL = [TCP_C2S, TCP_S2C, UDP_DNS, ICMP, TCP6, ICMP6, ARP];
const NAMES = ["tcpC2S", "tcpS2C", "udp", "icmp", "tcp6", "icmp6", "arp"];

function hits(expr: string): string[] {
  const m = parseFilter(expr);
  return ALL.flatMap((p, i) => m.match(p) ? [NAMES[i]] : []);
}

Deno.test("parseFilter() of an empty expression matches everything", () => {
  assert.deepEqual(hits(""), NAMES);
  assert.deepEqual(hits("   "), NAMES);
});

Deno.test("parseFilter() matches hosts, ports, nets and protocols", () => {
  assert.deepEqual(hits("host 10.0.0.1"), ["tcpC2S", "tcpS2C", "icmp"]);
  assert.deepEqual(hits("src 10.0.0.1"), ["tcpC2S"]);
  assert.deepEqual(hits("dst host 10.0.0.1"), ["tcpS2C", "icmp"]);
  assert.deepEqual(hits("port 5930"), ["tcpC2S", "tcpS2C"]);
  assert.deepEqual(hits("dst port 53"), ["udp"]);
  assert.deepEqual(hits("src port 5930"), ["tcpS2C"]);
  assert.deepEqual(hits("port 0"), [], "port never matches packets without ports");
  assert.deepEqual(hits("net 10.0.0.0/8"), ["tcpC2S", "tcpS2C", "icmp"]);
  assert.deepEqual(hits("src net 10.1"), ["icmp"]);
  assert.deepEqual(hits("dst 8.8.0.0/16"), ["udp"]);
  assert.deepEqual(hits("net 2001:db8::/32"), ["tcp6"]);
  assert.deepEqual(hits("host 2001:DB8:0::1"), ["tcp6"]);
  assert.deepEqual(hits("dst fe80::2"), ["tcp6"]);
  assert.deepEqual(hits("tcp"), ["tcpC2S", "tcpS2C", "tcp6"]);
  assert.deepEqual(hits("udp"), ["udp"]);
  assert.deepEqual(hits("icmp"), ["icmp"]);
  assert.deepEqual(hits("icmp6"), ["icmp6"]);
  assert.deepEqual(hits("ip"), ["tcpC2S", "tcpS2C", "udp", "icmp"]);
  assert.deepEqual(hits("ip6"), ["tcp6", "icmp6"]);
  assert.deepEqual(hits("proto 17"), ["udp"]);
  assert.deepEqual(hits("proto icmp6"), ["icmp6"]);
  assert.deepEqual(hits("not ip and not ip6"), ["arp"]);
});

Deno.test("parseFilter() reads 'tcp port 5930' as 'tcp and port 5930'", () => {
  assert.deepEqual(hits("tcp port 5930"), ["tcpC2S", "tcpS2C"]);
  assert.deepEqual(hits("udp port 5930"), []);
  assert.deepEqual(hits("ip6 host ::1"), ["icmp6"]);
  assert.deepEqual(hits("TCP DST PORT 50000"), ["tcp6"]);
});

Deno.test("parseFilter() gives 'and' precedence over 'or' and honours parentheses", () => {
  // icmp or (udp and port 5930) → icmp only
  assert.deepEqual(hits("icmp or udp and port 5930"), ["icmp"]);
  assert.deepEqual(hits("(icmp or udp) and port 53"), ["udp"]);
  assert.deepEqual(hits("icmp || udp && port 53"), ["udp", "icmp"]);
  assert.deepEqual(hits("not tcp and ip"), ["udp", "icmp"]);
  assert.deepEqual(hits("!(tcp or ip6)"), ["udp", "icmp", "arp"]);
  assert.deepEqual(hits("! ! tcp"), ["tcpC2S", "tcpS2C", "tcp6"]);
  assert.deepEqual(hits("((host 10.0.0.2) and (src port 10001 or src port 5930))"), [
    "tcpC2S",
    "tcpS2C",
  ]);
});

function syntaxError(expr: string): FilterSyntaxError {
  try {
    parseFilter(expr);
  } catch (e) {
    if (e instanceof FilterSyntaxError) return e;
    throw e;
  }
  assert.fail(`'${expr}' parsed`);
}

Deno.test("parseFilter() reports the column and token of a syntax error", () => {
  let e = syntaxError("tcp port abc");
  assert.equal(e.message, "filter: column 10: expected a port number after 'port', found 'abc'");
  assert.deepEqual([e.column, e.token], [10, "abc"]);
  e = syntaxError("host 10.0.0.1 and");
  assert.equal(e.message.includes("column 18: expected a filter term"), true);
  assert.equal(e.message.endsWith("found the end of the filter"), true);
  assert.deepEqual([e.column, e.token], [18, ""]);
  e = syntaxError("(tcp or udp");
  assert.equal(e.message, "filter: column 12: expected ')', found the end of the filter");
  e = syntaxError("tcp udp");
  assert.equal(
    e.message,
    "filter: column 5: expected 'and', 'or' or the end of the filter, found 'udp'",
  );
  e = syntaxError("host example.com");
  assert.deepEqual([e.column, e.token], [6, "example.com"]);
  assert.match(e.message, /expected an IP address after 'host'/);
  e = syntaxError("port 65536");
  assert.match(e.message, /column 6: expected a port number after 'port', found '65536'/);
  e = syntaxError("net 10.0.0.1/8");
  assert.match(e.message, /without host bits/);
  e = syntaxError("src net 10.0.0.0/33");
  assert.match(e.message, /column 9: expected a network prefix after 'src net'/);
  e = syntaxError("proto 300");
  assert.deepEqual([e.column, e.token], [7, "300"]);
  e = syntaxError("tcp & udp");
  assert.deepEqual([e.column, e.token], [5, "&"]);
  e = syntaxError("frobnicate");
  assert.deepEqual([e.column, e.token], [1, "frobnicate"]);
  e = syntaxError("tcp and ()");
  assert.deepEqual([e.column, e.token], [10, ")"]);
  e = syntaxError("host (");
  assert.deepEqual([e.column, e.token], [6, "("]);
});

Deno.test("parseFilter() bounds the nesting of '(' and 'not' instead of overflowing the stack", () => {
  const parens = (n: number) => "(".repeat(n) + "tcp" + ")".repeat(n);
  const tcp = packet({});
  assert.equal(parseFilter(parens(MAX_FILTER_NESTING)).match(tcp), true);
  assert.equal(parseFilter("not ".repeat(MAX_FILTER_NESTING) + "tcp").match(tcp), true);
  let e = syntaxError(parens(5000));
  assert.deepEqual([e.column, e.token], [MAX_FILTER_NESTING + 1, "("]);
  assert.match(e.message, /column 101: expected at most 100 nested '\(' and 'not'/);
  e = syntaxError("!".repeat(50_000) + "tcp");
  assert.deepEqual([e.column, e.token], [MAX_FILTER_NESTING + 1, "!"]);
  e = syntaxError("(not ".repeat(60) + "tcp");
  assert.deepEqual([e.column, e.token], [251, "("]);
});

Deno.test("a filter of 30 000 'or' terms matches without deep recursion", () => {
  const terms = Array.from({ length: 30_000 }, (_, i) => `port ${i % 65_536}`);
  const p = packet({ srcPort: 70_000, dstPort: 99_999 });
  assert.equal(parseFilter(terms.join(" or ")).match(p), false);
  assert.equal(parseFilter(terms.join(" and ")).match(p), false);
  assert.equal(parseFilter([...terms, "tcp"].join(" or ")).match(p), true);
});
