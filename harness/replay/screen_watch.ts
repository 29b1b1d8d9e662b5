/**
 * The replay's screen gate at work ({@link ScreenWatch}): the recorded display read from the
 * session, the replayed display fed from the live connections, inputs held until the replayed
 * screen has reached the recorded one, and, when it never does within the deadline, the
 * divergence with `expected.png`, `actual.png` and `diff.png` in the replay directory.
 *
 * @module
 */
import { DEFAULT_CODECS } from "../../lib/display/default_codecs.ts";
import type { DisplaySnapshot } from "../../lib/display/display_model.ts";
import { encodePng } from "../../lib/display/image_files.ts";
import { screenDiffImage, type ScreenMask } from "../../lib/display/masks.ts";
import { readDisplaySession, unitMessages } from "../../lib/display/session_display.ts";
import type { PlannedMessage, ReplayPlan } from "../../lib/replay/plan.ts";
import { isScreenGated, ScreenGate } from "../../lib/replay/screen_gate.ts";
import { CHANNEL_TYPES as CHANNEL } from "../../lib/spice/tables.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";
import { ReplayDivergence } from "./live_connection.ts";

/** How one gated input waits ({@link ScreenWatch.waitFor}). */
export interface ScreenWaitOptions {
  /** The input's connection, as the replay names it ("inputs"). */
  label: string;
  /** Slack beyond the time the recording took since the previous gated input, ms. */
  timeoutMs: number;
  /** Ends the wait early (the replay stopped). */
  signal?: AbortSignal;
}

/** Gating so far: inputs gated, how long they waited, the rendering and comparing it cost. */
export interface GateStats {
  /** Inputs that waited for a screen and got it. */
  gated: number;
  /** Time they spent waiting, in all. */
  waitedMs: number;
  /** Screen comparisons made. */
  comparisons: number;
  /** Time spent rendering the live display and comparing, in all. */
  computeMs: number;
  /** Recorded screens the inputs waited for. */
  states: number;
}

/** The gate of one replay, fed by the replay's live units. */
export class ScreenWatch {
  readonly #gate: ScreenGate;
  readonly #outDir: string;
  readonly #waiters = new Set<() => void>();
  /** Recorded time of each gated message's predecessor among the gated ones. */
  readonly #previousNs: Map<PlannedMessage, bigint>;
  /** Just after the recording's last packet: the last recorded screen. */
  readonly #finalNs: bigint;
  #gated = 0;
  #waitedMs = 0;
  #computeMs = 0;

  private constructor(
    gate: ScreenGate,
    outDir: string,
    times: { previousNs: Map<PlannedMessage, bigint>; finalNs: bigint },
  ) {
    this.#gate = gate;
    this.#finalNs = times.finalNs;
    this.#outDir = outDir;
    this.#previousNs = times.previousNs;
  }

