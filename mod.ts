/**
 * spicecap: record, read, check, replay and diff SPICE sessions as pcap/pcapng captures.
 *
 * @module
 */
export * from "./lib/pcap/types.ts";
export * from "./lib/net/types.ts";
export * from "./lib/spice/types.ts";
export * from "./lib/capture/clock.ts";
