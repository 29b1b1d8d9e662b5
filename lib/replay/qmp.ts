/**
 * QMP (the QEMU Machine Protocol) framing, pure: commands as the bytes to write, and the
 * server's byte stream cut into JSON messages. QEMU sends one JSON object per line (`\r\n`);
 * the first is the greeting (`{"QMP": …}`), then each command gets a `return` or an `error`
 * carrying the command's `id`, and events (`{"event": …}`) may come in between. The socket
 * work is harness/replay/qmp_client.ts's.
 *
 * @module
 */

/** A message QEMU sent, by kind. */
export type QmpMessage =
  | { kind: "greeting"; version: string }
  | { kind: "return"; id?: string; value: unknown }
  | { kind: "error"; id?: string; errorClass: string; description: string }
  | { kind: "event"; event: string; data: unknown };

/** A line that is not a QMP message. */
export class QmpProtocolError extends Error {
  override name = "QmpProtocolError";
}

/**
 * A command as the bytes to write: one JSON object and a line end.
 *
 * @param execute the command's name ("qmp_capabilities", "screendump", "cont")
 * @param options its `arguments` and the `id` its answer will carry
 */
export function encodeQmpCommand(
  execute: string,
  options: { args?: Record<string, unknown>; id?: string } = {},
): Uint8Array {
  const command: Record<string, unknown> = { execute };
  if (options.args !== undefined) command.arguments = options.args;
  if (options.id !== undefined) command.id = options.id;
  return new TextEncoder().encode(JSON.stringify(command) + "\r\n");
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function versionOf(qmp: Record<string, unknown>): string {
  const q = isObject(qmp.version) ? qmp.version.qemu : undefined;
  if (!isObject(q)) return "unknown";
  return [q.major, q.minor, q.micro].map((n) => (typeof n === "number" ? n : "?")).join(".");
}

/**
 * Reads one line QEMU sent.
 *
 * @param line the JSON text, line end removed
 * @throws {QmpProtocolError} for anything but a greeting, a return, an error or an event
 */
export function parseQmpMessage(line: string): QmpMessage {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new QmpProtocolError(`QMP sent a line that is not JSON: ${line.slice(0, 80)}`);
  }
  if (!isObject(v)) throw new QmpProtocolError(`QMP sent a non-object: ${line.slice(0, 80)}`);
  const id = typeof v.id === "string" ? v.id : undefined;
  if (isObject(v.QMP)) return { kind: "greeting", version: versionOf(v.QMP) };
  if ("return" in v) return { kind: "return", id, value: v.return };
  if (isObject(v.error)) {
    return {
      kind: "error",
      id,
      errorClass: String(v.error.class ?? "GenericError"),
      description: String(v.error.desc ?? ""),
    };
  }
  if (typeof v.event === "string") return { kind: "event", event: v.event, data: v.data };
  throw new QmpProtocolError(`QMP sent an unknown message: ${line.slice(0, 80)}`);
}

/** Cuts QEMU's byte stream into messages, whatever the chunks it arrives in. */
export class QmpLineReader {
  readonly #decoder = new TextDecoder();
  #pending = "";

  /**
   * Takes the next bytes read.
   *
   * @param chunk bytes as they came
   * @returns the messages completed by them, in order (blank lines skipped)
   * @throws {QmpProtocolError} for a line that is not a QMP message
   */
  push(chunk: Uint8Array): QmpMessage[] {
    this.#pending += this.#decoder.decode(chunk, { stream: true });
    const lines = this.#pending.split("\n");
    this.#pending = lines.pop()!;
    return lines.map((l) => l.trim()).filter((l) => l !== "").map(parseQmpMessage);
  }

  /** Characters of an incomplete line kept for the next chunk. */
  get pendingChars(): number {
    return this.#pending.length;
  }
}

/**
 * The options that give QEMU a QMP server on a unix socket, listening at once (`wait=off`).
 * Replay adds them to the vetted command line for itself (the pre-link gate); the recorded
 * line may not have a monitor (lib/replay/qemu_rules.ts).
 *
 * @param path the socket's path (commas escaped here)
 */
export function qmpSocketArgs(path: string): string[] {
  return ["-qmp", `unix:${path.replaceAll(",", ",,")},server=on,wait=off`];
}

/**
 * A command line without the options {@link qmpSocketArgs} added.
 *
 * @param line a command line
 * @param path the socket's path given to {@link qmpSocketArgs}
 */
export function withoutQmpSocket(line: readonly string[], path: string): string[] {
  const [flag, value] = qmpSocketArgs(path);
  const at = line.findIndex((a, i) => a === flag && line[i + 1] === value);
  return at < 0 ? [...line] : [...line.slice(0, at), ...line.slice(at + 2)];
}
