/**
 * SPICE JPEG images (`JPEG`, `JPEG_ALPHA`) and MJPEG stream frames, decoded by libjpeg-turbo
 * (WebAssembly, `jpeg_turbo.ts`) with the settings spice-gtk uses, so the pixels match the
 * client's; `JPEG_ALPHA` appends an LZ XXXA alpha plane after the JPEG bytes.
 *
 * @module
 */
import { type DecodedImage, ImageDecodeError } from "../image.ts";
import { ALPHA_KIND, ByteCursor, LZ_TYPES } from "./_lz_common.ts";
import { lzDecompress, readLzHeader } from "./lz.ts";
import { type JpegDecodeOptions, turboDecode } from "./jpeg_turbo.ts";

export type { JpegDecodeOptions } from "./jpeg_turbo.ts";

/** `JPEG_ALPHA` flag: the alpha plane's first row is the top one. */
export const JPEG_ALPHA_FLAGS_TOP_DOWN = 1;

/**
 * Decodes a JPEG image to BGRA, opaque: libjpeg's default settings (accurate integer IDCT, fancy
 * upsampling) as spice-gtk's image decoder, or with `streamFrame` its MJPEG stream decoder's
 * (fast integer IDCT, plain upsampling). A frame without Huffman tables (later MJPEG stream
 * frames) is read with the standard ones.
 *
 * @param data the JFIF bytes
 * @param options `streamFrame`: an MJPEG stream frame
 * @returns the pixels, top-down
 * @throws {ImageDecodeError} when libjpeg-turbo rejects the data or the size is over the limits
 */
export function decodeJpeg(data: Uint8Array, options: JpegDecodeOptions = {}): DecodedImage {
  const { width, height, pixels } = turboDecode(data, options);
  return { width, height, pixels, hasAlpha: false };
}

/**
 * Decodes a `JPEG_ALPHA` image: the JPEG colour (always top-down) and the LZ XXXA alpha plane
 * that follows it (bottom-up unless `JPEG_ALPHA_FLAGS_TOP_DOWN`).
 *
 * @param data the JPEG bytes followed by the LZ alpha stream
 * @param options `jpegSize`: bytes of JPEG at the start; `flags`: the image's jpeg_alpha flags
 * @throws {ImageDecodeError} on a bad JPEG, an alpha plane that is not XXXA of the same size and
 *   orientation, or corrupt alpha
 */
export function decodeJpegAlpha(
  data: Uint8Array,
  options: { jpegSize: number; flags: number },
): DecodedImage {
  const { jpegSize } = options;
  if (!Number.isInteger(jpegSize) || jpegSize < 0 || jpegSize > data.length) {
    throw new ImageDecodeError("jpeg-alpha", {
      offset: 0,
      expected: `a JPEG size in 0..${data.length}, found ${jpegSize}`,
    });
  }
  const image = decodeJpeg(data.subarray(0, jpegSize));
  const { width, height } = image;
  const header = readLzHeader(data, jpegSize);
  const topDown = (options.flags & JPEG_ALPHA_FLAGS_TOP_DOWN) !== 0;
  const cur = new ByteCursor("lz", { src: data, start: header.bodyOffset });
  if (
    header.type !== LZ_TYPES.XXXA || header.width !== width || header.height !== height ||
    header.topDown !== topDown
  ) {
    throw cur.error(
      `an XXXA alpha plane ${width}x${height} ${
        topDown ? "top-down" : "bottom-up"
      }, found type ${header.type} ${header.width}x${header.height} ${
        header.topDown ? "top-down" : "bottom-up"
      }`,
      jpegSize,
    );
  }
  const alpha = new Uint32Array(width * height);
  lzDecompress(cur, { px: alpha, kind: ALPHA_KIND });
  const px = image.pixels;
  for (let r = 0; r < height; r++) {
    const y = topDown ? r : height - 1 - r;
    for (let x = 0, a = r * width, o = y * width * 4 + 3; x < width; x++, a++, o += 4) {
      px[o] = alpha[a] >>> 24;
    }
  }
  return { width, height, pixels: px, hasAlpha: true };
}
