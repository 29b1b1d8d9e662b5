/** The real image codecs of lib/display/codecs as a {@link CodecSet}. */
import {
  decodeBitmap,
  decodeGlz,
  decodeJpeg,
  decodeJpegAlpha,
  decodeLz,
  decodeLz4,
  decodeQuic,
  decodeZlibGlz,
  GlzDictionary,
} from "./codecs/mod.ts";
import type { CodecSet, GlzDictionaryHandle } from "./codec_set.ts";

function dictionary(handle: GlzDictionaryHandle): GlzDictionary {
  if (!(handle instanceof GlzDictionary)) {
    throw new TypeError("not a GLZ dictionary of this codec set");
  }
  return handle;
}

/** spicecap's own decoders for every SPICE image type. */
export const DEFAULT_CODECS: CodecSet = Object.freeze({
  decodeBitmap,
  decodeQuic,
  decodeLz,
  createGlzDictionary: (windowSize: number) => new GlzDictionary({ windowSize }),
  decodeGlz: (data: Uint8Array, d: GlzDictionaryHandle) => decodeGlz(data, dictionary(d)),
  decodeZlibGlz: (data: Uint8Array, o: { glzSize: number; dictionary: GlzDictionaryHandle }) =>
    decodeZlibGlz(data, { glzSize: o.glzSize, dictionary: dictionary(o.dictionary) }),
  decodeLz4,
  decodeJpeg,
  decodeJpegAlpha,
});
