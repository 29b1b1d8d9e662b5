/**
 * Helpers for the capture end-to-end tests: running `capture` in-process or as a child process,
 * polling with deadlines, and reading captures back with tshark and with our own reader.
 */
import { readCaptureFile } from "../lib/pcap/reader.ts";
import { readSpiceMessages } from "../lib/session/messages.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";
import { run } from "../harness/commands/capture.ts";
import { type Io, memoryIo } from "../harness/io.ts";
import { runTshark } from "./tshark.ts";

const CLI = new URL("../harness/cli.ts", import.meta.url).pathname;
const URL_PATTERN = /spice:\/\/([\d.]+):(\d+)/;

/**
 * Polls `check` until it returns a value other than undefined.
 *
 * @param what names what never happened, for the error
 * @throws {Error} `timed out after N ms waiting for <what>`
 */
export async function pollUntil<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  while (true) {
    const v = await check();
    if (v !== undefined) return v;
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `capture` running in this process. */
export interface InProcessCapture {
  io: Io & { stdout(): string; stderr(): string };
  /** Aborts like Ctrl-C. */
  interrupt(): void;
  /** The exit status. */
  done: Promise<number>;
  /** Resolves with the proxy port once the capture has printed its URL. */
  port(timeoutMs?: number): Promise<number>;
}

/**
 * Starts `capture` with `args` in this process (memory Io).
 *
 * @param args capture arguments
 */
export function captureInProcess(args: string[]): InProcessCapture {
  const controller = new AbortController();
  const io = memoryIo(controller.signal);
  const done = run(args, io);
  return {
    io,
    interrupt: () => controller.abort(),
    done,
    port: (timeoutMs = 15_000) =>
      pollUntil(
        () => {
          const m = URL_PATTERN.exec(io.stderr());
          return m ? Number(m[2]) : undefined;
        },
        timeoutMs,
        `the capture URL on stderr (stderr so far: ${io.stderr()})`,
      ),
  };
}

/** `capture` as a child process (`deno run -A harness/cli.ts capture …`). */
export interface ChildCapture {
  child: Deno.ChildProcess;
  /** stderr so far. */
  stderr(): string;
  /** Proxy port, once printed. */
  port: Promise<number>;
  /** QEMU pid, once printed (own QEMU only). */
  qemuPid(): number | undefined;
  /** Exit status, with stderr drained. */
  status: Promise<Deno.CommandStatus>;
}

/**
 * Spawns `capture` as a child process.
 *
 * @param args capture arguments
 */
export function captureChild(args: string[]): ChildCapture {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "capture", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const drained = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) text += decoder.decode(chunk, { stream: true });
  })();
  void child.stdout.cancel();
  const status = child.status.then(async (s) => {
    await drained;
    return s;
  });
  let exited = false;
  void status.then(() => exited = true);
  const port = pollUntil(
    () => {
      const m = URL_PATTERN.exec(text);
      if (m) return Number(m[2]);
      if (exited) throw new Error(`capture exited before printing its URL: ${text}`);
      return undefined;
    },
    20_000,
    "the capture URL on stderr",
  );
  return {
    child,
    stderr: () => text,
    port,
    qemuPid: () => {
      const m = /QEMU pid (\d+)/.exec(text);
      return m ? Number(m[1]) : undefined;
    },
    status,
  };
}

/**
 * Runs tshark (no flags beyond these) and returns stdout lines.
 *
 * @param args tshark arguments
 */
export async function tshark(args: string[]): Promise<string[]> {
  return (await runTshark(args)).stdout.split("\n").filter((l) => l.length > 0);
}

/**
 * Every SPICE unit in a capture file, read back by our reader (pcap → TCP → framer).
 *
 * @param path capture file
 * @returns units in capture order, and the reader's problems
 */
export async function unitsOf(path: string): Promise<{ units: SpiceUnit[]; problems: string[] }> {
  const units: SpiceUnit[] = [];
  const problems: string[] = [];
  const events = readSpiceMessages(readCaptureFile(path), {
    file: path,
    onProblem: (p) => problems.push(`${p.kind}: ${p.message}`),
  });
  for await (const ev of events) units.push(ev.unit);
  return { units, problems };
}

/** Channel file names present in a session directory. */
export async function captureFiles(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (/\.pcap(ng)?$/.test(e.name)) names.push(e.name);
  }
  return names.sort();
}

/** The units a channel file must hold before {@link untilRecorded} counts it as recorded. */
export interface WantedUnits {
  /** Which units count. @default any unit */
  has?: (u: SpiceUnit) => boolean;
  /** How many of them. @default 1 */
  count?: number;
}

/** What {@link untilRecorded} waits for. */
export interface UntilRecordedOptions {
  /** Per channel file name, the units it must hold. */
  files: Record<string, WantedUnits>;
  /** Deadline, ms. @default 20000 */
  timeoutMs?: number;
}

/**
 * Polls a running capture's session directory until every named channel file exists and holds
 * the units a test asserts on (read back by {@link unitsOf}; a file caught mid-write counts as
 * not yet recorded), so the test can stop the capture instead of waiting a fixed time.
 *
 * @param dir session directory
 * @param options the files and their units, the deadline
 * @throws {Error} naming the files still missing their units at the deadline
 */
export async function untilRecorded(dir: string, options: UntilRecordedOptions): Promise<void> {
  const entries = Object.entries(options.files);
  let missing: string[] = [];
  const recorded = async (file: string, want: WantedUnits) => {
    try {
      const { units } = await unitsOf(`${dir}/${file}`);
      return units.filter(want.has ?? (() => true)).length >= (want.count ?? 1);
    } catch {
      return false; // not created yet, or a record cut by a write in progress
    }
  };
  try {
    await pollUntil(
      async () => {
        missing = [];
        for (const [file, want] of entries) if (!await recorded(file, want)) missing.push(file);
        return missing.length === 0 ? true : undefined;
      },
      options.timeoutMs ?? 20_000,
      `${entries.map(([f]) => f).join(", ")} to be recorded`,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message} (still missing: ${missing.join(", ")})`);
  }
}
