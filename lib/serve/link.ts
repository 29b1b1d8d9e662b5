/**
 * The server's half of the link phase (docs/protocol.md "Link phase"): a fresh RSA-1024 key per
 * connection, the link reply with the recorded capabilities and the new key, the checks a server
 * makes on a client link message, and decrypting the client's ticket.
 */
import {
  buildLinkReply,
  type LinkMessage,
  parseLinkReply,
  PUBKEY_BYTES,
  SPICE_VERSION_MAJOR,
  SPICE_VERSION_MINOR,
  TICKET_BYTES,
} from "../spice/link.ts";
import { CHANNEL_TYPES as CHANNEL } from "../spice/tables.ts";

/** Link error codes a server answers with (SPICE_LINK_ERR_*). */
export const LINK_ERROR: Readonly<{
  OK: 0;
  ERROR: 1;
  VERSION_MISMATCH: 4;
  PERMISSION_DENIED: 7;
  BAD_CONNECTION_ID: 8;
  CHANNEL_NOT_AVAILABLE: 9;
}> = Object.freeze(
  {
    OK: 0,
    ERROR: 1,
    VERSION_MISMATCH: 4,
    PERMISSION_DENIED: 7,
    BAD_CONNECTION_ID: 8,
    CHANNEL_NOT_AVAILABLE: 9,
  } as const,
);

/** A connection's RSA-OAEP key pair: the SPKI goes into the link reply. */
export interface ServerKey {
  /** DER SubjectPublicKeyInfo, 162 bytes for RSA-1024. */
  spki: Uint8Array;
  /** Decrypts the ticket. */
  privateKey: CryptoKey;
}

/**
 * Makes a new RSA-OAEP (SHA-1) 1024-bit key pair with exponent 65537, as spice-server does for
 * every connection.
 *
 * @throws {Error} when WebCrypto gives a public key that is not 162 bytes of SPKI
 */
export async function makeServerKey(): Promise<ServerKey> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSA-OAEP",
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-1",
    },
    true,
    ["encrypt", "decrypt"],
  );
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  if (spki.length !== PUBKEY_BYTES) {
    throw new Error(
      `an RSA-1024 SubjectPublicKeyInfo is ${PUBKEY_BYTES} bytes, got ${spki.length}`,
    );
  }
  return { spki, privateKey: pair.privateKey };
}

/**
 * The password inside a ticket: RSA-OAEP decryption, up to the first NUL.
 *
 * @param key the connection's private key
 * @param ticket the client's 128-byte ticket
 * @returns the password, or undefined when the ticket does not decrypt under this key
 */
export async function decryptTicket(
  key: CryptoKey,
  ticket: Uint8Array,
): Promise<string | undefined> {
  if (ticket.length !== TICKET_BYTES) return undefined;
  let plain: Uint8Array;
  try {
    plain = new Uint8Array(await crypto.subtle.decrypt({ name: "RSA-OAEP" }, key, ticket.slice()));
  } catch {
    return undefined;
  }
  const nul = plain.indexOf(0);
  return new TextDecoder().decode(nul < 0 ? plain : plain.subarray(0, nul));
}

/**
 * Whether a decrypted ticket lets the client in: anything when no password is set, else the
 * exact password.
 *
 * @param decrypted what {@link decryptTicket} gave
 * @param password the server's password; undefined accepts any ticket
 */
export function ticketAccepted(decrypted: string | undefined, password?: string): boolean {
  return password === undefined || decrypted === password;
}

/**
 * The link reply to send: the recorded reply's version and capabilities with this connection's
 * public key.
 *
 * @param recorded the recorded link reply (header + body)
 * @param spki this connection's public key
 */
export function linkReplyFor(recorded: Uint8Array, spki: Uint8Array): Uint8Array {
  const r = parseLinkReply(recorded);
  return buildLinkReply({ ...r, error: LINK_ERROR.OK, pubKey: spki });
}

/**
 * A refusing link reply: the error code, a zeroed key and no capabilities, as spice-server
 * sends one.
 *
 * @param error a {@link LINK_ERROR} code
 */
export function refusalReply(error: number): Uint8Array {
  return buildLinkReply({
    major: SPICE_VERSION_MAJOR,
    minor: SPICE_VERSION_MINOR,
    error,
    pubKey: new Uint8Array(PUBKEY_BYTES),
    commonCaps: [],
    channelCaps: [],
  });
}

/** What a link message is checked against. */
export interface LinkContext {
  /** The live session id, once main has linked; undefined before. */
  sessionId?: number;
  /** Whether the recording has a connection left to serve for this (type, id). */
  available: (channelType: number, channelId: number) => boolean;
}

/**
 * The link error a server answers a client link message with, 0 when it may go on: the version,
 * a main link with connection_id 0 and no session yet, a secondary link carrying the live
 * session id, and a channel the recording can serve.
 *
 * @param link the parsed client link message
 * @param ctx the session's state
 */
export function checkLink(link: LinkMessage, ctx: LinkContext): number {
  if (link.major !== SPICE_VERSION_MAJOR) return LINK_ERROR.VERSION_MISMATCH;
  if (link.channelType === CHANNEL.main) {
    if (link.connectionId !== 0) return LINK_ERROR.BAD_CONNECTION_ID;
  } else if (ctx.sessionId === undefined || link.connectionId !== ctx.sessionId) {
    return LINK_ERROR.BAD_CONNECTION_ID;
  }
  if (!ctx.available(link.channelType, link.channelId)) return LINK_ERROR.CHANNEL_NOT_AVAILABLE;
  return LINK_ERROR.OK;
}
