/**
 * The recording worker's flight-recorder mode (`capture --ring`): the recorders frame into a
 * {@link FlightRing} in memory and nothing is written while the session runs; a snapshot
 * (SIGUSR1, a `--snapshot-on` event, the end) writes what the ring holds to
 * `<out>/snapshots/<UTC time>-<reason>/` (snapshot_writer.ts). Event snapshots are debounced:
 * the events of one burst (a client killed closes all its connections) make one snapshot,
 * taken once the burst is over; an event while a snapshot of its reason waits is folded into
 * it. Every SIGUSR1 makes its own snapshot. Snapshots are written one at a time.
 *
 * @module
 */
import { FlightRing } from "../../lib/capture/flight_ring.ts";
import { type Manifest, MANIFEST_FORMAT, MANIFEST_VERSION } from "../../lib/capture/manifest.ts";
import type { SessionStats } from "../../lib/capture/session.ts";
import { writeSnapshot } from "./snapshot_writer.ts";
import type { RecordingSessionOptions, RingModeOptions } from "./worker_protocol.ts";

/** Quiet time after an event before its snapshot is taken, ms. */
export const SNAPSHOT_DEBOUNCE_MS = 250;
/** Longest an event's snapshot waits for its burst to end, ms. */
const SNAPSHOT_MAX_WAIT_MS = 1000;

/** Reports of the mode to the relay thread. */
export interface RingModeReports {
  log(level: "info" | "warn", message: string): void;
  snapshot(dir: string, reason: string): void;
}

/** A time like 20261123T161200.123Z, safe in a file name. */
function stamp(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString().replace(/[-:]/g, "");
}

/** The reason as a file-name part: `message=DRAW_COPY` → `message-DRAW_COPY`. */
function slug(reason: string): string {
  return reason.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 60);
}

/** The flight recorder of one capture, in the recording worker. */
export class RingMode {
  /** What the recorders record into. */
  readonly ring: FlightRing;
  readonly #o: RecordingSessionOptions;
  readonly #mode: RingModeOptions;
  readonly #report: RingModeReports;
  readonly #waiting = new Map<
    string,
    { detail: string; timer: ReturnType<typeof setTimeout>; since: number }
  >();
  #writes: Promise<void> = Promise.resolve();
  readonly #dirs: string[] = [];
  #last?: Manifest;
  readonly #startedNs: bigint;

  /**
   * @param o the session options (`dir` is `<out>`)
   * @param reports logging and snapshot reports
   */
  constructor(o: RecordingSessionOptions & { ring: RingModeOptions }, reports: RingModeReports) {
    this.#o = o;
    this.#mode = o.ring;
    this.#report = reports;
    this.ring = new FlightRing({
      ringBytes: o.ring.bytes,
      triggers: o.ring.triggers,
      onTrigger: (reason, detail) => this.#event(reason, detail),
    });
    this.#startedNs = this.ring.nowNs();
  }

  /** Snapshot directories written so far. */
  get snapshots(): readonly string[] {
    return this.#dirs;
  }

  /**
   * Takes a snapshot of what the ring holds now (queued behind snapshots being written).
   *
   * @param reason the manifest's reason
   * @param detail what set it off
   * @returns once it is written (or failed, reported)
   */
  take(reason: string, detail?: string): Promise<void> {
    const view = this.ring.view();
    const dir = `${this.#o.dir}/snapshots/${stamp(view.takenNs)}-${slug(reason)}`;
    this.#writes = this.#writes.then(async () => {
      try {
        await Deno.mkdir(`${this.#o.dir}/snapshots`, { recursive: true, mode: 0o700 });
        let target = dir;
        for (let n = 2; await exists(target); n++) target = `${dir}-${n}`;
        this.#last = await writeSnapshot(target, view, {
          reason,
          detail,
          format: this.#o.format,
          tsResolution: this.#o.tsResolution,
          serverPort: this.#o.serverPort,
          target: this.#o.target,
        });
        this.#dirs.push(target);
        this.#report.snapshot(target, reason);
      } catch (e) {
        this.#report.log("warn", `snapshot ${reason} failed: ${(e as Error).message ?? e}`);
      }
    });
    return this.#writes;
  }

  #event(reason: string, detail: string): void {
    const w = this.#waiting.get(reason);
    const now = performance.now();
    if (w && now - w.since >= SNAPSHOT_MAX_WAIT_MS) return; // its timer fires soon
    if (w) clearTimeout(w.timer);
    const first = w?.detail ?? detail;
    const timer = setTimeout(() => {
      this.#waiting.delete(reason);
      void this.take(reason, first);
    }, SNAPSHOT_DEBOUNCE_MS);
    this.#waiting.set(reason, { detail: first, timer, since: w?.since ?? now });
  }

  /**
   * The session ends: waiting event snapshots are taken now, then the `exit` one if asked
   * for; resolves once all are written.
   *
   * @returns a manifest to summarise: the last snapshot's, or an empty one
   */
  async finish(): Promise<Manifest> {
    this.ring.stopping();
    for (const [reason, w] of [...this.#waiting]) {
      clearTimeout(w.timer);
      this.#waiting.delete(reason);
      void this.take(reason, w.detail);
    }
    if (this.#mode.onExit) void this.take("exit", "the capture ended");
    await this.#writes;
    return this.#last ?? this.#empty();
  }

  /** Counters for `Recording.stats`: no file, but what the ring holds and the snapshots. */
  stats(): SessionStats {
    const ring = { ...this.ring.stats(), snapshots: [...this.#dirs] };
    return { channels: [], dropped: 0, errors: 0, skipped: 0, unrecorded: 0, queued: 0, ring };
  }

  #empty(): Manifest {
    return {
      format: MANIFEST_FORMAT,
      version: MANIFEST_VERSION,
      tool: { name: "spicecap", version: "" },
      started: new Date(Number(this.#startedNs / 1_000_000n)).toISOString(),
      stopped: new Date().toISOString(),
      complete: true,
      target: this.#o.target ?? null,
      server: null,
      tsResolution: this.#o.tsResolution ?? "ns",
      captureFormat: this.#o.format ?? "pcap",
      serverPort: this.#o.serverPort ?? 5930,
      relativeTime: false,
      channels: [],
      skipped: [],
      dropped: 0,
      errors: [],
    };
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}
