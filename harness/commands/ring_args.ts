/**
 * `capture --ring SIZE` and `--snapshot-on EVENT[,EVENT…]`: the flight recorder's flags
 * (harness/capture/ring_mode.ts).
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { RingModeOptions } from "../capture/worker_protocol.ts";
import type { Recording } from "../capture/recording.ts";
import {
  CHANNEL_MESSAGES,
  COMMON_CLIENT_MESSAGES,
  COMMON_SERVER_MESSAGES,
} from "../../lib/spice/tables.ts";

/** `--help` lines of the flags. */
export const RING_HELP = `Flight recorder:
  --ring <SIZE>              write nothing while the session runs; keep its last SIZE bytes
                             (e.g. 64MiB, 512KiB) of whole SPICE messages in memory, shared
                             fairly between channels, plus every connection's link phase and
                             its latest state (surfaces, main INIT); snapshots go to
                             <out>/snapshots/<UTC time>-<reason>/, one session directory each
                             (kill -USR1 takes one at any time)
  --snapshot-on <EVENT>      also take a snapshot on EVENT (repeatable, or a comma list):
                             disconnect (a connection closes or resets before the end),
                             link-error (a link refused), notify-error (a NOTIFY of error
                             severity), message=NAME (a message of that type, e.g.
                             message=DRAW_COPY), exit (when the capture ends)`;

const UNITS: Readonly<Record<string, number>> = Object.freeze({
  "": 1,
  b: 1,
  kib: 1 << 10,
  k: 1 << 10,
  mib: 1 << 20,
  m: 1 << 20,
  gib: 1 << 30,
  g: 1 << 30,
});

/**
 * A size like `64MiB`, `512KiB`, `1GiB` or a number of bytes.
 *
 * @param text the flag's value
 * @returns bytes
 * @throws {UsageError} when it is not a size from 64 KiB to 64 GiB
 */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? UNITS[m[2].toLowerCase()] : undefined;
  const bytes = m && unit ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!(bytes >= 64 << 10 && bytes <= 64 * 2 ** 30)) {
    throw new UsageError(
      `--ring: expected a size from 64KiB to 64GiB such as 64MiB, got '${text}'`,
    );
  }
  return bytes;
}

/** Whether some channel has a message of that name. */
function knownMessage(name: string): boolean {
  const tables = [COMMON_SERVER_MESSAGES, COMMON_CLIENT_MESSAGES];
  for (const [server, client] of CHANNEL_MESSAGES.values()) tables.push(server, client);
  return tables.some((t) => [...t.values()].includes(name));
}

/**
 * The flight recorder's options from the flags.
 *
 * @param flags `ring`: `--ring`'s value; `snapshotOn`: every `--snapshot-on` value
 * @returns the options, or undefined without `--ring`
 * @throws {UsageError} on a bad size or event, or `--snapshot-on` without `--ring`
 */
export function parseRingFlags(
  flags: { ring?: string; snapshotOn: readonly string[]; noRecord: boolean },
): RingModeOptions | undefined {
  const events = flags.snapshotOn.flatMap((s) => s.split(",")).map((s) => s.trim()).filter((s) =>
    s
  );
  if (flags.ring === undefined) {
    if (events.length > 0) throw new UsageError("--snapshot-on needs --ring");
    return undefined;
  }
  if (flags.noRecord) throw new UsageError("--ring cannot go with --no-record");
  const o: RingModeOptions = { bytes: parseSize(flags.ring), triggers: {}, onExit: false };
  const messages: string[] = [];
  for (const e of events) {
    if (e === "disconnect") o.triggers.disconnect = true;
    else if (e === "link-error") o.triggers.linkError = true;
    else if (e === "notify-error") o.triggers.notifyError = true;
    else if (e === "exit") o.onExit = true;
    else if (e.startsWith("message=") && knownMessage(e.slice(8))) messages.push(e.slice(8));
    else {
      throw new UsageError(
        `--snapshot-on: expected disconnect, link-error, notify-error, exit or message=NAME ` +
          `(a SPICE message name such as DRAW_COPY), got '${e}'`,
      );
    }
  }
  if (messages.length > 0) o.triggers.messages = messages;
  return o;
}

/**
 * Takes a snapshot on every SIGUSR1 while the capture runs.
 *
 * @param recording the flight-recording recording
 * @returns stops listening (idempotent)
 */
export function snapshotOnSigusr1(recording: Recording): () => void {
  const take = () => recording.snapshot("signal");
  Deno.addSignalListener("SIGUSR1", take);
  let listening = true;
  return () => {
    if (listening) Deno.removeSignalListener("SIGUSR1", take);
    listening = false;
  };
}
