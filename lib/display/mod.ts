/**
 * The display channel model: parse a recorded display channel's messages, keep the surfaces,
 * caches, GLZ dictionary and streams as the client would, and read back what the screen showed
 * (with the regions that could not be drawn). Image codecs live in lib/display/codecs.
 *
 * @module
 */
export {
  type DisplayMessage,
  DisplayModel,
  type DisplayModelOptions,
  type DisplayProblem,
  type DisplaySnapshot,
  PRIMARY_SURFACE_ID,
} from "./display_model.ts";
export { DisplayParseError } from "./errors.ts";
export { CURSOR_FLAGS, CURSOR_TYPES, CursorModel, type CursorShape } from "./cursor.ts";
export { type ParseContext, parseDisplayMessage } from "./messages.ts";
export type { DecodedImage, Palette } from "./image.ts";
export type { ConnectionInfo, StreamProblem } from "../session/types.ts";
export type { CodecSet, GlzDictionaryHandle } from "./codec_set.ts";
export { DEFAULT_CODECS } from "./default_codecs.ts";
export { applyRop, applyRop3, ROPD, ropFromDescriptor, type RopInput, ROPS } from "./rop.ts";
export {
  type DisplaySession,
  readDisplaySession,
  type TimedDisplayMessage,
} from "./session_display.ts";
export { type Frame, type FrameReason, type FrameRequest, renderFrames } from "./timeline.ts";
export { parseScreenMask, parseScreenMasks, type ScreenMask } from "./masks.ts";
export { decodePpm, encodePng, encodePpm, type PpmImage, type RgbaImage } from "./image_files.ts";
export type {
  Brush,
  DisplayCommand,
  DrawBase,
  DrawOp,
  ImageData,
  ImageRef,
  Point,
  QMask,
  Rect,
} from "./types.ts";
