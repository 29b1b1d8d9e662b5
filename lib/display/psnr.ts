/**
 * Peak signal-to-noise ratio between two pictures of the same size: how far a lossy rendering
 * (JPEG images, MJPEG stream frames) is from a reference, in decibels.
 *
 * @module
 */

/** A picture as packed 8-bit samples (RGB, as a decoded PPM holds them). */
export interface SampledImage {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Samples, `width × height × channels` bytes. */
  rgb: Uint8Array;
}

/**
 * PSNR of `ours` against `reference` over every sample: 10·log10(255² / mean squared error).
 *
 * @param ours the picture to judge
 * @param reference the picture taken as right
 * @returns decibels; Infinity when the samples are equal
 * @throws {RangeError} when the sizes differ
 */
export function psnr(ours: SampledImage, reference: SampledImage): number {
  if (
    ours.width !== reference.width || ours.height !== reference.height ||
    ours.rgb.length !== reference.rgb.length || ours.rgb.length === 0
  ) {
    throw new RangeError(
      `pictures differ in size: ${ours.width}×${ours.height} and ` +
        `${reference.width}×${reference.height}`,
    );
  }
  let sum = 0;
  for (let i = 0; i < ours.rgb.length; i++) {
    const d = ours.rgb[i] - reference.rgb[i];
    sum += d * d;
  }
  if (sum === 0) return Infinity;
  return 10 * Math.log10((255 * 255) / (sum / ours.rgb.length));
}
