/**
 * Synthetic SPICE byte streams for proxy tests and the proxy benchmark: a real link phase
 * (as spice-gtk and QEMU send it) followed by mini-header messages.
 */
import {
  buildLinkMessage,
  buildLinkReply,
  buildMessage,
  buildU32,
  capWords,
  COMMON_CAP,
  PUBKEY_BYTES,
  SPICE_VERSION_MAJOR,
  SPICE_VERSION_MINOR,
  TICKET_BYTES,
} from "../lib/spice/link.ts";

/** The five link-phase pieces of one connection, each as it goes on the wire. */
export interface SyntheticLink {
  /** Client: link header + link message. */
  link: Uint8Array;
  /** Server: link header + link reply. */
  reply: Uint8Array;
  /** Client: auth mechanism 1 (SPICE ticket). */
  authMechanism: Uint8Array;
  /** Client: 128-byte ticket (0xAA bytes, so a scrubbed record is recognisable). */
  ticket: Uint8Array;
  /** Server: link result. */
  result: Uint8Array;
}

/**
 * The link phase of a channel with the caps spice-gtk and QEMU use (mini header, auth selection).
 *
 * @param channelType channel type
 * @param options channel id, connection id, link result
 */
export function syntheticLink(
  channelType: number,
  options: { channelId?: number; connectionId?: number; result?: number } = {},
): SyntheticLink {
  const version = { major: SPICE_VERSION_MAJOR, minor: SPICE_VERSION_MINOR };
  return {
    link: buildLinkMessage({
      ...version,
      connectionId: options.connectionId ?? 0,
      channelType,
      channelId: options.channelId ?? 0,
      commonCaps: capWords([
        COMMON_CAP.AUTH_SELECTION,
        COMMON_CAP.AUTH_SASL,
        COMMON_CAP.MINI_HEADER,
      ]),
      channelCaps: [],
    }),
    reply: buildLinkReply({
      ...version,
      error: 0,
      pubKey: new Uint8Array(PUBKEY_BYTES).fill(0x30),
      commonCaps: capWords([
        COMMON_CAP.AUTH_SELECTION,
        COMMON_CAP.AUTH_SPICE,
        COMMON_CAP.MINI_HEADER,
      ]),
      channelCaps: [],
    }),
    authMechanism: buildU32(1),
    ticket: new Uint8Array(TICKET_BYTES).fill(0xaa),
    result: buildU32(options.result ?? 0),
  };
}

/** A mini-header message with a body of `size` bytes (filled with `fill`). */
export function syntheticMessage(type: number, size: number, fill = 0x5a): Uint8Array {
  return buildMessage(type, new Uint8Array(size).fill(fill), { miniHeader: true });
}

/** Body sizes cycled by {@link syntheticMessageSizes}: many small, some large, like a display. */
const SIZE_CYCLE = Object.freeze([0, 12, 40, 200, 1500, 6_885, 32, 64_000, 18, 300_000]);

/**
 * Body sizes of mixed messages adding up to at least `totalBytes` of wire bytes.
 *
 * @param totalBytes wire bytes wanted (headers included)
 */
export function syntheticMessageSizes(totalBytes: number): number[] {
  const sizes: number[] = [];
  let total = 0;
  for (let i = 0; total < totalBytes; i++) {
    const size = SIZE_CYCLE[i % SIZE_CYCLE.length];
    sizes.push(size);
    total += size + 6;
  }
  return sizes;
}
