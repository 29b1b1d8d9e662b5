/**
 * Typing into a real SPICE client: `spicy` runs under `xvfb-run` on an X server of its own
 * (harness/processes/clients.ts), and `xdotool` finds its window on that Xvfb, focuses it and
 * types through XTEST, so spice-gtk sends the keys to the guest as KEY_DOWN/KEY_UP scancodes.
 */
import { pollUntil } from "./capture_harness.ts";

/** An X display to talk to: `DISPLAY` and, for xvfb-run's server, its `XAUTHORITY`. */
export interface XDisplay {
  display: string;
  xauthority?: string;
}

/** How {@link typeInto} and {@link pressKeys} find the window and pace the keys. */
export interface TypingOptions {
  /** WM_CLASS of the window to type into. @default "spicy" */
  windowClass?: string;
  /** Milliseconds between keys (`xdotool type --delay`). @default 100 */
  delayMs?: number;
  /** How long to wait for the window to appear. @default 10000 */
  timeoutMs?: number;
}

const PROC_CHILDREN = (pid: number) => `/proc/${pid}/task/${pid}/children`;

function readOrEmpty(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/**
 * The display of the Xvfb that `xvfb-run` (process `xvfbRunPid`) started, read from the Xvfb
 * child's command line (`Xvfb :99 … -auth FILE`).
 *
 * @param xvfbRunPid pid of `xvfb-run` (a {@link ClientRun}'s `pid` when the client was wrapped)
 * @returns the display, or undefined while Xvfb has not started
 */
export function xvfbDisplayOf(xvfbRunPid: number): XDisplay | undefined {
  const children = readOrEmpty(PROC_CHILDREN(xvfbRunPid)).trim().split(/\s+/).filter(Boolean);
  for (const child of children) {
    const argv = readOrEmpty(`/proc/${child}/cmdline`).split("\0");
    if (!/(^|\/)Xvfb$/.test(argv[0] ?? "")) continue;
    const display = argv.find((a) => /^:\d+$/.test(a));
    if (!display) continue;
    const auth = argv.indexOf("-auth");
    return { display, xauthority: auth >= 0 ? argv[auth + 1] : undefined };
  }
  return undefined;
}

/**
 * Polls until `xvfb-run`'s Xvfb is up.
 *
 * @param xvfbRunPid pid of `xvfb-run`
 * @param timeoutMs deadline
 */
export function waitForXvfbDisplay(xvfbRunPid: number, timeoutMs = 10_000): Promise<XDisplay> {
  return pollUntil(() => xvfbDisplayOf(xvfbRunPid), timeoutMs, `Xvfb under pid ${xvfbRunPid}`);
}

/** Runs xdotool on `x`; stdout trimmed, or undefined when it failed. */
async function xdotool(x: XDisplay, args: string[]): Promise<string | undefined> {
  try {
    return await xdotoolOrThrow(x, args);
  } catch (e) {
    if (e instanceof XdotoolError) return undefined;
    throw e;
  }
}

/** Runs xdotool; its output, or an {@link XdotoolError} carrying what it printed. */
async function xdotoolOrThrow(x: XDisplay, args: string[]): Promise<string> {
  const env: Record<string, string> = { DISPLAY: x.display };
  if (x.xauthority) env.XAUTHORITY = x.xauthority;
  const out = await new Deno.Command("xdotool", {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.success) return new TextDecoder().decode(out.stdout).trim();
  throw new XdotoolError(new TextDecoder().decode(out.stderr).trim() || `exit ${out.code}`);
}

/** A failed xdotool call; the message is what xdotool printed. */
class XdotoolError extends Error {
  override name = "XdotoolError";
}

/** Finds the client's window (waiting for it to be mapped) and gives it the keyboard focus. */
async function focusClient(x: XDisplay, options: TypingOptions): Promise<string> {
  const windowClass = options.windowClass ?? "spicy";
  const id = await pollUntil(
    async () => {
      const ids = await xdotool(x, ["search", "--onlyvisible", "--class", windowClass]);
      return ids ? ids.split("\n").at(-1) : undefined;
    },
    options.timeoutMs ?? 10_000,
    `a visible ${windowClass} window on ${x.display}`,
  );
  // No window manager runs on the Xvfb: windowfocus sets the X input focus directly.
  if (await xdotool(x, ["windowfocus", id]) === undefined) {
    throw new Error(`xdotool could not focus window ${id} on ${x.display}`);
  }
  await pollUntil(
    async () => (await xdotool(x, ["getwindowfocus"])) === id || undefined,
    2_000,
    `window ${id} to take the focus`,
  );
  return id;
}

/**
 * Types `text` into the client's window, one key every `delayMs`.
 *
 * @param x the client's display ({@link waitForXvfbDisplay})
 * @param text what to type (US keyboard layout; shifted characters are typed with Shift)
 * @param options window class, pacing, deadline
 * @throws {Error} when the window never appears or xdotool fails
 */
export async function typeInto(
  x: XDisplay,
  text: string,
  options: TypingOptions = {},
): Promise<void> {
  await focusClient(x, options);
  const delay = String(options.delayMs ?? 100);
  await xdotoolOrThrow(x, ["type", "--delay", delay, "--", text]).catch((e) => {
    throw new Error(`xdotool type failed on ${x.display}: ${(e as Error).message}`);
  });
}

/**
 * Presses keys (X keysym names like `Return`, `ctrl+c`) in the client's window.
 *
 * @param x the client's display
 * @param keys keysyms, pressed in order
 * @param options window class, pacing, deadline
 */
export async function pressKeys(
  x: XDisplay,
  keys: string[],
  options: TypingOptions = {},
): Promise<void> {
  await focusClient(x, options);
  const delay = String(options.delayMs ?? 100);
  if (await xdotool(x, ["key", "--delay", delay, "--", ...keys]) === undefined) {
    throw new Error(`xdotool key ${keys.join(" ")} failed on ${x.display}`);
  }
}

/**
 * Types a shell command line into the guest through the client: `command`, then Return.
 *
 * @param x the client's display
 * @param command the line to type
 * @param options window class, pacing, deadline
 */
export async function typeLine(
  x: XDisplay,
  command: string,
  options: TypingOptions = {},
): Promise<void> {
  // xdotool now and then fails part-way on a loaded machine; what it typed is unknown, so the
  // line is cleared (Ctrl-U in the guest's shell) and typed again, at most three times.
  for (let attempt = 1;; attempt++) {
    try {
      await typeInto(x, command, options);
      break;
    } catch (e) {
      if (attempt === 3) throw e;
      console.warn(`${(e as Error).message}; clearing the line and typing it again`);
      await pressKeys(x, ["ctrl+u"], options);
    }
  }
  await pressKeys(x, ["Return"], options);
}

/** Whether process `pid` has exited (gone, or a zombie not yet reaped). */
function exitedProcess(pid: number): boolean {
  const stat = readOrEmpty(`/proc/${pid}/stat`);
  // "pid (comm) STATE …": the state letter follows the last ")"
  return stat === "" || stat.charAt(stat.lastIndexOf(")") + 2) === "Z";
}

/**
 * Ends a client started under `xvfb-run` (SIGTERM to the client program, so xvfb-run then
 * stops its Xvfb), or the process itself when it is not xvfb-run, and waits until it is gone.
 *
 * @param pid the started process (`xvfb-run`, or the client when `DISPLAY` was set)
 * @param timeoutMs deadline
 */
export async function stopXClient(pid: number, timeoutMs = 10_000): Promise<void> {
  const children = readOrEmpty(PROC_CHILDREN(pid)).trim().split(/\s+/).filter(Boolean);
  const clients = children.map(Number).filter((c) =>
    !/(^|\/)Xvfb$/.test(readOrEmpty(`/proc/${c}/cmdline`).split("\0")[0])
  );
  const isXvfbRun = readOrEmpty(`/proc/${pid}/cmdline`).includes("xvfb-run");
  for (const target of isXvfbRun && clients.length > 0 ? clients : [pid]) {
    try {
      Deno.kill(target, "SIGTERM");
    } catch {
      // already gone
    }
  }
  await pollUntil(() => exitedProcess(pid) || undefined, timeoutMs, `client pid ${pid} to exit`);
}
