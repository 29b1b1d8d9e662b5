/** Hand-made display message bodies for the display model's unit tests. */
import type { Rect } from "../lib/display/types.ts";
import type { DisplayMessage } from "../lib/display/display_model.ts";

/** Little-endian body writer with pointer slots patched once the target is written. */
export class BodyBuilder {
  readonly #bytes: number[] = [];

  /** Current offset (where the next byte goes). */
  get here(): number {
    return this.#bytes.length;
  }
  #int(v: number, n: number): this {
    for (let i = 0; i < n; i++) {
      this.#bytes.push(Number((BigInt.asUintN(64, BigInt(v)) >> BigInt(8 * i)) & 0xffn));
    }
    return this;
  }
  u8(v: number): this {
    return this.#int(v, 1);
  }
  u16(v: number): this {
    return this.#int(v, 2);
  }
  u32(v: number): this {
    return this.#int(v, 4);
  }
  u64(v: bigint): this {
    for (let i = 0n; i < 8n; i++) this.#bytes.push(Number((v >> (8n * i)) & 0xffn));
    return this;
  }
  rect(r: Rect): this {
    return this.u32(r.top).u32(r.left).u32(r.bottom).u32(r.right);
  }
  /** Writes a u32 placeholder; the returned function points it at the current offset. */
  pointer(): () => void {
    const at = this.here;
    this.u32(0);
    return () => {
      const v = this.here;
      for (let i = 0; i < 4; i++) this.#bytes[at + i] = (v >>> (8 * i)) & 0xff;
    };
  }
  build(): Uint8Array {
    return new Uint8Array(this.#bytes);
  }
}

/** A test image: 32-bit top-down BITMAP, or a FROM_CACHE reference. */
export type TestImage =
  | { id: bigint; flags?: number; width: number; height: number; pixels: number[] }
  | { id: bigint; fromCache: true; width: number; height: number };

/** Writes a SpiceImage descriptor and its data at the current offset. */
export function writeImage(b: BodyBuilder, image: TestImage): void {
  const cache = "fromCache" in image;
  b.u64(image.id).u8(cache ? 103 : 0).u8(cache ? 0 : image.flags ?? 0).u32(image.width).u32(
    image.height,
  );
  if (cache) return;
  // BitmapData: format 32BIT (8), flags TOP_DOWN (4), x, y, stride, palette pointer 0, rows
  b.u8(8).u8(4).u32(image.width).u32(image.height).u32(image.width * 4).u32(0);
  for (const p of image.pixels) b.u32(p);
}

/** DisplayBase: surface, box, clip (none or rects). */
export function writeBase(
  b: BodyBuilder,
  base: { surfaceId?: number; box: Rect; clip?: Rect[] },
): void {
  b.u32(base.surfaceId ?? 0).rect(base.box);
  if (!base.clip) b.u8(0);
  else {
    b.u8(1).u32(base.clip.length);
    for (const r of base.clip) b.rect(r);
  }
}

/** An empty QMask: flags 0, pos (0,0), no bitmap. */
function writeNoMask(b: BodyBuilder): void {
  b.u8(0).u32(0).u32(0).u32(0);
}

/** ROP descriptor OP_PUT: a plain copy. */
export const ROPD_PUT = 8;

/** DRAW_FILL with a solid brush. */
export function drawFill(
  o: { box: Rect; clip?: Rect[]; color: number; ropd?: number; surfaceId?: number },
): Uint8Array {
  const b = new BodyBuilder();
  writeBase(b, o);
  b.u8(1).u32(o.color).u16(o.ropd ?? ROPD_PUT);
  writeNoMask(b);
  return b.build();
}

/** DRAW_COPY of one image (placed after the fixed part, as the server does). */
export function drawCopy(
  o: { box: Rect; clip?: Rect[]; srcArea?: Rect; ropd?: number; image: TestImage },
): Uint8Array {
  const b = new BodyBuilder();
  writeBase(b, o);
  const patch = b.pointer();
  b.rect(o.srcArea ?? { top: 0, left: 0, bottom: o.image.height, right: o.image.width });
  b.u16(o.ropd ?? ROPD_PUT).u8(1);
  writeNoMask(b);
  patch();
  writeImage(b, o.image);
  return b.build();
}

/** SURFACE_CREATE body. */
export function surfaceCreate(
  o: { id?: number; width: number; height: number; format?: number; flags?: number },
): Uint8Array {
  return new BodyBuilder().u32(o.id ?? 0).u32(o.width).u32(o.height).u32(o.format ?? 32).u32(
    o.flags ?? 1,
  ).build();
}

/** Numbers messages in order: `msgs(["SURFACE_CREATE", 314, body], …)`. */
export function serverMessages(list: [string, number, Uint8Array][]): DisplayMessage[] {
  return list.map(([name, type, body], index) => ({ index, type, name, fromClient: false, body }));
}
