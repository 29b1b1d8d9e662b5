/**
 * The cursor channel as an overlay: position, visibility and shape from CURSOR_INIT / SET /
 * MOVE / HIDE / RESET / INVAL_ONE / INVAL_ALL, and drawing the shape over a snapshot. ALPHA and
 * MONO shapes are drawn; the palette COLOR* shapes are reported (docs/protocol.md, "Display
 * channel: drawing").
 */
import type { DisplayMessage, DisplayProblem, DisplaySnapshot } from "./display_model.ts";
import { DisplayParseError } from "./errors.ts";
import { BodyCursor } from "./_reader.ts";

/** Cursor flags (`SpiceCursorFlags`, u16). */
export const CURSOR_FLAGS = { NONE: 1, CACHE_ME: 2, FROM_CACHE: 4 } as const;

/** Cursor shape types (`SpiceCursorType`). */
export const CURSOR_TYPES: ReadonlyMap<number, string> = new Map([
  [0, "ALPHA"],
  [1, "MONO"],
  [2, "COLOR4"],
  [3, "COLOR8"],
  [4, "COLOR16"],
  [5, "COLOR24"],
  [6, "COLOR32"],
]);

/** A decoded cursor shape: straight-alpha RGBA plus pixels that invert the screen (MONO). */
export interface CursorShape {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Hot spot column (the pointer position within the shape). */
  hotX: number;
  /** Hot spot row. */
  hotY: number;
  /** RGBA, straight alpha. */
  rgba: Uint8Array;
  /** One byte per pixel, 1 = invert the screen there. */
  invert: Uint8Array;
}

const ALPHA = 0;
const MONO = 1;

function decodeShape(
  c: BodyCursor,
  header: { type: number; width: number; height: number },
): CursorShape | string {
  const { type, width, height } = header;
  const rgba = new Uint8Array(width * height * 4);
  const invert = new Uint8Array(width * height);
  const shape = { width, height, hotX: 0, hotY: 0, rgba, invert };
  if (type === ALPHA) {
    const data = c.bytes(width * height * 4, "cursor.data");
    for (let i = 0; i < width * height; i++) {
      rgba.set([data[i * 4 + 2], data[i * 4 + 1], data[i * 4], data[i * 4 + 3]], i * 4);
    }
    return shape;
  }
  if (type !== MONO) return `${CURSOR_TYPES.get(type) ?? `type ${type}`} cursors are not drawn`;
  const stride = Math.ceil(width / 8);
  const and = c.bytes(stride * height, "cursor.and_mask");
  const xor = c.bytes(stride * height, "cursor.xor_mask");
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = 0x80 >> (x & 7);
      const a = and[y * stride + (x >> 3)] & bit;
      const o = xor[y * stride + (x >> 3)] & bit;
      const i = y * width + x;
      if (a) invert[i] = o ? 1 : 0;
      else rgba.set(o ? [255, 255, 255, 255] : [0, 0, 0, 255], i * 4);
    }
  }
  return shape;
}

/** The cursor channel's state. */
export class CursorModel {
  readonly #cache = new Map<bigint, CursorShape>();
  readonly #problems: DisplayProblem[] = [];
  #shape: CursorShape | undefined;
  #visible = false;
  #x = 0;
  #y = 0;

  /** Problems so far (unknown shapes, cache misses, bad bodies). */
  get problems(): readonly DisplayProblem[] {
    return this.#problems;
  }

  #report(m: DisplayMessage, problem: { kind: string; message: string }): void {
    const { kind, message } = problem;
    this.#problems.push({ messageIndex: m.index, messageName: m.name, kind, message });
  }

  /**
   * Applies one cursor channel message (server → client; others are ignored).
   *
   * @param m the message
   */
  push(m: DisplayMessage): void {
    if (m.fromClient) return;
    const c = new BodyCursor(m.body, { messageIndex: m.index, messageName: m.name });
    try {
      this.#apply(m, c);
    } catch (e) {
      if (!(e instanceof DisplayParseError)) throw e;
      this.#report(m, { kind: "parse", message: e.message });
    }
  }

  #apply(m: DisplayMessage, c: BodyCursor): void {
    switch (m.type) {
      case 101: // INIT: position, trail length, trail frequency, visible, cursor
      case 103: { // SET: position, visible, cursor
        this.#x = c.i16("position.x");
        this.#y = c.i16("position.y");
        if (m.type === 101) c.bytes(4, "trail");
        this.#visible = c.u8("visible") !== 0;
        return this.#readCursor(m, c);
      }
      case 104:
        this.#x = c.i16("position.x");
        this.#y = c.i16("position.y");
        return;
      case 105:
        this.#visible = false;
        return;
      case 102: // RESET
      case 108: // INVAL_ALL
        this.#cache.clear();
        if (m.type === 102) this.#shape = undefined;
        return;
      case 107:
        this.#cache.delete(c.u64("id"));
        return;
    }
  }

  #readCursor(m: DisplayMessage, c: BodyCursor): void {
    const flags = c.u16("cursor.flags");
    if (flags & CURSOR_FLAGS.NONE) {
      this.#shape = undefined;
      return;
    }
    const unique = c.u64("cursor.unique");
    const type = c.u8("cursor.type");
    const width = c.u16("cursor.width");
    const height = c.u16("cursor.height");
    const hotX = c.u16("cursor.hot_spot_x");
    const hotY = c.u16("cursor.hot_spot_y");
    if (flags & CURSOR_FLAGS.FROM_CACHE) {
      this.#shape = this.#cache.get(unique);
      if (!this.#shape) {
        this.#report(m, {
          kind: "cache-miss",
          message: `cursor ${unique} is not in the cursor cache`,
        });
      }
      return;
    }
    const shape = decodeShape(c, { type, width, height });
    if (typeof shape === "string") {
      this.#shape = undefined;
      return this.#report(m, { kind: "unimplemented", message: shape });
    }
    this.#shape = { ...shape, hotX, hotY };
    if (flags & CURSOR_FLAGS.CACHE_ME) this.#cache.set(unique, this.#shape);
  }

  /** The box the cursor covers on the surface now, when it is visible and its shape known. */
  get box(): { top: number; left: number; bottom: number; right: number } | undefined {
    const s = this.#shape;
    if (!s || !this.#visible) return undefined;
    const left = this.#x - s.hotX;
    const top = this.#y - s.hotY;
    return { top, left, bottom: top + s.height, right: left + s.width };
  }

  /**
   * Draws the cursor (when visible and known) over a snapshot, in place.
   *
   * @param snap an RGBA snapshot of the primary surface
   */
  overlay(snap: DisplaySnapshot): void {
    const s = this.#shape;
    if (!s || !this.#visible) return;
    const left = this.#x - s.hotX;
    const top = this.#y - s.hotY;
    for (let y = 0; y < s.height; y++) {
      for (let x = 0; x < s.width; x++) {
        const dx = left + x;
        const dy = top + y;
        if (dx < 0 || dy < 0 || dx >= snap.width || dy >= snap.height) continue;
        const i = y * s.width + x;
        const o = (dy * snap.width + dx) * 4;
        if (s.invert[i]) {
          for (let k = 0; k < 3; k++) snap.pixels[o + k] ^= 0xff;
          continue;
        }
        const a = s.rgba[i * 4 + 3];
        for (let k = 0; k < 3; k++) {
          snap.pixels[o + k] = Math.round(
            (s.rgba[i * 4 + k] * a + snap.pixels[o + k] * (255 - a)) / 255,
          );
        }
      }
    }
  }
}
