/**
 * SPICE ticket: the password encrypted under the RSA key of the link reply (docs/protocol.md
 * "Authentication and ticket").
 */
import { TICKET_BYTES } from "./link.ts";

/** Longest password spice-server accepts, in UTF-8 bytes (SPICE_MAX_PASSWORD_LENGTH). */
export const MAX_PASSWORD_BYTES = 60;

/** A ticket cannot be made: password too long, or the key is not an RSA SubjectPublicKeyInfo. */
export class SpiceTicketError extends Error {
  /** Always "SpiceTicketError". */
  override name = "SpiceTicketError";
}

/**
 * Encrypts `password` + NUL with RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) under the link reply's
 * public key. OAEP is randomised, so every call gives a different 128-byte ticket.
 *
 * @param spki the link reply's 162-byte DER SubjectPublicKeyInfo (`LinkReply.pubKey`)
 * @param password UTF-8 password, at most 60 bytes ("" when ticketing is disabled)
 * @returns the 128-byte ticket
 * @throws {SpiceTicketError} password longer than 60 bytes, or a key WebCrypto cannot import
 * @example const ticket = await makeTicket(reply.pubKey, "secret");
 */
export async function makeTicket(
  spki: Uint8Array,
  password: string,
): Promise<Uint8Array<ArrayBuffer>> {
  const utf8 = new TextEncoder().encode(password);
  if (utf8.length > MAX_PASSWORD_BYTES) {
    throw new SpiceTicketError(
      `Cannot make a SPICE ticket: the password is ${utf8.length} bytes, the limit is ${MAX_PASSWORD_BYTES}`,
    );
  }
  const plain = new Uint8Array(utf8.length + 1); // trailing NUL: older servers need it
  plain.set(utf8);
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "spki",
      spki.slice(),
      { name: "RSA-OAEP", hash: "SHA-1" },
      false,
      ["encrypt"],
    );
  } catch (e) {
    if (!(e instanceof DOMException)) throw e;
    throw new SpiceTicketError(
      `Cannot make a SPICE ticket: the ${spki.length}-byte public key is not an RSA SubjectPublicKeyInfo: ${e.message}`,
    );
  }
  const ticket = new Uint8Array(await crypto.subtle.encrypt({ name: "RSA-OAEP" }, key, plain));
  if (ticket.length !== TICKET_BYTES) {
    throw new SpiceTicketError(
      `Cannot make a SPICE ticket: the key gives ${ticket.length}-byte ciphertext, SPICE needs ${TICKET_BYTES} (RSA-1024)`,
    );
  }
  return ticket;
}
