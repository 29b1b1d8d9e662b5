import assert from "node:assert/strict";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { hasTool, missingTools } from "../harness/processes/tools.ts";
import { decodePpm, type PpmImage } from "../lib/display/image_files.ts";
import { psnr } from "../lib/display/psnr.ts";
import { captureInProcess } from "../testing/capture_harness.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const RAW = new URL("../fixtures/raw/", import.meta.url).pathname;
const noCapture = missingTools("qemu-system-x86_64", "spicy-screenshot") !== undefined;
/** The Linux guest typing session also needs spicy, Xvfb, xdotool and the guest's build tools. */
const noTyping = noCapture || missingTools("spicy", "xvfb-run", "xdotool") !== undefined ||
  !hasTool("apt-get") || !hasTool("dpkg-deb");

interface FrameLine {
  type: string;
  file: string;
  reason: string;
  unknown: unknown[];
}

/** Runs `render --json` and returns its exit code, frame lines and problem lines. */
async function render(
  args: string[],
): Promise<{ code: number; frames: FrameLine[]; problems: unknown[]; stderr: string }> {
  const io = memoryIo();
  const code = await main(["render", "--json", ...args], io);
  const lines = io.stdout().split("\n").filter(Boolean).map((l) => JSON.parse(l));
  return {
    code,
    frames: lines.filter((l) => l.type === "frame"),
    problems: lines.filter((l) => l.type === "problem"),
    stderr: io.stderr(),
  };
}

