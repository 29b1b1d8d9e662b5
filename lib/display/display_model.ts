/**
 * The display channel model: feed it a recorded display channel's messages in order and read
 * back the screen (any surface) as the client drew it, with the regions it could not draw.
 */
import type { CodecSet } from "./codec_set.ts";
import { runDraw } from "./draw_ops.ts";
import { DisplayParseError } from "./errors.ts";
import { ImageStore } from "./image_store.ts";
import { parseDisplayMessage } from "./messages.ts";
import { StreamTable } from "./streams.ts";
import { Surface, SURFACE_FLAG_PRIMARY, SURFACE_FORMATS } from "./surface.ts";
import type { DisplayCommand, Rect } from "./types.ts";

/** One display channel message, as lib/session reads it. */
export interface DisplayMessage {
  /** 0-based index among the messages of its direction. */
  index: number;
  /** Message type. */
  type: number;
  /** Message name from the tables, e.g. "DRAW_COPY". */
  name: string;
  /** True for client → server (only DISPLAY_INIT matters). */
  fromClient: boolean;
  /** Body bytes, header excluded. */
  body: Uint8Array;
  /**
   * Bytes of its direction not read just before it (capture loss, or a flight-recorder
   * snapshot that starts mid-stream): what the surfaces show becomes unknown until drawn.
   */
  gapBefore?: number;
}

/** Something the model could not render or understand; never thrown. */
export interface DisplayProblem {
  /** Index of the message concerned. */
  messageIndex: number;
  /** Its name. */
  messageName: string;
  /**
   * "parse" (body does not match its layout), "unimplemented", "decode", "cache-miss",
   * "no-surface", "no-stream", "missing-image", "mid-stream" (draws before it were not kept).
   */
  kind: string;
  /** What happened. */
  message: string;
  /** Surface concerned, when known. */
  surfaceId?: number;
  /** The draw's box, when the problem made pixels unknown. */
  box?: Rect;
}

/** Options of {@link DisplayModel}. */
export interface DisplayModelOptions {
  /** Image decoders (lib/display/default_codecs.ts has the real ones). */
  codecs: CodecSet;
  /** Called for each problem as it happens. @default collect only */
  onProblem?: (p: DisplayProblem) => void;
}

/** A surface's pixels at one moment. */
export interface DisplaySnapshot {
  /** The surface. */
  surfaceId: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** SPICE surface format. */
  format: number;
  /** RGBA bytes, top-down, stride width*4; alpha is 255 unless the surface is 32_ARGB. */
  pixels: Uint8Array;
  /** Rectangles whose pixels are unknown (draws that could not be rendered). */
  unknown: Rect[];
}

/** The primary surface id SPICE uses. */
export const PRIMARY_SURFACE_ID = 0;

/** The state of one display channel as its client would hold it. */
export class DisplayModel {
  readonly #codecs: CodecSet;
  readonly #onProblem?: (p: DisplayProblem) => void;
  readonly #surfaces = new Map<number, Surface>();
  readonly #images: ImageStore;
  readonly #streams = new StreamTable();
  readonly #problems: DisplayProblem[] = [];
  #primaryId: number | undefined;
  #marks = 0;

