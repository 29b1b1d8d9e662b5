/**
 * `render` over recorded sessions: how many times faster than the session lasted it turns the
 * display channel into the final frame (goal ≥ 50×), and its peak memory next to what the model
 * must hold (the surfaces plus the GLZ window); the messages are streamed, not kept.
 * The sessions are the recorded fixtures, and, unless `--quick`, a Linux guest session recorded
 * here (typing, a photo-like picture in JPEG, a moving region as MJPEG frames).
 */
import { DisplayModel } from "../lib/display/display_model.ts";
import { DEFAULT_CODECS } from "../lib/display/default_codecs.ts";
import { openDisplayStream, streamFrames } from "../lib/display/display_stream.ts";
import { readManifest } from "../lib/capture/manifest.ts";
import { hasTool, missingTools } from "../harness/processes/tools.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";
import type { BenchRow } from "./types.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
const MIN_SPEEDUP = 50;
const MB = 1 << 20;

/** What one session holds and how long rendering it took. */
interface Measured {
  durationMs: number;
  renderMs: number;
  /** Bytes of the surfaces created (each width × height × 4). */
  surfaceBytes: number;
  /** Bytes of the GLZ window the client announced (pixels × 4). */
  glzWindowBytes: number;
  /** Bytes of the display messages (streamed through, not kept). */
  messageBytes: number;
}

/**
 * Reads and renders session directory `path` to its final frame in this process, timed; the
 * session's duration is its manifest's started to stopped.
 */
async function measure(path: string): Promise<Measured> {
  const t0 = performance.now();
  const stream = await openDisplayStream(path);
  const model = new DisplayModel({ codecs: DEFAULT_CODECS });
  for await (const _ of streamFrames(stream, { model, request: { final: true } })) {
    // the final frame's snapshot is the work
  }
  const renderMs = performance.now() - t0;
  let surfaceBytes = 0, glzWindowBytes = 0, messageBytes = 0;
  for await (const ev of (await openDisplayStream(path)).events) {
    if (ev.kind !== "display") continue;
    for (const m of ev.messages) {
      messageBytes += m.body.length;
      const v = new DataView(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      if (!m.fromClient && m.type === 314) {
        surfaceBytes += v.getUint32(4, true) * v.getUint32(8, true) * 4;
      }
      if (m.fromClient && m.type === 101) glzWindowBytes = v.getInt32(10, true) * 4;
    }
  }
  const manifest = await readManifest(path);
  const durationMs = Date.parse(manifest.stopped ?? manifest.started) -
    Date.parse(manifest.started);
  return {
    durationMs,
    renderMs,
    surfaceBytes,
    glzWindowBytes,
    messageBytes,
  };
}

/** Peak resident memory (VmHWM) of `deno task render --final` on `path`, in bytes. */
async function peakRss(path: string): Promise<number> {
  const out = await Deno.makeTempDir({ prefix: "spicecap-bench-render-" });
  try {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", CLI, "render", "--final", "-o", `${out}/f`, path],
      stdout: "null",
      stderr: "null",
    }).spawn();
    let peak = 0;
    let done = false;
    const status = child.status.then((s) => (done = true, s));
    while (!done) {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(await Deno.readTextFile(`/proc/${child.pid}/status`));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch {
        // the process is gone
      }
      await Promise.race([status, new Promise((r) => setTimeout(r, 10))]);
    }
    return peak;
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}

/** Records the Linux guest session the render test also records, into `dir`. */
async function recordLinuxSession(dir: string): Promise<string | undefined> {
  const tools = ["qemu-system-x86_64", "spicy", "spicy-screenshot", "xvfb-run", "xdotool"];
  if (missingTools(...tools) !== undefined || !hasTool("apt-get")) return undefined;
  const run = await captureTyping(`${dir}/s`, {
    guest: "linux-fb",
    captureArgs: ["--jpeg-wan", "always", "--streaming-video", "all"],
    lines: [
      { type: "ls -la / ; seq 1 40 ; echo one >/dev/ttyS0", serial: "one" },
      { type: "photo", serial: "PHOTO DONE" },
      { type: "motion 60 40000", serial: "MOTION DONE" },
    ],
  });
  return run.exitCode === 0 ? `${dir}/s` : undefined;
}

/** Rows for one session: speed-up over its duration, and peak memory. */
async function sessionRows(name: string, path: string): Promise<BenchRow[]> {
  await measure(path); // warm: modules compiled, JIT ready
  const m = await measure(path);
  const baseline = await peakRss(`${GOLDEN}screenshot`);
  const peak = await peakRss(path);
  const model = m.surfaceBytes + m.glzWindowBytes;
  const speedup = m.durationMs / m.renderMs;
  return [
    {
      name: `render ${name} (${(m.durationMs / 1000).toFixed(1)} s session)`,
      value: speedup,
      unit: "× real time",
      goal: `≥ ${MIN_SPEEDUP}× the session's duration`,
      met: speedup >= MIN_SPEEDUP,
    },
    {
      name: `render ${name}: peak RSS over golden/screenshot's (display messages ` +
        `${(m.messageBytes / MB).toFixed(1)} MB, streamed)`,
      value: Math.max(0, peak - baseline) / MB,
      unit: "MB",
      reference: model / MB,
      referenceName: "surfaces + GLZ window",
      goal: "≤ surfaces + GLZ window",
      met: peak - baseline <= model,
    },
  ];
}

/**
 * Render speed and memory rows over the recorded sessions.
 *
 * @param options `quick`: the fixtures only (no guest is booted)
 */
export async function displaySessionRows(options: { quick: boolean }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (
    const [name, path] of [
      ["golden/screenshot", `${GOLDEN}screenshot`],
      ["golden/all_channels", `${GOLDEN}all_channels`],
    ]
  ) rows.push(...await sessionRows(name, path));
  if (options.quick) return rows;
  const dir = await Deno.makeTempDir({ prefix: "spicecap-bench-linux-" });
  try {
    const path = await recordLinuxSession(dir);
    if (path) rows.push(...await sessionRows("Linux guest: typing, photo, MJPEG", path));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return rows;
}
