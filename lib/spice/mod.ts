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
 *     console.log(unit.name, decodeMessage(framer.channelType!, { ...unit, body: messageBody(unit) }));
 *   }
 * }
 * ```
 *
 * @module
 */
export {
  SPICE_LINK_KINDS,
  SpiceFramingError,
  type SpiceLinkKind,
  type SpiceLinkUnit,
  type SpiceMessage,
  type SpiceSubMessage,
  type SpiceUnit,
  type SpiceUnitKind,
} from "./types.ts";
export {
  capNames,
  CHANNEL_TYPES,
  type ChannelName,
  channelName,
  channelType,
  FIRST_CHANNEL_MESSAGE,
  linkErrorName,
  type MessageKey,
  messageName,
  messageType,
} from "./tables.ts";
export {
  AUTH_MECHANISM_SPICE,
  buildLinkMessage,
  buildLinkReply,
  buildMessage,
  type BuildMessageOptions,
  buildU32,
  capWords,
  COMMON_CAP,
  FULL_HEADER_BYTES,
  hasCap,
  LINK_HEADER_BYTES,
  type LinkMessage,
  type LinkReply,
  type MessageHeader,
  MINI_HEADER_BYTES,
  parseLinkMessage,
  parseLinkReply,
  parseMessageHeader,
  setConnectionId,
  SPICE_MAGIC,
  SPICE_VERSION_MAJOR,
  SPICE_VERSION_MINOR,
  TICKET_BYTES,
} from "./link.ts";
export { makeTicket, MAX_PASSWORD_BYTES, SpiceTicketError } from "./ticket.ts";
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  SpiceConnectionFramer,
  type SpiceFramerOptions,
} from "./framer.ts";
export {
  decodeMessage,
  hasDecoder,
  messageBody,
  type MessageFields,
  NONDETERMINISTIC_FIELDS,
  type NondeterministicField,
  summarizeFields,
} from "./messages.ts";
