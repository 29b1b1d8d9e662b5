/**
 * `diff --screens` against the real Linux guest: a recording of spicy typing
 * `echo hello-spice >/dev/ttyS0`, replayed three times (screen-gated, the default), diffs the
 * same on screens every time, whatever its draw messages did; a second recording typing
 * `hello-spicf` differs, and the diff picture under --artifacts shows the one changed glyph on
 * the typed line. Recorded once per file.
 */
import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { missingTools } from "../harness/processes/tools.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";
import { DEFAULT_CODECS } from "../lib/display/default_codecs.ts";
import { DisplayModel } from "../lib/display/display_model.ts";
import { readDisplaySession } from "../lib/display/session_display.ts";
import { renderFrames } from "../lib/display/timeline.ts";
import type { ScreenRecord } from "../lib/diff/screen_report.ts";

/** The guest is built with apt-get and dpkg-deb (tests/linux_guest_test.ts says more). */
const noTyping = missingTools(
  ...["qemu-system-x86_64", "spicy", "xvfb-run", "xdotool", "apt-get", "dpkg-deb"],
) !== undefined;

let tmp: string | undefined;
const recordings = new Map<string, Promise<string>>();

/** A recording typing `echo TEXT >/dev/ttyS0`, made once for the file. */
function recorded(text: string): Promise<string> {
  let p = recordings.get(text);
  if (!p) {
    p = (async () => {
      tmp ??= await Deno.makeTempDir({ prefix: "spicecap-screen-diff-" });
      const dir = `${tmp}/rec-${text}`;
      const cap = await captureTyping(dir, {
        lines: [{ type: `echo ${text} >/dev/ttyS0`, serial: text }],
        captureArgs: ["--bundle"],
      });
      assert.equal(cap.exitCode, 0, cap.stderr);
      return dir;
    })();
    recordings.set(text, p);
  }
  return p;
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

/** RGBA of a PNG as lib/display's encoder writes it (8-bit RGB or RGBA, filter 0 rows). */
function decodePng(bytes: Uint8Array): { width: number; height: number; rgba: Uint8Array } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8;
  let width = 0, height = 0, channels = 3;
  const idat: Uint8Array[] = [];
  while (at < bytes.length) {
    const length = dv.getUint32(at);
    const type = new TextDecoder().decode(bytes.subarray(at + 4, at + 8));
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === "IHDR") {
      width = dv.getUint32(at + 8);
      height = dv.getUint32(at + 12);
      channels = data[9] === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * channels);
    assert.equal(raw[row], 0, "filter type 0");
    for (let x = 0; x < width; x++) {
      const s = row + 1 + x * channels;
      rgba.set(
        [raw[s], raw[s + 1], raw[s + 2], channels === 4 ? raw[s + 3] : 255],
        (y * width + x) * 4,
      );
    }
  }
  return { width, height, rgba };
}

/** Bounding box of the pure red pixels of a diff picture. */
function redBox(png: { width: number; height: number; rgba: Uint8Array }) {
  let top = Infinity, left = Infinity, bottom = -1, right = -1;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const o = (y * png.width + x) * 4;
      if (png.rgba[o] !== 255 || png.rgba[o + 1] !== 0 || png.rgba[o + 2] !== 0) continue;
      [top, left, bottom, right] = [
        Math.min(top, y),
        Math.min(left, x),
        Math.max(bottom, y + 1),
        Math.max(right, x + 1),
      ];
    }
  }
  return { top, left, bottom, right };
}

/**
 * Rows [top, bottom) of the typed command line on the golden's last screen: the text line before
 * the new prompt, the last one.
 */
async function typedLine(dir: string): Promise<{ top: number; bottom: number }> {
  const session = await readDisplaySession(dir);
  const [end] = renderFrames(new DisplayModel({ codecs: DEFAULT_CODECS }), {
    messages: session.messages,
    request: { final: true },
  });
  const s = end.snapshot!;
  const lit = (y: number) => {
    for (let x = 0; x < s.width; x++) {
      const o = (y * s.width + x) * 4;
      if (s.pixels[o] + s.pixels[o + 1] + s.pixels[o + 2] > 0) return true;
    }
    return false;
  };
  const lines: { top: number; bottom: number }[] = [];
  for (let y = 0; y < s.height; y++) {
    if (!lit(y)) continue;
    const last = lines.at(-1);
    if (last && y - last.bottom <= 2) last.bottom = y + 1;
    else lines.push({ top: y, bottom: y + 1 });
  }
  assert.ok(lines.length >= 2, JSON.stringify(lines));
  return lines.at(-2)!;
}

Deno.test({
  name: "three screen-gated replays of a typed session diff the same on screens",
  ignore: noTyping,
  fn: async () => {
    const rec = await recorded("hello-spice");
    for (const i of [1, 2, 3]) {
      const out = `${tmp}/replay-${i}`;
      const r = await cli(["replay", rec, "--out", out, "--timeout", "30000"]);
      assert.equal(r.code, 0, r.stderr);
      const d = await cli(["diff", "--screens", "--json", out, rec]);
      assert.equal(d.code, 0, d.stdout);
      const lines = d.stdout.trim().split("\n").map((l) => JSON.parse(l));
      const screens = lines.filter((l) => l.type === "screen") as ScreenRecord[];
      assert.ok(screens.length > 20, `${screens.length} checkpoints`);
      assert.ok(screens.every((s) => s.same));
      assert.equal(screens.at(-1)!.kind, "end");
      const summary = lines.at(-1);
      assert.deepEqual(summary.screens, { checkpoints: screens.length, differing: 0 });
      assert.equal(summary.same, true);
    }
  },
});

Deno.test({
  name: "one typed character changed: diff --screens exits 1, the diff PNG shows one glyph",
  ignore: noTyping,
  fn: async () => {
    const golden = await recorded("hello-spice");
    const actual = await recorded("hello-spicf");
    const artifacts = `${tmp}/artifacts`;
    const d = await cli(["diff", "--screens", "--json", "--artifacts", artifacts, actual, golden]);
    assert.equal(d.code, 1, d.stdout);
    const screens = d.stdout.trim().split("\n").map((l) => JSON.parse(l))
      .filter((l) => l.type === "screen") as ScreenRecord[];
    // Two recordings start typing at different moments of the shell's banner, so some input
    // checkpoints differ by more; once typed, the screens differ by the one glyph.
    const end = screens.at(-1)!;
    assert.equal(end.kind, "end");
    assert.equal(end.same, false);
    const first = end;
    const png = decodePng(await Deno.readFile(first.artifacts!.diff!));
    const box = redBox(png);
    assert.deepEqual(box, {
      top: first.box!.y,
      left: first.box!.x,
      bottom: first.box!.y + first.box!.height,
      right: first.box!.x + first.box!.width,
    });
    assert.ok(box.right - box.left <= 12 && box.bottom - box.top <= 18, JSON.stringify(box));
    const typed = await typedLine(golden);
    assert.ok(
      box.top >= typed.top - 2 && box.bottom <= typed.bottom + 2,
      JSON.stringify({ box, typed }),
    );
    assert.ok(box.left >= 9 * "guest# echo hello-spi".length, "after 'guest# echo hello-spi'");
    for (const f of [first.artifacts!.expected!, first.artifacts!.actual!]) {
      assert.ok((await Deno.stat(f)).size > 0, f);
    }
    await Deno.remove(tmp!, { recursive: true });
  },
});
