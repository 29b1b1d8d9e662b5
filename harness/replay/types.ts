/**
 * The replay's options and result ({@link ReplayOptions}, {@link ReplayResult}), shared by the
 * driver (harness/replay/driver.ts) and the run it drives (harness/replay/replay_run.ts).
 *
 * @module
 */
import type { Manifest } from "../../lib/capture/manifest.ts";
import type { ReplayPlan } from "../../lib/replay/plan.ts";
import type { Speed, Timer } from "../../lib/replay/schedule.ts";
import type { QemuServer } from "../processes/qemu.ts";
import type { ReplayDivergence } from "./live_connection.ts";
import type { ScreenMask } from "../../lib/display/masks.ts";
import type { GateStats } from "./screen_watch.ts";

/** How `replaySession` (harness/replay/driver.ts) runs. */
export interface ReplayOptions {
  /** Session directory or single channel file to replay. */
  source: string;
  /** Live server; absent → start QEMU (`serverCommandLine`, or the default). */
  target?: { hostname: string; port: number };
  /**
   * QEMU command line to start when there is no `target`, already vetted by the replay policy
   * (lib/replay/qemu_policy.ts, applied by harness/commands/replay.ts); absent → the capture
   * default. The manifest's recorded line is never run as it is.
   */
  serverCommandLine?: readonly string[];
  /** SPICE password for the fresh tickets. @default "" */
  password?: string;
  /** @default max */
  speed?: Speed;
  /** Causality and link deadline, ms. @default 10000 */
  timeoutMs?: number;
  /** Replay session directory. @default `<source>-replay-<timestamp>` */
  outDir?: string;
  /** Stop after this many client messages (1-based count over the session); keeps the server. */
  until?: number;
  /**
   * Stop after the client message inspect numbers `#index` on this channel (`main`,
   * `display-1`; the index counts per connection in the client → server direction from 0);
   * keeps the server.
   */
  untilMessage?: { channel: string; index: number };
  /** Leave the started QEMU running (returned in the result). */
  keepServer?: boolean;
  /**
   * "screen": inputs wait until the replayed screen has reached the recorded one
   * (harness/replay/screen_watch.ts); "none": causality and time only. @default "screen"
   */
  gate?: "screen" | "none";
  /** Masks of the `"screen"` rules (`--rules`), skipped by the screen gate. */
  screenMasks?: readonly ScreenMask[];
  /** Receives one line per message sent or received. */
  verbose?: (line: string) => void;
  /** Warnings and progress. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Channels stay open at least this long after the last link (docs/protocol.md "Live duties
   * of a replayer"). @default 1000
   */
  holdMs?: number;
  timer?: Timer;
}

/** What happened. */
export interface ReplayResult {
  outDir: string;
  manifest: Manifest;
  /** Client messages replayed (generated PONG/ACK_SYNC/ACK not counted). */
  sent: number;
  /** Set when the replay diverged or a link was refused (exit 1). */
  divergence?: ReplayDivergence;
  /** The replay was interrupted (`signal`): stopped early, nothing counted as a divergence. */
  interrupted: boolean;
  /** The started QEMU, when kept running (`--until`, `--keep-server`). */
  server?: ReplayServer;
  /** host:port replayed against. */
  target: string;
  warnings: string[];
  /** Lateness of each scheduled send, ns (realtime/×N only). */
  latenessNs: bigint[];
  plan: ReplayPlan;
  /** One line when a replay that ran to its end fell short (fewer server messages, inputs). */
  short?: string;
  /** The screen gate's work, with `gate: "screen"`. */
  gate?: GateStats;
}

/** The replay's own QEMU, and when it was spawned (performance.now()). */
export type ReplayServer = QemuServer & { spawnedAtMs: number };
