/**
 * Helpers for the serve tests: `serve` running in this process, and a minimal scripted SPICE
 * client that links one channel and exchanges messages, for the cases no real client produces.
 */
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { buildLinkMessage, buildMessage, buildU32, capWords } from "../lib/spice/link.ts";
import { SpiceConnectionFramer } from "../lib/spice/framer.ts";
import { makeTicket } from "../lib/spice/ticket.ts";
import type { SpiceUnit } from "../lib/spice/types.ts";
import { pollUntil } from "./capture_harness.ts";

/** `serve` running in this process. */
export interface InProcessServe {
  io: ReturnType<typeof memoryIo>;
  /** Resolves with the port once the URL is printed. */
  port: Promise<number>;
  /** Exit status. */
  done: Promise<number>;
  /** Aborts like Ctrl-C. */
  interrupt(): void;
}

/**
 * Starts `serve SOURCE --listen 127.0.0.1:0 ARGS…` in this process.
 *
 * @param source recording to serve
 * @param args further serve arguments (at least `-o DIR`)
 */
export function serveInProcess(source: string, args: string[]): InProcessServe {
  const controller = new AbortController();
  const io = memoryIo(controller.signal);
  const done = main(["serve", source, "--listen", "127.0.0.1:0", ...args], io);
  let finished = false;
  void done.then(() => finished = true);
  const port = pollUntil(
    () => {
      const m = /spice:\/\/127\.0\.0\.1:(\d+)/.exec(io.stderr());
      if (m) return Number(m[1]);
      if (finished) throw new Error(`serve exited before listening: ${io.stderr()}`);
      return undefined;
    },
    20_000,
    "the serve URL",
  );
  return { io, port, done, interrupt: () => controller.abort() };
}

/** A scripted client connection: link, then raw messages. */
export class ScriptedClient {
  readonly framer = new SpiceConnectionFramer();
  readonly units: SpiceUnit[] = [];
  #conn: Deno.TcpConn;
  #reading: Promise<void>;
  #closed = false;

  private constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
    this.#reading = (async () => {
      try {
        for await (const chunk of conn.readable) this.units.push(...this.framer.pushServer(chunk));
      } catch {
        // closed
      }
      this.#closed = true;
    })();
  }

  /**
   * Connects and links one channel.
   *
   * @param port serve's port
   * @param link channel, connection id, password and whether to ask for the mini header
   * @returns the client, with the link result in `linkResult`
   */
  static async link(
    port: number,
    link: { channelType: number; connectionId?: number; password?: string; mini?: boolean },
  ): Promise<ScriptedClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const c = new ScriptedClient(conn);
    const common = capWords(link.mini === false ? [0, 1] : [0, 1, 3]);
    const bytes = buildLinkMessage({
      major: 2,
      minor: 2,
      connectionId: link.connectionId ?? 0,
      channelType: link.channelType,
      channelId: 0,
      commonCaps: common,
      channelCaps: [],
    });
    c.framer.pushClient(bytes);
    await c.write(bytes);
    const reply = await c.waitUnit((u) => u.kind === "linkReply");
    if (c.framer.reply!.error !== 0) return c;
    c.framer.pushClient(buildU32(1));
    await c.write(buildU32(1));
    const ticket = await makeTicket(reply.bytes.subarray(20, 182), link.password ?? "");
    c.framer.pushClient(ticket);
    await c.write(ticket);
    await c.waitUnit((u) => u.kind === "linkResult");
    return c;
  }

  /** The link result, or the reply's error when the reply refused. */
  get linkResult(): number | undefined {
    return this.framer.reply?.error || this.framer.linkResult;
  }

  /** Sends one message with this connection's header. */
  send(type: number, body = new Uint8Array(0)): Promise<void> {
    const mini = this.framer.miniHeader ?? true;
    const bytes = buildMessage(type, body, { miniHeader: mini });
    this.framer.pushClient(bytes);
    return this.write(bytes);
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Resolves with the first received unit matching `pred` (polling, 10 s). */
  waitUnit(pred: (u: SpiceUnit) => boolean): Promise<SpiceUnit> {
    return pollUntil(
      () => {
        const u = this.units.find(pred);
        if (u) return u;
        if (this.#closed) throw new Error("the connection closed before the awaited unit");
        return undefined;
      },
      10_000,
      "a unit from serve",
    );
  }

  /** Whether serve closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the connection and waits for the reader. */
  async close(): Promise<void> {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
    await this.#reading;
  }
}

/** One `diff --json` difference, as far as the serve tests read it. */
export interface DiffDifference {
  channel: string;
  direction: "toServer" | "toClient";
  kind: string;
  name?: string;
  goldenName?: string;
  index?: number;
}

/**
 * The client → server differences between a served session and the recording it served
 * (`diff --json`, the usual normalisers).
 *
 * @param actual serve's session directory
 * @param golden the recording
 * @returns the differences, and the channels the diff compared
 */
export async function clientDifferences(
  actual: string,
  golden: string,
): Promise<{ differences: DiffDifference[]; channels: string[] }> {
  const io = memoryIo();
  const code = await main(["diff", "--json", actual, golden], io);
  if (code === 2) throw new Error(`diff could not compare: ${io.stderr()}`);
  const records = io.stdout().trim().split("\n").map((l) => JSON.parse(l));
  const summary = records.find((r) => r.type === "summary");
  return {
    differences: records.filter((r) => r.type === "difference" && r.direction === "toServer"),
    channels: [...new Set<string>(summary.streams.map((s: { channel: string }) => s.channel))],
  };
}
