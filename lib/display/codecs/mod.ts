/**
 * The SPICE image codecs: bytes in, top-down BGRA pixels out (`DecodedImage`).
 *
 * @module
 */
export { type BitmapInput, decodeBitmap } from "./bitmap.ts";
export { decodeQuic } from "./quic.ts";
export { decodeLz } from "./lz.ts";
export { decodeGlz, decodeZlibGlz, GlzDictionary, type GlzEntry } from "./glz.ts";
export { decodeLz4 } from "./lz4.ts";
export { decodeJpeg, decodeJpegAlpha, JPEG_ALPHA_FLAGS_TOP_DOWN } from "./jpeg.ts";
