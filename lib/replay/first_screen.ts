/**
 * The replay's pre-link gate, pure: which recorded screen the guest must show before replay
 * links, and whether QEMU's console (a `screendump` PPM) shows it. The polling, the deadline
 * and the pictures are harness/replay/first_screen_watch.ts's.
 *
 * The first screen is the recorded display's primary surface at the end of the first burst
 * after the first primary SURFACE_CREATE: spice-server sends the whole current screen on a new
 * display connection and closes that with a MARK, so the burst ends at the first MARK; a
 * recording without one ends it when the display went quiet ({@link QUIET_NS} without a server
 * message), or at its last message. That is the guest's screen when the recorded client linked.
 *
 * The console is compared exactly, RGB only (the PPM has no alpha; the SPICE surface is
 * 32-bit), at the recorded size: a console of another size does not match. Skipped: the
 * `"screen"` rules' rectangles at that time and what the model could not draw. A guest text
 * cursor that blinks needs no mask: the gate polls, and a poll in the recorded phase matches.
 *
 * @module
 */
import type { CodecSet } from "../display/codec_set.ts";
import { DisplayModel, type DisplaySnapshot } from "../display/display_model.ts";
import type { PpmImage } from "../display/image_files.ts";
import { masksAt, type ScreenMask, screensMatch } from "../display/masks.ts";
import type { TimedDisplayMessage } from "../display/session_display.ts";
import type { Rect } from "../display/types.ts";

/** A display silent this long after SURFACE_CREATE has sent its first screen (no MARK). */
export const QUIET_NS = 100_000_000n;

/** The recorded screen the guest must show before the first link. */
export interface FirstScreen {
  /** The recorded primary surface at the end of the first burst. */
  snapshot: DisplaySnapshot;
  /** Recorded time of the burst's last message. */
  tsNs: bigint;
  /** Why the burst ended there: its MARK, the display going quiet, or the recording's end. */
  endedBy: "mark" | "quiet" | "end";
  /** Server display messages applied. */
  serverMessages: number;
}

/**
 * Renders the recorded display up to the end of its first burst.
 *
 * @param display the recorded display channel (first connection), both directions, in order
 * @param codecs image decoders
 * @returns the first screen; undefined when no primary surface was ever created
 */
export function firstRecordedScreen(
  display: readonly TimedDisplayMessage[],
  codecs: CodecSet,
): FirstScreen | undefined {
  const model = new DisplayModel({ codecs });
  let serverMessages = 0;
  let lastServerNs: bigint | undefined;
  for (const m of display) {
    const created = model.primarySurfaceId !== undefined;
    if (
      !m.fromClient && created && lastServerNs !== undefined && m.tsNs - lastServerNs >= QUIET_NS
    ) {
      return { snapshot: model.snapshot()!, tsNs: lastServerNs, endedBy: "quiet", serverMessages };
    }
    const marks = model.marks;
    model.push(m);
    if (m.fromClient) continue;
    serverMessages++;
    lastServerNs = m.tsNs;
    if (model.primarySurfaceId !== undefined && model.marks > marks) {
      return { snapshot: model.snapshot()!, tsNs: m.tsNs, endedBy: "mark", serverMessages };
    }
  }
  const snapshot = model.snapshot();
  if (!snapshot) return undefined;
  return { snapshot, tsNs: lastServerNs!, endedBy: "end", serverMessages };
}

/**
 * The rectangles skipped when comparing the console with the first screen: the `"screen"`
 * rules that apply to the primary surface then.
 *
 * @param first the first screen
 * @param rules `masks`: every `"screen"` rule's mask; `t0Ns`: the recording's first packet
 * (rule windows count from it)
 */
export function firstScreenMasks(
  first: FirstScreen,
  rules: { masks: readonly ScreenMask[]; t0Ns: bigint },
): Rect[] {
  const { masks, t0Ns } = rules;
  return masksAt(masks, {
    surfaceId: first.snapshot.surfaceId,
    primary: true,
    relNs: first.tsNs - t0Ns,
  });
}

/**
 * A console screendump as a snapshot (opaque), for comparing and for pictures.
 *
 * @param ppm the decoded screendump
 * @param surfaceId the id to give it
 */
export function consoleSnapshot(ppm: PpmImage, surfaceId = 0): DisplaySnapshot {
  const n = ppm.width * ppm.height;
  const pixels = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    pixels[i * 4] = ppm.rgb[i * 3];
    pixels[i * 4 + 1] = ppm.rgb[i * 3 + 1];
    pixels[i * 4 + 2] = ppm.rgb[i * 3 + 2];
    pixels[i * 4 + 3] = 255;
  }
  return { surfaceId, width: ppm.width, height: ppm.height, format: 32, pixels, unknown: [] };
}

/**
 * A snapshot with every alpha 255: what a console can show of it (RGB).
 *
 * @param s a recorded snapshot
 */
export function opaque(s: DisplaySnapshot): DisplaySnapshot {
  const pixels = s.pixels.slice();
  for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
  return { ...s, pixels };
}

/**
 * Whether the console shows the first screen: same size, same RGB outside the masks and the
 * regions the model could not draw.
 *
 * @param want the first screen, made {@link opaque}
 * @param console the console, from {@link consoleSnapshot}
 * @param options `masks`: rectangles to skip ({@link firstScreenMasks})
 */
export function consoleShows(
  want: DisplaySnapshot,
  console: DisplaySnapshot,
  { masks = [] }: { masks?: readonly Rect[] } = {},
): boolean {
  return screensMatch(want, console, { masks });
}
