/**
 * Video streams of the display channel: STREAM_CREATE / CLIP / DESTROY(_ALL) bookkeeping and
 * drawing STREAM_DATA(_SIZED) frames. MJPEG frames are decoded and drawn; other codecs are
 * reported and their destination marked unknown.
 */
import type { CodecSet } from "./codec_set.ts";
import { ImageDecodeError } from "./image.ts";
import { sourceOf } from "./image_store.ts";
import { blitRop, offsetMap, scaledMap } from "./raster.ts";
import { ROPS } from "./rop.ts";
import { regionIsEmpty, type Surface } from "./surface.ts";
import type { Rect } from "./types.ts";

/** Stream video codecs (`SpiceVideoCodecType`). */
export const VIDEO_CODECS: ReadonlyMap<number, string> = new Map([
  [1, "MJPEG"],
  [2, "VP8"],
  [3, "H264"],
  [4, "VP9"],
  [5, "H265"],
]);

const MJPEG = 1;

/** A live stream. */
interface Stream {
  surfaceId: number;
  codec: number;
  dest: Rect;
  clip?: Rect[];
}

/** Where a frame goes and how it turned out. */
export interface FrameResult {
  /** The surface drawn on, when it exists. */
  surface?: Surface;
  /** Problem kind and text, when the frame was not drawn. */
  problem?: { kind: string; message: string };
}

/** The streams of one display channel. */
export class StreamTable {
  readonly #streams = new Map<number, Stream>();

  /** STREAM_CREATE. */
  create(id: number, stream: Stream): void {
    this.#streams.set(id, stream);
  }

  /** STREAM_CLIP; false when the stream does not exist. */
  clip(id: number, clip?: Rect[]): boolean {
    const s = this.#streams.get(id);
    if (s) s.clip = clip;
    return s !== undefined;
  }

  /** STREAM_DESTROY. */
  destroy(id: number): void {
    this.#streams.delete(id);
  }

  /** STREAM_DESTROY_ALL. */
  destroyAll(): void {
    this.#streams.clear();
  }

  /**
   * Draws one frame of stream `id`.
   *
   * @param frame stream id, data, and for STREAM_DATA_SIZED the frame's own destination
   * @param env codecs and the surface lookup
   */
  drawFrame(
    frame: { id: number; data: Uint8Array; dest?: Rect },
    env: { codecs: CodecSet; surface: (id: number) => Surface | undefined },
  ): FrameResult {
    const s = this.#streams.get(frame.id);
    if (!s) return { problem: { kind: "no-stream", message: `stream ${frame.id} does not exist` } };
    const surface = env.surface(s.surfaceId);
    if (!surface) {
      return { problem: { kind: "no-surface", message: `surface ${s.surfaceId} does not exist` } };
    }
    const dest = frame.dest ?? s.dest;
    const region = surface.region(dest, s.clip);
    if (s.codec !== MJPEG) {
      surface.markKnown(region, false);
      const name = VIDEO_CODECS.get(s.codec) ?? `codec ${s.codec}`;
      return {
        surface,
        problem: { kind: "unimplemented", message: `${name} stream frames are not rendered` },
      };
    }
    let image;
    try {
      image = sourceOf(env.codecs.decodeJpeg(frame.data, { streamFrame: true }), true);
    } catch (e) {
      if (!(e instanceof ImageDecodeError)) throw e;
      surface.markKnown(region, false);
      return {
        surface,
        problem: { kind: "decode", message: `stream ${frame.id} frame: ${e.message}` },
      };
    }
    if (regionIsEmpty(region)) return { surface };
    const w = dest.right - dest.left;
    const h = dest.bottom - dest.top;
    const map = image.width === w && image.height === h
      ? offsetMap(image, { x: dest.left, y: dest.top })
      : scaledMap(image, {
        srcArea: { top: 0, left: 0, bottom: image.height, right: image.width },
        box: dest,
      });
    blitRop(surface, region, { src: image, map, rop: ROPS.COPY });
    surface.markKnown(region, true);
    return { surface };
  }
}