  /**
   * An empty model: no surfaces, empty caches.
   *
   * @param options codecs and problem sink
   */
  constructor(options: DisplayModelOptions) {
    this.#codecs = options.codecs;
    this.#onProblem = options.onProblem;
    this.#images = new ImageStore({
      codecs: this.#codecs,
      surface: (id) => this.#surfaces.get(id),
    });
  }

  /** Every problem so far, in message order. */
  get problems(): readonly DisplayProblem[] {
    return this.#problems;
  }

  /** Id of the primary surface, once one exists. */
  get primarySurfaceId(): number | undefined {
    return this.#primaryId;
  }

  /** Ids of the live surfaces. */
  get surfaceIds(): number[] {
    return [...this.#surfaces.keys()];
  }

  /** MARK messages seen (the server says the screen is complete). */
  get marks(): number {
    return this.#marks;
  }

  #report(m: DisplayMessage, p: Omit<DisplayProblem, "messageIndex" | "messageName">): void {
    const problem = { messageIndex: m.index, messageName: m.name, ...p };
    this.#problems.push(problem);
    this.#onProblem?.(problem);
  }

  /**
   * Applies one message. Server → client display messages change the model; of the client's,
   * only DISPLAY_INIT (GLZ window) is used. Problems are reported, never thrown.
   *
   * @param message the message, in channel order
   */
  push(message: DisplayMessage): void {
    if (message.gapBefore && !message.fromClient) this.#lost(message, message.gapBefore);
    let cmd: DisplayCommand;
    try {
      cmd = parseDisplayMessage(message.type, message.body, {
        fromClient: message.fromClient,
        messageIndex: message.index,
        messageName: message.name,
      });
    } catch (e) {
      if (!(e instanceof DisplayParseError)) throw e;
      this.#report(message, { kind: "parse", message: e.message });
      return;
    }
    this.#apply(message, cmd);
  }

  /**
   * Server messages were not read before `m` (a snapshot whose ring let them go, capture
   * loss): the draws among them are lost, so every pixel of the live surfaces is unknown until
   * drawn again. Caches and streams stay; what they lost shows up as misses.
   */
  #lost(m: DisplayMessage, bytes: number): void {
    if (this.#surfaces.size === 0) return; // nothing drawn yet that could be stale
    for (const s of this.#surfaces.values()) s.known.fill(0);
    const primary = this.#primaryId === undefined ? undefined : this.#surfaces.get(this.#primaryId);
    this.#report(m, {
      kind: "mid-stream",
      message: `${bytes} bytes of the display stream before it were not kept or not captured ` +
        "(the display starts mid-stream): the screen is unknown until drawn",
      ...(primary ? { surfaceId: primary.id, box: primary.rect } : {}),
    });
  }

  #apply(m: DisplayMessage, cmd: DisplayCommand): void {
    switch (cmd.kind) {
      case "displayInit":
        return this.#images.setGlzWindow(cmd.glzWindow);
      case "mode": {
        const format = cmd.bits === 32 ? SURFACE_FORMATS["32_xRGB"] : SURFACE_FORMATS["16_555"];
        return this.#createSurface({ id: PRIMARY_SURFACE_ID, ...cmd, format, primary: true });
      }
      case "surfaceCreate": {
        const primary = (cmd.flags & SURFACE_FLAG_PRIMARY) !== 0;
        return this.#createSurface({ id: cmd.surfaceId, ...cmd, primary });
      }
      case "surfaceDestroy":
        this.#surfaces.delete(cmd.surfaceId);
        if (this.#primaryId === cmd.surfaceId) this.#primaryId = undefined;
        return;
      case "mark":
        this.#marks++;
        return;
      case "reset": {
        const primary = this.#primaryId === undefined
          ? undefined
          : this.#surfaces.get(this.#primaryId);
        primary?.words.fill(0);
        primary?.known.fill(1);
        return this.#images.invalidateAllPalettes();
      }
      case "invalList":
        for (const r of cmd.resources) this.#images.invalidatePixmap(r.id);
        return;
      case "invalAllPixmaps":
        return this.#images.invalidateAllPixmaps();
      case "invalPalette":
        return this.#images.invalidatePalette(cmd.id);
      case "invalAllPalettes":
        return this.#images.invalidateAllPalettes();
      case "draw":
        return this.#draw(m, cmd);
      case "ignored":
        return;
      case "unimplemented":
        return this.#report(m, { kind: "unimplemented", message: `${m.name} is not modelled` });
      default:
        return this.#applyStream(m, cmd);
    }
  }

  #applyStream(m: DisplayMessage, cmd: DisplayCommand): void {
    switch (cmd.kind) {
      case "streamCreate":
        return this.#streams.create(cmd.id, { ...cmd, surfaceId: cmd.surfaceId });
      case "streamClip":
        if (!this.#streams.clip(cmd.id, cmd.clip)) {
          this.#report(m, { kind: "no-stream", message: `stream ${cmd.id} does not exist` });
        }
        return;
      case "streamDestroy":
        return this.#streams.destroy(cmd.id);
      case "streamDestroyAll":
        return this.#streams.destroyAll();
      case "streamData": {
        const r = this.#streams.drawFrame(
          { id: cmd.id, data: cmd.data, dest: cmd.sized?.dest },
          { codecs: this.#codecs, surface: (id) => this.#surfaces.get(id) },
        );
        if (r.problem) this.#report(m, { ...r.problem, surfaceId: r.surface?.id });
        return;
      }
    }
  }

  #createSurface(
    s: { id: number; width: number; height: number; format: number; primary: boolean },
  ): void {
    this.#surfaces.set(s.id, new Surface(s));
    if (s.primary) this.#primaryId = s.id;
  }

  #draw(m: DisplayMessage, cmd: Extract<DisplayCommand, { kind: "draw" }>): void {
    const surfaceId = cmd.base.surfaceId;
    const surface = this.#surfaces.get(surfaceId);
    const box = cmd.base.box;
    if (!surface) {
      this.#report(m, {
        kind: "no-surface",
        message: `surface ${surfaceId} does not exist`,
        surfaceId,
        box,
      });
      return;
    }
    runDraw({
      surface,
      images: this.#images,
      report: (kind, message) => this.#report(m, { kind, message, surfaceId, box }),
    }, cmd);
  }

  /**
   * The pixels of a surface now.
   *
   * @param surfaceId which surface (default: the primary)
   * @returns the snapshot, or undefined when that surface does not exist
   */
  snapshot(surfaceId: number | undefined = this.#primaryId): DisplaySnapshot | undefined {
    const s = surfaceId === undefined ? undefined : this.#surfaces.get(surfaceId);
    if (!s) return undefined;
    const pixels = new Uint8Array(s.width * s.height * 4);
    const alpha = s.hasAlpha ? 0 : 0xff000000;
    const greenBits = SIXTEEN_BIT_GREEN.get(s.format);
    // R,G,B,A bytes as one little-endian word each: swap R and B of 0xAARRGGBB
    const out = new Uint32Array(pixels.buffer);
    const words = s.words;
    for (let i = 0; i < words.length; i++) {
      let w = words[i];
      if (greenBits !== undefined) w = quantize16(w, greenBits);
      out[i] = ((w & 0xff00ff00) | ((w >>> 16) & 0xff) | ((w & 0xff) << 16) | alpha) >>> 0;
    }
    return {
      surfaceId: s.id,
      width: s.width,
      height: s.height,
      format: s.format,
      pixels,
      unknown: s.unknownRects(),
    };
  }
}

/** 16-bit surface formats and the bits they keep for green (red and blue keep 5). */
const SIXTEEN_BIT_GREEN: ReadonlyMap<number, number> = new Map([
  [SURFACE_FORMATS["16_555"], 5],
  [SURFACE_FORMATS["16_565"], 6],
]);

/** What a 16-bit surface keeps of an xRGB word: the high bits, expanded back by replication. */
function quantize16(w: number, greenBits: number): number {
  let out = 0;
  for (const [shift, bits] of [[0, 5], [8, greenBits], [16, 5]]) {
    const c = ((w >>> shift) & 0xff) >> (8 - bits);
    out |= ((c << (8 - bits)) | (c >> (2 * bits - 8))) << shift;
  }
  return out;
}
