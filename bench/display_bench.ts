/**
 * Image codec decode speed in megapixels per second on a 1920×1080 synthetic desktop-like image
 * (flat panels, gradients, text-like noise), streams made by the test encoders. JPEG is timed
 * against `djpeg` (libjpeg-turbo) on the same file, in the same run, when it is installed. Then
 * `render` over recorded sessions: speed against the session's duration and peak memory
 * (display_sessions.ts).
 */
// jpeg-js encodes the test picture; decoding is libjpeg-turbo's (lib/display/codecs/jpeg_turbo.ts)
// deno-lint-ignore no-import-prefix -- pinned npm specifier, as the project uses no import map
import jpeg from "npm:jpeg-js@0.4.4";
import { hasTool } from "../harness/processes/tools.ts";
import {
  decodeGlz,
  decodeLz,
  decodeLz4,
  decodeQuic,
  GlzDictionary,
} from "../lib/display/codecs/mod.ts";
import { decodeJpeg } from "../lib/display/codecs/jpeg.ts";
import { encodeQuic } from "../testing/quic_encoder.ts";
import { encodeGlz, encodeLz, lz4Blocks, LZ_TYPE } from "../testing/lz_encoder.ts";
import { lcg, makeImage } from "../testing/codec_images.ts";
import { displaySessionRows } from "./display_sessions.ts";
import type { Bench, BenchRow } from "./types.ts";

const WIDTH = 1920, HEIGHT = 1080, MPX = (WIDTH * HEIGHT) / 1e6;

function desktop() {
  const rnd = lcg(9);
  return makeImage("desktop", {
    width: WIDTH,
    height: HEIGHT,
    f: (x, y, c) => {
      if (y < 40) return 50 + c * 20;
      if (x < 300) return 230 - c * 5;
      if ((y >> 4) % 3 === 0 && x > 350 && x < 1500) return rnd() & 1 ? 20 : 240;
      return (x >> 3) + (y >> 2) + c * 30;
    },
  });
}

function mpxPerSecond(runs: number, f: () => unknown): number {
  f();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) f();
  return (MPX * runs) / ((performance.now() - t0) / 1000);
}

async function djpegMpx(data: Uint8Array, runs: number): Promise<number | undefined> {
  if (!(await hasTool("djpeg"))) return undefined;
  const file = await Deno.makeTempFile({ suffix: ".jpg" });
  try {
    await Deno.writeFile(file, data);
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      await new Deno.Command("djpeg", { args: ["-bmp", "-outfile", "/dev/null", file] }).output();
    }
    return (MPX * runs) / ((performance.now() - t0) / 1000);
  } finally {
    await Deno.remove(file);
  }
}

/** Decode megapixels/s per codec. */
export const bench: Bench = async ({ quick }) => {
  const runs = quick ? 2 : 8;
  const image = desktop();
  const base = { width: WIDTH, height: HEIGHT, pixels: image.pixels };
  const quic = encodeQuic(base, 4);
  const lz = encodeLz({ ...base, type: LZ_TYPE.RGB32, topDown: true });
  const glz = encodeGlz({ ...base, type: LZ_TYPE.RGB32, id: 0n, winHeadDist: 0, topDown: true });
  const lz4 = new Uint8Array([1, 8, ...lz4Blocks(image.pixels)]);
  const rgba = image.pixels.slice();
  const jpg = jpeg.encode({ data: rgba, width: WIDTH, height: HEIGHT }, 85).data;
  const row = (name: string, value: number, extra: Partial<BenchRow> = {}): BenchRow => ({
    name,
    value,
    unit: "Mpx/s",
    ...extra,
  });
  const rows = [
    row("decode QUIC RGB32 1080p", mpxPerSecond(runs, () => decodeQuic(quic))),
    row("decode LZ RGB32 1080p", mpxPerSecond(runs, () => decodeLz(lz))),
    row(
      "decode GLZ RGB32 1080p",
      mpxPerSecond(runs, () => decodeGlz(glz, new GlzDictionary({ windowSize: 1 << 24 }))),
    ),
    row(
      "decode LZ4 32BIT 1080p",
      mpxPerSecond(runs, () => decodeLz4(lz4, { width: WIDTH, height: HEIGHT })),
    ),
  ];
  const ref = await djpegMpx(jpg, runs);
  rows.push(
    row("decode JPEG q85 1080p (libjpeg-turbo wasm)", mpxPerSecond(runs, () => decodeJpeg(jpg)), {
      reference: ref,
      referenceName: ref === undefined ? undefined : "djpeg process",
    }),
  );
  rows.push(...await displaySessionRows({ quick }));
  return rows;
};
