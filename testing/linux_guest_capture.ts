/**
 * One call for tests that need a recording of keys typed into a real client: `capture --guest
 * linux --client spicy` runs in this process, the Linux guest boots, lines are typed into spicy
 * with xdotool (each gated on text in the guest's serial log), and at the end spicy is closed
 * and, when asked, `spicy-screenshot` takes the final screen straight from QEMU's port (not
 * through the proxy, so the recording holds spicy's session only).
 */
import { captureInProcess, type InProcessCapture, pollUntil } from "./capture_harness.ts";
import { stopXClient, typeLine, waitForXvfbDisplay, type XDisplay } from "./typing.ts";
import { ensureLinuxGuest, LINUX_GUEST_READY } from "../harness/processes/linux_guest.ts";
import { runClient } from "../harness/processes/clients.ts";

/** One line typed into the guest's shell. */
export interface TypedLine {
  /** The command line (Return is pressed after it). */
  type: string;
  /** Text the serial log must then hold before the next line (e.g. from `echo x >/dev/ttyS0`). */
  serial?: string;
}

/** How {@link captureTyping} records. */
export interface TypingCaptureOptions {
  /** Lines typed in order once the guest is ready. */
  lines: TypedLine[];
  /** File for a `spicy-screenshot` of the final screen (PPM), taken straight from QEMU. */
  screenshot?: string;
  /** The guest: in text mode, or on the framebuffer (`photo`, `motion`). @default "linux" */
  guest?: "linux" | "linux-fb";
  /** More `capture` arguments (e.g. `--format pcapng`). */
  captureArgs?: string[];
  /** Deadline for the guest's GUEST READY, and for each line's serial text. @default 40000 */
  timeoutMs?: number;
  /**
   * Runs after the last line, while the client is still connected, with the capture (e.g. to
   * ask a `--ring` capture for a snapshot).
   */
  afterLines?: (cap: InProcessCapture) => Promise<void>;
}

/** What {@link captureTyping} did. */
export interface TypingCapture {
  /** capture's exit status. */
  exitCode: number;
  /** capture's stderr. */
  stderr: string;
  /** `<out>/serial.log`. */
  serialLog: string;
  /** From QEMU's start (the capture URL on stderr) to GUEST READY on the serial log, ms. */
  bootMs: number;
}

/** The longest a capture may run: its `--duration`, a net under a test that hangs. */
const CAPTURE_LIMIT_S = 300;
const QEMU_LINE = /QEMU pid \d+ on 127\.0\.0\.1:(\d+)/;
const CLIENT_LINE = /started .*?\(pid (\d+)\)/;

function readText(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Polls the serial log until it holds `text`, at most `timeoutMs`. */
export function waitForSerial(
  serialLog: string,
  { text, timeoutMs }: { text: string; timeoutMs: number },
): Promise<true> {
  return pollUntil(
    () => readText(serialLog).includes(text) || undefined,
    timeoutMs,
    `"${text}" in ${serialLog} (so far: ${JSON.stringify(readText(serialLog))})`,
  );
}

/** Reads a number from capture's stderr once it is printed. */
function fromStderr(
  cap: InProcessCapture,
  { pattern, what }: { pattern: RegExp; what: string },
): Promise<number> {
  return pollUntil(
    () => {
      const m = pattern.exec(cap.io.stderr());
      return m ? Number(m[1]) : undefined;
    },
    20_000,
    `${what} on capture's stderr (so far: ${cap.io.stderr()})`,
  );
}

/**
 * Records a session of `lines` typed into the Linux guest through spicy (under Xvfb), into
 * `out`; the capture is then stopped like Ctrl-C.
 *
 * @param out session directory (must not hold a session)
 * @param options lines, screenshot file, extra capture arguments, deadline
 * @returns capture's exit status and stderr, the serial log's path, the boot time
 */
export async function captureTyping(
  out: string,
  options: TypingCaptureOptions,
): Promise<TypingCapture> {
  await ensureLinuxGuest(); // a first build is not counted against the deadlines below
  const timeoutMs = options.timeoutMs ?? 40_000;
  const serialLog = `${out}/serial.log`;
  const cap = captureInProcess([
    ...["--guest", options.guest ?? "linux", "--client", "spicy", "-o", out],
    ...["--duration", String(CAPTURE_LIMIT_S), ...(options.captureArgs ?? [])],
  ]);
  try {
    const qemuPort = await fromStderr(cap, { pattern: QEMU_LINE, what: "QEMU's port" });
    const startMs = performance.now();
    await waitForSerial(serialLog, { text: LINUX_GUEST_READY, timeoutMs });
    const bootMs = performance.now() - startMs;
    const clientPid = await fromStderr(cap, { pattern: CLIENT_LINE, what: "the client's pid" });
    const display: XDisplay = Deno.env.get("DISPLAY")
      ? { display: Deno.env.get("DISPLAY")!, xauthority: Deno.env.get("XAUTHORITY") }
      : await waitForXvfbDisplay(clientPid);
    for (const line of options.lines) {
      await typeLine(display, line.type);
      if (line.serial !== undefined) {
        await waitForSerial(serialLog, { text: line.serial, timeoutMs });
      }
    }
    await options.afterLines?.(cap);
    if (options.screenshot !== undefined) {
      // --duration keeps the capture (and QEMU) running after spicy is gone.
      await stopXClient(clientPid);
      const shot = await runClient("spicy-screenshot", {
        host: "127.0.0.1",
        port: qemuPort,
        outFile: options.screenshot,
        durationMs: 20_000,
      });
      const status = await shot.exited;
      if (!status.success) throw new Error(`spicy-screenshot failed: ${shot.stderrText()}`);
    }
    cap.interrupt();
    return { exitCode: await cap.done, stderr: cap.io.stderr(), serialLog, bootMs };
  } finally {
    cap.interrupt();
    await cap.done.catch(() => {});
  }
}
