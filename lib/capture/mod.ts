/**
 * Recording SPICE channels as one capture file per channel: {@link CaptureSession}, the
 * `session.json` manifest, file naming and synthetic addressing, and the injectable clock.
 *
 * @module
 */
export * from "./clock.ts";
export * from "./file_sink.ts";
export * from "./manifest.ts";
export * from "./naming.ts";
export * from "./session.ts";
export * from "./session_types.ts";