  /**
   * Reads the recorded display and cursor of `source` and renders the screens its gated inputs
   * waited for.
   *
   * @param source the session directory or channel file replayed
   * @param options the plan, the masks of the `"screen"` rules and the replay directory
   */
  static async load(
    source: string,
    options: { plan: ReplayPlan; masks: readonly ScreenMask[]; outDir: string },
  ): Promise<ScreenWatch> {
    const { plan, masks, outDir } = options;
    const recorded = await readDisplaySession(source);
    const gatedMessages = plan.connections.flatMap((c) =>
      c.messages.filter((m) => isScreenGated(c.channelType, m.type))
    ).sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0));
    const previousNs = new Map<PlannedMessage, bigint>();
    gatedMessages.forEach((m, i) => previousNs.set(m, gatedMessages[i - 1]?.tsNs ?? plan.t0Ns));
    const gate = new ScreenGate({
      display: recorded.messages,
      cursor: recorded.cursorMessages,
      gatedNs: [...gatedMessages.map((m) => m.tsNs), plan.endNs + 1n],
      masks,
      t0Ns: plan.t0Ns,
      codecs: DEFAULT_CODECS,
    });
    return new ScreenWatch(gate, outDir, { previousNs, finalNs: plan.endNs + 1n });
  }

  /**
   * Waits until the replayed screen has reached the recording's last one.
   *
   * @param options how long (ms) and the stop signal
   * @returns whether it did
   */
  waitFinal(options: { timeoutMs: number; signal?: AbortSignal }): Promise<boolean> {
    return this.#until(() => this.#gate.isReached(this.#finalNs), {
      ms: options.timeoutMs,
      signal: options.signal,
    });
  }

  /** The recorded screens the inputs wait for, in order (the pre-link gate's later screens). */
  get recordedScreens(): DisplaySnapshot[] {
    return this.#gate.states.flatMap((s) => (s.snapshot ? [s.snapshot] : []));
  }

  /** Gating so far. */
  get stats(): GateStats {
    return {
      gated: this.#gated,
      waitedMs: this.#waitedMs,
      comparisons: this.#gate.comparisons,
      computeMs: this.#computeMs,
      states: this.#gate.states.length,
    };
  }

  /**
   * Feeds one live unit: server messages of the first display and cursor channels.
   *
   * @param conn the connection's channel type and label ("display", "cursor")
   * @param unit the unit sent or received
   */
  onUnit(conn: { channelType: number; label: string }, unit: SpiceUnit): void {
    if (unit.kind !== "message") return;
    const display = conn.channelType === CHANNEL.display && conn.label === "display";
    const cursor = conn.channelType === CHANNEL.cursor && conn.label === "cursor";
    if (!display && !cursor) return;
    let moved = false;
    const startMs = performance.now();
    for (const m of unitMessages(unit, 0n)) {
      moved = (display ? this.#gate.pushDisplay(m) : this.#gate.pushCursor(m)) || moved;
    }
    this.#computeMs += performance.now() - startMs;
    if (moved) { for (const wake of [...this.#waiters]) wake(); }
  }

  /**
   * Whether `m` waits for the screen on a channel of type `channelType`.
   *
   * @param channelType the connection's channel type
   * @param m the planned message
   */
  gates(channelType: number, m: PlannedMessage): boolean {
    return isScreenGated(channelType, m.type) && this.#previousNs.has(m);
  }

  /**
   * Waits until the replayed screen has reached the one the recorded client saw before `m`.
   *
   * @param m a gated message ({@link gates})
   * @param options its connection's label, the slack and the stop signal
   * @throws {ReplayDivergence} after writing the three pictures, when the wait outlasts the
   *   recorded gap since the previous gated input plus `timeoutMs`
   */
  async waitFor(m: PlannedMessage, options: ScreenWaitOptions): Promise<void> {
    const startMs = performance.now();
    const gapMs = Number(m.tsNs - (this.#previousNs.get(m) ?? m.tsNs)) / 1e6;
    const limitMs = options.timeoutMs + Math.max(0, gapMs);
    const reached = await this.#until(() => this.#gate.isReached(m.tsNs), {
      ms: limitMs,
      signal: options.signal,
    });
    this.#waitedMs += performance.now() - startMs;
    if (options.signal?.aborted) return;
    if (reached) {
      this.#gated++;
      return;
    }
    const state = this.#gate.stateOf(m.tsNs);
    const differing = await this.#writePictures(state);
    throw new ReplayDivergence(
      `${options.label} message #${m.index} ${m.name}: the replayed screen did not reach the ` +
        `recorded one (screen ${state + 1} of ${this.#gate.states.length}) within ` +
        `${Math.round(limitMs)} ms; ${differing}; expected.png, actual.png and diff.png are in ` +
        this.#outDir,
      { channel: options.label, index: m.index, awaited: "the recorded screen" },
    );
  }

  /** Resolves true once `ready()`, false after `ms` or at `signal`. */
  #until(ready: () => boolean, o: { ms: number; signal?: AbortSignal }): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        o.signal?.removeEventListener("abort", stop);
        resolve(value);
      };
      const check = () => {
        if (ready()) done(true);
      };
      const stop = () => done(false);
      const timer = setTimeout(stop, o.ms);
      this.#waiters.add(check);
      o.signal?.addEventListener("abort", stop, { once: true });
    });
  }

  /** Writes expected.png, actual.png and diff.png for state `i`; says how far apart they are. */
  async #writePictures(i: number): Promise<string> {
    const want = this.#gate.states[i].snapshot!;
    const live = this.#gate.liveSnapshot();
    await Deno.mkdir(this.#outDir, { recursive: true, mode: 0o700 });
    const write = (name: string, image: Parameters<typeof encodePng>[0]) =>
      Deno.writeFile(`${this.#outDir}/${name}`, encodePng(image), { mode: 0o600 });
    await write("expected.png", want);
    // No live surface yet: a black screen of the recorded size stands in.
    const actual = live ?? { ...want, pixels: new Uint8Array(want.pixels.length), unknown: [] };
    await write("actual.png", actual);
    const diff = screenDiffImage(want, actual, { masks: this.#gate.masksFor(i) });
    await write("diff.png", diff);
    if (!live) return "the replayed display has no surface yet";
    if (live.width !== want.width || live.height !== want.height) {
      return `the replayed screen is ${live.width}×${live.height}, the recorded one ` +
        `${want.width}×${want.height}`;
    }
    return `${diff.differing} pixels differ`;
  }
}
