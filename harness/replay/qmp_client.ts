/**
 * A QMP client over QEMU's unix socket ({@link QmpClient}): the greeting and capability
 * negotiation, then one command at a time. The framing is lib/replay/qmp.ts's.
 *
 * @module
 */
import { encodeQmpCommand, QmpLineReader, type QmpMessage } from "../../lib/replay/qmp.ts";
import { EnvironmentError } from "../errors.ts";

/** How long the socket may take to appear and answer its greeting. @default 10000 */
const DEFAULT_CONNECT_MS = 10_000;
const CONNECT_RETRY_MS = 20;

/** A QMP command QEMU refused. */
export class QmpCommandError extends Error {
  override name = "QmpCommandError";
}

/** A connected, negotiated QMP monitor. */
export class QmpClient {
  readonly #conn: Deno.UnixConn;
  readonly #reader = new QmpLineReader();
  readonly #queue: QmpMessage[] = [];
  readonly #buf = new Uint8Array(64 * 1024);
  #nextId = 1;
  #closed = false;

  private constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
  }

  /**
   * Connects to QEMU's QMP socket (retrying until it exists) and leaves negotiation mode.
   *
   * @param path the socket's path
   * @param options how long to try, and a check that QEMU still runs
   * @throws {EnvironmentError} when no greeting came in time
   */
  static async connect(
    path: string,
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<QmpClient> {
    const deadline = performance.now() + (options.timeoutMs ?? DEFAULT_CONNECT_MS);
    for (;;) {
      try {
        const client = new QmpClient(await Deno.connect({ transport: "unix", path }));
        try {
          const greeting = await client.#next();
          if (greeting.kind !== "greeting") throw new EnvironmentError("QMP sent no greeting");
          await client.execute("qmp_capabilities");
          return client;
        } catch (e) {
          client.close();
          throw e;
        }
      } catch (e) {
        const retry = e instanceof Deno.errors.NotFound ||
          e instanceof Deno.errors.ConnectionRefused;
        if (!retry || performance.now() > deadline || options.signal?.aborted) {
          throw new EnvironmentError(
            `cannot use QEMU's QMP socket ${path}: ${(e as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, CONNECT_RETRY_MS));
      }
    }
  }

  /**
   * Runs one command and waits for its answer (events before it are skipped).
   *
   * @param command the command's name
   * @param args its arguments
   * @returns the `return` value
   * @throws {QmpCommandError} when QEMU answered with an error
   */
  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const id = `spicecap-${this.#nextId++}`;
    await writeAll(this.#conn, encodeQmpCommand(command, { args, id }));
    for (;;) {
      const m = await this.#next();
      if (m.kind === "return" && m.id === id) return m.value;
      if (m.kind === "error" && m.id === id) {
        throw new QmpCommandError(`QMP ${command}: ${m.errorClass}: ${m.description}`);
      }
    }
  }

  /** Closes the connection (QEMU keeps running). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed by QEMU
    }
  }

  async #next(): Promise<QmpMessage> {
    while (this.#queue.length === 0) {
      const n = await this.#conn.read(this.#buf);
      if (n === null) throw new EnvironmentError("QEMU closed its QMP socket");
      this.#queue.push(...this.#reader.push(this.#buf.subarray(0, n)));
    }
    return this.#queue.shift()!;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}
