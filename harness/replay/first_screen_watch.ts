/**
 * The replay's pre-link gate at work ({@link FirstScreenWatch}): before the first link, QEMU's
 * console is polled through our own QMP socket (`screendump`) until it shows the screen the
 * recorded client got when it linked (lib/replay/first_screen.ts), so a guest that boots
 * slower than it did in the recording is linked to at the same screen, not earlier. A console
 * that never shows it in time is a divergence with `expected.png`, `actual.png` and `diff.png`
 * in the replay directory.
 *
 * @module
 */
import { DEFAULT_CODECS } from "../../lib/display/default_codecs.ts";
import type { DisplaySnapshot } from "../../lib/display/display_model.ts";
import { decodePpm, encodePng, type RgbaImage } from "../../lib/display/image_files.ts";
import { screenDiffImage, type ScreenMask } from "../../lib/display/masks.ts";
import { readDisplaySession } from "../../lib/display/session_display.ts";
import type { Rect } from "../../lib/display/types.ts";
import {
  consoleShows,
  consoleSnapshot,
  firstRecordedScreen,
  type FirstScreen,
  firstScreenMasks,
  opaque,
} from "../../lib/replay/first_screen.ts";
import { abortableDelay } from "./abortable_delay.ts";
import { ReplayDivergence } from "./live_connection.ts";
import type { QmpClient } from "./qmp_client.ts";

/** Pause between two screendumps. */
const POLL_MS = 20;

/** What the pre-link gate did. */
export interface PreLinkStats {
  /** Which recorded screen the console showed: the first, or one the recording showed later. */
  shown: "first" | "later";
  /** Screendumps taken. */
  polls: number;
  /** Time from the first poll to the match, ms. */
  waitedMs: number;
}

/** How {@link FirstScreenWatch.wait} polls. */
export interface PreLinkWaitOptions {
  /** QEMU's QMP monitor (our own socket). */
  qmp: QmpClient;
  /** Give up at this `performance.now()` time. */
  deadlineMs: number;
  /** A private directory for the screendump file. */
  scratchDir: string;
  /** The replay directory: the pictures go there. */
  outDir: string;
  signal?: AbortSignal;
}

/** The recorded first screen of one replay, and the console polled until it shows it. */
export class FirstScreenWatch {
  readonly #first: FirstScreen;
  readonly #want: DisplaySnapshot;
  readonly #masks: Rect[];
  readonly #later: DisplaySnapshot[];

  private constructor(first: FirstScreen, masks: Rect[], later: readonly DisplaySnapshot[]) {
    this.#first = first;
    this.#want = opaque(first.snapshot);
    this.#masks = masks;
    this.#later = later.map(opaque);
  }

  /**
   * Renders the first screen of `source`'s recorded display.
   *
   * @param source the session directory or channel file replayed
   * @param options the `"screen"` rules' masks, the recording's first packet, and the
   *   recorded screens after the first one (the screen gate's) that also let the link go
   * @returns undefined when the recording has no display surface: nothing to wait for
   */
  static async load(
    source: string,
    options: { masks: readonly ScreenMask[]; t0Ns: bigint; later: readonly DisplaySnapshot[] },
  ): Promise<FirstScreenWatch | undefined> {
    const recorded = await readDisplaySession(source);
    const first = firstRecordedScreen(recorded.messages, DEFAULT_CODECS);
    if (!first) return undefined;
    const masks = firstScreenMasks(first, { masks: options.masks, t0Ns: options.t0Ns });
    // A later screen matched at the first screen's masks: a guest already past the first
    // screen is not held back.
    return new FirstScreenWatch(first, masks, options.later);
  }

  /** The recorded first screen. */
  get first(): FirstScreen {
    return this.#first;
  }

  /**
   * Polls the console until it shows the first screen (or a later recorded one).
   *
   * @param options the monitor, the deadline, the directories and the stop signal
   * @returns what it took, or undefined when interrupted
   * @throws {ReplayDivergence} after writing the three pictures, at the deadline
   */
  async wait(options: PreLinkWaitOptions): Promise<PreLinkStats | undefined> {
    const { qmp, scratchDir, signal } = options;
    const startMs = performance.now();
    const file = `${scratchDir}/console.ppm`;
    let polls = 0;
    let console: DisplaySnapshot | undefined;
    while (!signal?.aborted) {
      await qmp.execute("screendump", { filename: file });
      polls++;
      console = consoleSnapshot(decodePpm(await Deno.readFile(file)));
      const shown = this.#shows(console);
      if (shown) return { shown, polls, waitedMs: performance.now() - startMs };
      if (performance.now() >= options.deadlineMs) break;
      await abortableDelay(POLL_MS, signal);
    }
    if (signal?.aborted) return undefined;
    const differing = await this.#writePictures(console!, options.outDir);
    throw new ReplayDivergence(
      `pre-link gate: QEMU's console never showed the recorded first screen ` +
        `(${this.#want.width}×${this.#want.height}, the recorded display at its first ` +
        `${this.#first.endedBy === "mark" ? "MARK" : "quiet moment"}) within ` +
        `${Math.round(performance.now() - startMs)} ms (${polls} screendumps); ${differing}; ` +
        `nothing was linked; expected.png, actual.png and diff.png are in ${options.outDir}`,
      { channel: "display", awaited: "the recorded first screen on QEMU's console" },
    );
  }

  #shows(console: DisplaySnapshot): PreLinkStats["shown"] | undefined {
    if (consoleShows(this.#want, console, { masks: this.#masks })) return "first";
    return this.#later.some((s) => consoleShows(s, console, { masks: this.#masks }))
      ? "later"
      : undefined;
  }

  async #writePictures(console: DisplaySnapshot, outDir: string): Promise<string> {
    await Deno.mkdir(outDir, { recursive: true, mode: 0o700 });
    const write = (name: string, image: RgbaImage) =>
      Deno.writeFile(`${outDir}/${name}`, encodePng(image), { mode: 0o600 });
    await write("expected.png", this.#want);
    await write("actual.png", console);
    const diff = screenDiffImage(this.#want, console, { masks: this.#masks });
    await write("diff.png", diff);
    if (console.width !== this.#want.width || console.height !== this.#want.height) {
      return `the console is ${console.width}×${console.height}`;
    }
    return `${diff.differing} pixels differ`;
  }
}
