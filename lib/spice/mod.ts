/**
 * The pure SPICE protocol layer: message and capability tables for every channel and both
 * directions, link-phase codecs, RSA-OAEP tickets (WebCrypto), a framer that cuts both byte
 * streams of one TCP connection into link units and whole messages, and table-driven field
 * decoders with the list of fields that differ between runs. No I/O: bytes in, values out.
 *
 * @example
 * ```ts
 * import { decodeMessage, messageBody, SpiceConnectionFramer } from "./lib/spice/mod.ts";
 * const framer = new SpiceConnectionFramer();
 * framer.pushClient(clientLinkBytes);
 * for (const unit of framer.pushServer(serverBytes)) {
 *   if (unit.kind === "message") {
 *     console.log(unit.name, decodeMessage(framer.channelType!, false, unit.type!, messageBody(unit)));
 *   }
 * }
 * ```
 *
 * @module
 */
export * from "./types.ts";
export * from "./tables.ts";
export * from "./link.ts";
export * from "./ticket.ts";
export * from "./framer.ts";
export * from "./messages.ts";
