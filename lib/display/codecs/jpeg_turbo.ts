/**
 * JPEG decoding with libjpeg-turbo, the library spice-gtk decodes with, built to WebAssembly (the
 * binary of the `@cwasm/jpeg-turbo` package, called through its TurboJPEG exports). The same
 * decoder with the same settings gives the client's own pixels, byte for byte.
 *
 * One instance serves every decode. libjpeg's error exit ends in `longjmp`, which this module
 * turns into a JavaScript exception unwinding the WebAssembly frames; the instance is then left
 * mid-decode (its stack pointer, handle and buffers), so after any failure it is dropped and the
 * next decode makes a fresh one from the compiled module (a few milliseconds).
 *
 * @module
 */
import jpegTurbo from "./_jpeg_turbo_wasm.js";
import { checkImageSize, ImageDecodeError } from "../image.ts";

/** The TurboJPEG exports the package's build has. */
interface TurboExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(pointer: number): void;
  tjInitDecompress(): number;
  tjDestroy(handle: number): number;
  // deno-fmt-ignore
  tjDecompressHeader3(handle: number, src: number, size: number, width: number, height: number,
    subsamp: number, colorspace: number): number;
  // deno-fmt-ignore
  tjDecompress2(handle: number, src: number, size: number, dst: number, width: number,
    pitch: number, height: number, pixelFormat: number, flags: number): number;
}

/** TurboJPEG pixel format: B,G,R,A bytes, A = 0xff. */
const TJPF_BGRA = 8;
/** TurboJPEG flag: plain (replicating) chroma upsampling instead of the "fancy" triangle one. */
const TJFLAG_FASTUPSAMPLE = 256;
/** TurboJPEG flag: the fast integer IDCT (JDCT_IFAST) instead of the accurate one. */
const TJFLAG_FASTDCT = 2048;

/** How the decoder is set up. */
export interface JpegDecodeOptions {
  /**
   * Decode as spice-gtk decodes MJPEG stream frames (JDCT_IFAST, no fancy upsampling) rather
   * than as it decodes JPEG images (libjpeg's defaults).
   */
  streamFrame?: boolean;
}

/** Thrown in place of libjpeg's `longjmp` and the system calls the build does not need. */
class TurboAbort extends Error {}

function abort(what: string): () => never {
  return () => {
    throw new TurboAbort(`libjpeg-turbo called ${what}`);
  };
}

interface Turbo {
  x: TurboExports;
  handle: number;
  /** 8 bytes for the header's width and height, then 8 for subsampling and colour space. */
  meta: number;
}

let live: Turbo | undefined;

function open(): Turbo {
  const instance = new WebAssembly.Instance(jpegTurbo, {
    env: { setjmp: () => 0, longjmp: abort("longjmp") },
    wasi_snapshot_preview1: {
      environ_sizes_get: () => 0,
      environ_get: abort("environ_get"),
      proc_exit: abort("proc_exit"),
      fd_close: abort("fd_close"),
      fd_seek: abort("fd_seek"),
      fd_write: abort("fd_write"),
    },
  });
  const x = instance.exports as unknown as TurboExports;
  const handle = x.tjInitDecompress();
  const meta = x.malloc(16);
  if (handle === 0 || meta === 0) throw new Error("libjpeg-turbo: no decompressor");
  return { x, handle, meta };
}

function failed(data: Uint8Array, why: string): ImageDecodeError {
  return new ImageDecodeError("jpeg", {
    offset: 0,
    expected: `a decodable JPEG (libjpeg-turbo: ${why}, ${data.length} bytes)`,
  });
}

/** The decoded image. */
export interface TurboImage {
  width: number;
  height: number;
  /** `width * height * 4` bytes, B,G,R,A, A = 0xff. */
  pixels: Uint8Array<ArrayBuffer>;
}

/**
 * Decodes in `t`. A -1 status (a header TurboJPEG refuses, or a warning such as a truncated
 * stream) throws an {@link ImageDecodeError}; an error exit throws {@link TurboAbort}.
 */
function decodeIn(t: Turbo, { data, flags }: { data: Uint8Array; flags: number }): TurboImage {
  const { x, handle, meta } = t;
  const src = x.malloc(data.length);
  let dst = 0;
  try {
    new Uint8Array(x.memory.buffer, src, data.length).set(data);
    const size = [handle, src, data.length] as const;
    if (x.tjDecompressHeader3(...size, meta, meta + 4, meta + 8, meta + 12) !== 0) {
      throw failed(data, "a header it cannot read");
    }
    const [width, height] = new Int32Array(x.memory.buffer, meta, 2);
    checkImageSize("jpeg", { width, height, offset: 0 });
    dst = x.malloc(width * height * 4);
    if (dst === 0) throw failed(data, `no memory for ${width}x${height}`);
    if (x.tjDecompress2(...size, dst, width, width * 4, height, TJPF_BGRA, flags) !== 0) {
      throw failed(data, "a truncated or damaged stream");
    }
    return {
      width,
      height,
      pixels: new Uint8Array(x.memory.buffer, dst, width * height * 4).slice(),
    };
  } finally {
    x.free(dst);
    x.free(src);
  }
}

/**
 * Decodes a JPEG to opaque B,G,R,A pixels, top-down. A frame without Huffman tables (later
 * MJPEG stream frames) is read with the standard ones, as libjpeg-turbo does by itself.
 *
 * @param data the JFIF bytes
 * @param options `streamFrame`: decode as spice-gtk decodes MJPEG stream frames
 * @returns width, height and `width * height * 4` bytes
 * @throws {ImageDecodeError} on data libjpeg-turbo rejects, or a size over the limits
 */
export function turboDecode(data: Uint8Array, options: JpegDecodeOptions = {}): TurboImage {
  const flags = options.streamFrame ? TJFLAG_FASTDCT | TJFLAG_FASTUPSAMPLE : 0;
  const t = live ??= open();
  try {
    return decodeIn(t, { data, flags });
  } catch (e) {
    // unwound mid-decode (its stack and heap are not to be trusted), or its handle stopped
    // mid-header: a fresh instance is cheaper than knowing which
    live = undefined;
    if (e instanceof ImageDecodeError) throw e;
    if (e instanceof TurboAbort) throw failed(data, `an error exit (${e.message})`);
    if (e instanceof WebAssembly.RuntimeError) throw failed(data, e.message);
    throw e;
  }
}
