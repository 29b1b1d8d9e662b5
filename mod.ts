/**
 * spicecap: record SPICE sessions as per-channel pcap/pcapng captures with synthetic TCP, read
 * them back as streams, check their invariants, and diff them against golden captures.
 *
 * Layers, lowest first (docs/architecture.md "Layers"): `lib/net` (frames, flows, filters),
 * `lib/pcap` (file formats) and `lib/spice` (protocol), `lib/capture` (recording),
 * `lib/session` (reading back as SPICE messages), `lib/check` and `lib/diff`.
 *
 * @module
 */
export * from "./lib/pcap/mod.ts";
export * from "./lib/net/mod.ts";
export * from "./lib/spice/mod.ts";
export * from "./lib/capture/mod.ts";
export * from "./lib/session/mod.ts";
export * from "./lib/check/mod.ts";
export * from "./lib/diff/mod.ts";