/** How often each `inspect --messages` name and `image=` codec occurs on the display channel. */
async function displayCounts(dir: string): Promise<Map<string, number>> {
  const io = memoryIo();
  assert.equal(await main(["inspect", "--messages", "--channel", "display", dir], io), 0);
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const line of io.stdout().split("\n").filter(Boolean)) {
    const name = line.match(/[→←] (?:#\d+ )?(\S+)/)?.[1];
    if (name) add(name);
    for (const m of line.matchAll(/image=([A-Z_0-9]+)/g)) add(m[1]);
  }
  return counts;
}

function colours(p: PpmImage): number {
  const set = new Set<number>();
  for (let i = 0; i < p.rgb.length; i += 3) {
    set.add((p.rgb[i] << 16) | (p.rgb[i + 1] << 8) | p.rgb[i + 2]);
  }
  return set.size;
}

for (const path of [`${GOLDEN}screenshot`, `${GOLDEN}all_channels`, `${RAW}screenshot_lo.pcapng`]) {
  const fixture = path.split("/").slice(-2).join("/");
  Deno.test(`render --final draws a complete, non-uniform screen from ${fixture}`, async () => {
    const out = await Deno.makeTempDir({ prefix: "spicecap-render-" });
    try {
      const r = await render(["--final", "--format", "ppm", "-o", out, path]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.frames.length, 1);
      assert.deepEqual(r.frames[0].unknown, []);
      const image = decodePpm(await Deno.readFile(r.frames[0].file));
      assert.deepEqual([image.width, image.height], [720, 400]);
      assert.ok(colours(image) > 1, "the frame is not one colour");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("render rejects a bad --format and a missing path with exit 2", async () => {
  assert.equal((await render(["--format", "gif", `${GOLDEN}screenshot`])).code, 2);
  assert.equal((await render(["/nonexistent/session"])).code, 2);
});

/** Records spicy-screenshot, renders the first MARK (when it takes its shot) and the end. */
async function truth(
  captureArgs: string[],
): Promise<{ shot: PpmImage; mark: PpmImage; final: PpmImage }> {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-render-truth-" });
  try {
    const cap = captureInProcess([
      "--client",
      "spicy-screenshot",
      "-o",
      `${tmp}/s`,
      ...captureArgs,
    ]);
    assert.equal(await cap.done, 0, cap.io.stderr());
    const r = await render([
      "--checkpoints",
      "marks",
      "--final",
      "--format",
      "ppm",
      "-o",
      `${tmp}/f`,
      `${tmp}/s`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const mark = r.frames.find((f) => f.reason === "mark");
    const final = r.frames.find((f) => f.reason === "final");
    assert.ok(mark && final, "a MARK frame and a final frame");
    return {
      shot: decodePpm(await Deno.readFile(`${tmp}/s/screenshot.ppm`)),
      mark: decodePpm(await Deno.readFile(mark.file)),
      final: decodePpm(await Deno.readFile(final.file)),
    };
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

function assertSamePixels(ours: PpmImage, theirs: PpmImage, what: string): void {
  assert.deepEqual([ours.width, ours.height], [theirs.width, theirs.height], `${what}: size`);
  const first = ours.rgb.findIndex((b, i) => b !== theirs.rgb[i]);
  assert.equal(first, -1, `${what}: first differing pixel at ${Math.floor(first / 3)}`);
}

Deno.test({
  name:
    "render's MARK frame equals spicy-screenshot's PPM pixel for pixel (static and default guest)",
  ignore: noCapture,
  fn: async () => {
    const still = await truth(["--guest", "static"]);
    assertSamePixels(still.mark, still.shot, "static guest, MARK frame");
    assertSamePixels(still.final, still.shot, "static guest, final frame");
    // SeaBIOS's cursor keeps blinking: spicy-screenshot saves at the first MARK, later draws
    // (GLZ cursor updates) may reach the recording before it disconnects.
    const seabios = await truth([]);
    assertSamePixels(seabios.mark, seabios.shot, "default guest, MARK frame");
  },
});

Deno.test({
  name: "render matches spicy-screenshot for every lossless image-compression mode",
  ignore: noCapture,
  fn: async (t) => {
    for (const mode of ["off", "quic", "lz", "glz", "auto_lz", "auto_glz"]) {
      await t.step(mode, async () => {
        const r = await truth(["--guest", "static", "--image-compression", mode]);
        assertSamePixels(r.mark, r.shot, `image-compression=${mode}`);
      });
    }
  },
});

Deno.test({
  name: "render --final of a typed Linux session (hundreds of GLZ draws; ZLIB_GLZ with " +
    "--zlib-glz-wan always) equals the screen spicy-screenshot takes afterwards",
  ignore: noTyping,
  fn: async (t) => {
    await t.step("default compression (GLZ)", () => typedSession([], "GLZ_RGB"));
    await t.step(
      "--image-compression glz --zlib-glz-wan always",
      () =>
        typedSession(["--image-compression", "glz", "--zlib-glz-wan", "always"], "ZLIB_GLZ_RGB"),
    );
  },
});

/** Types a few commands into the Linux guest; checks the codec occurs and the final pixels. */
async function typedSession(captureArgs: string[], codec: string): Promise<void> {
  const tmp = await Deno.makeTempDir({ prefix: "spicecap-render-linux-" });
  try {
    const run = await captureTyping(`${tmp}/s`, {
      captureArgs,
      lines: [
        { type: "ls -la / ; echo one >/dev/ttyS0", serial: "one" },
        { type: "seq 1 60 ; echo two >/dev/ttyS0", serial: "two" },
        { type: "clear ; echo three >/dev/ttyS0", serial: "three" },
        // the serial marker comes 2 s after the prompt is back, so the last screen update
        // has reached spicy (and the recording) before the client is closed
        { type: "echo hello world ; (sleep 2 ; echo four >/dev/ttyS0) &", serial: "four" },
      ],
      screenshot: `${tmp}/final.ppm`,
    });
    assert.equal(run.exitCode, 0, run.stderr);
    const counts = await displayCounts(`${tmp}/s`);
    assert.ok((counts.get(codec) ?? 0) > 10, `${codec} images: ${JSON.stringify([...counts])}`);
    const r = await render(["--final", "--format", "ppm", "-o", `${tmp}/f`, `${tmp}/s`]);
    assert.equal(r.code, 0, r.stderr);
    const ours = decodePpm(await Deno.readFile(r.frames[0].file));
    assertSamePixels(ours, decodePpm(await Deno.readFile(`${tmp}/final.ppm`)), "linux guest");
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Lossy truth. Our JPEG decoding is spice-gtk's own (libjpeg-turbo, same settings; checked
 * against djpeg in lib/display/codecs/jpeg_test.ts), but the screen spicy-screenshot gets on its
 * fresh connection is encoded anew by the server, not from the same JPEG tiles the recorded
 * client drew, so the final screens differ slightly (about 53 dB measured).
 */
const MIN_PSNR_DB = 40;

Deno.test({
  name: "render of a photo and a moving region (JPEG draws, MJPEG stream frames) is within " +
    `${MIN_PSNR_DB} dB PSNR of the screen spicy-screenshot takes afterwards`,
  ignore: noTyping,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-render-photo-" });
    try {
      const run = await captureTyping(`${tmp}/s`, {
        guest: "linux-fb",
        captureArgs: [
          ...["--image-compression", "auto_glz", "--jpeg-wan", "always"],
          ...["--streaming-video", "all"],
        ],
        lines: [
          { type: "photo", serial: "PHOTO DONE" },
          // spice-server starts a stream only after a run of frames close together: many quick
          // frames make that run happen even when a loaded machine slows the guest down
          { type: "motion 150 15000", serial: "MOTION DONE" },
          // streams time out and their last frames are redrawn; then the screen stays still
          { type: "(sleep 2 ; echo settled >/dev/ttyS0) &", serial: "settled" },
        ],
        screenshot: `${tmp}/final.ppm`,
      });
      assert.equal(run.exitCode, 0, run.stderr);
      const counts = await displayCounts(`${tmp}/s`);
      const seen = JSON.stringify([...counts]);
      assert.ok((counts.get("JPEG") ?? 0) > 10, `JPEG images: ${seen}`);
      assert.ok((counts.get("STREAM_CREATE") ?? 0) > 0, `video streams: ${seen}`);
      assert.ok((counts.get("STREAM_DATA") ?? 0) > 20, `stream frames: ${seen}`);
      const r = await render(["--final", "--format", "ppm", "-o", `${tmp}/f`, `${tmp}/s`]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.problems, [], "every image and stream frame decodes");
      const ours = decodePpm(await Deno.readFile(r.frames[0].file));
      const db = psnr(ours, decodePpm(await Deno.readFile(`${tmp}/final.ppm`)));
      assert.ok(db >= MIN_PSNR_DB, `PSNR ${db.toFixed(2)} dB, want ≥ ${MIN_PSNR_DB}`);
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
