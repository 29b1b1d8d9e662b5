/**
 * Normalised message-level diff of SPICE captures: named normalisers for the fields that differ
 * between runs (session ids, keys, tickets, clocks, pings, acks, serials), JSON rules, a
 * streaming bounded-look-ahead alignment per channel direction, and text / NDJSON reports.
 *
 * @module
 */
export * from "./normalisers.ts";
export * from "./normalise.ts";
export * from "./fields.ts";
export * from "./rules.ts";
export * from "./compare.ts";
export * from "./align.ts";
export * from "./hexdump.ts";
export * from "./diff_captures.ts";
export * from "./diff_pair.ts";
export * from "./split.ts";
export * from "./report.ts";
export * from "./session_source.ts";
