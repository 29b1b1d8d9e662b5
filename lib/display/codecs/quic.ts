/**
 * SPICE QUIC images (placeholder until the decoder lands).
 *
 * @module
 */
import { type DecodedImage, ImageDecodeError } from "../image.ts";

/**
 * Decodes a QUIC image.
 *
 * @param data the QUIC stream, starting at "QUIC"
 * @returns the pixels, top-down
 * @throws {ImageDecodeError} on corrupt input
 */
export function decodeQuic(data: Uint8Array): DecodedImage {
  throw new ImageDecodeError("quic", {
    offset: 0,
    expected: `a decoder (not written yet; ${data.length} bytes)`,
  });
}
