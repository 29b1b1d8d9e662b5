/**
 * The image codecs the display model decodes with, as one injectable object (so unit tests can
 * stub them and the model never imports a codec it does not call).
 */
import type { DecodedImage, Palette } from "./image.ts";

/** An opaque GLZ dictionary handle, created by {@link CodecSet.createGlzDictionary}. */
export type GlzDictionaryHandle = unknown;

/** Image decoders, one per SPICE image type (see lib/display/codecs). */
export interface CodecSet {
  /** BITMAP: raw rows in any SPICE bitmap format. */
  decodeBitmap(input: {
    format: number;
    flags: number;
    width: number;
    height: number;
    stride: number;
    palette?: Palette;
    data: Uint8Array;
  }): DecodedImage;
  /** QUIC. */
  decodeQuic(data: Uint8Array): DecodedImage;
  /** LZ_RGB and LZ_PLT (palette for the latter). */
  decodeLz(data: Uint8Array, options: { palette?: Palette }): DecodedImage;
  /** A GLZ dictionary of `windowSize` pixels (DISPLAY_INIT's glz window). */
  createGlzDictionary(windowSize: number): GlzDictionaryHandle;
  /** GLZ_RGB against the channel's dictionary (which it updates). */
  decodeGlz(data: Uint8Array, dictionary: GlzDictionaryHandle): DecodedImage;
  /** ZLIB_GLZ_RGB: zlib around GLZ data of `glzSize` bytes. */
  decodeZlibGlz(
    data: Uint8Array,
    options: { glzSize: number; dictionary: GlzDictionaryHandle },
  ): DecodedImage;
  /** LZ4, at the descriptor's size. */
  decodeLz4(data: Uint8Array, options: { width: number; height: number }): DecodedImage;
  /**
   * JPEG images, and MJPEG stream frames (`streamFrame`, which spice-gtk decodes with faster,
   * slightly different settings).
   */
  decodeJpeg(data: Uint8Array, options?: { streamFrame?: boolean }): DecodedImage;
  /** JPEG_ALPHA: JPEG of `jpegSize` bytes then LZ alpha. */
  decodeJpegAlpha(data: Uint8Array, options: { jpegSize: number; flags: number }): DecodedImage;
}
