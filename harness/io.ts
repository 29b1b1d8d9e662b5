/** Where a command writes: stdout is data, stderr is everything else. */
export interface Io {
  /** Data output (packet lines, NDJSON). Resolves once written; rejects on a closed pipe. */
  out(text: string | Uint8Array): Promise<void>;
  /** Diagnostics, warnings, progress. */
  err(text: string): Promise<void>;
  /** Aborted on SIGINT/SIGTERM; long-running commands stop cleanly when it fires. */
  signal: AbortSignal;
}

/** A command: takes its arguments (after the subcommand name), returns the exit status. */
export type Command = (args: string[], io: Io) => Promise<number>;

const encoder = new TextEncoder();

/**
 * The process's real stdout/stderr.
 *
 * @param signal aborted when the user interrupts
 */
export function processIo(signal: AbortSignal): Io {
  return {
    out: async (text) => {
      const bytes = typeof text === "string" ? encoder.encode(text) : text;
      let off = 0;
      while (off < bytes.length) off += await Deno.stdout.write(bytes.subarray(off));
    },
    err: async (text) => {
      const bytes = encoder.encode(text);
      let off = 0;
      while (off < bytes.length) off += await Deno.stderr.write(bytes.subarray(off));
    },
    signal,
  };
}

/** An Io that collects output in memory, for tests. */
export function memoryIo(signal: AbortSignal = new AbortController().signal): Io & {
  stdout: () => string;
  stderr: () => string;
} {
  const out: string[] = [];
  const err: string[] = [];
  const decoder = new TextDecoder();
  return {
    out: (text) => {
      out.push(typeof text === "string" ? text : decoder.decode(text));
      return Promise.resolve();
    },
    err: (text) => {
      err.push(text);
      return Promise.resolve();
    },
    signal,
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}
