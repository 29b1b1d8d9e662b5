/**
 * `serve`: listen for a real SPICE client and play the recorded server side of a session to it,
 * one client session at a time, recording what the client does as a session directory.
 */
import { CaptureSession } from "../../lib/capture/session.ts";
import type { Manifest } from "../../lib/capture/manifest.ts";
import { realTimer, type Speed, type Timer } from "../../lib/replay/schedule.ts";
import { openSession, readRecordedUnits } from "../../lib/session/session_files.ts";
import { SpiceConnectionFramer } from "../../lib/spice/framer.ts";
import type { SpiceUnit } from "../../lib/spice/types.ts";
import { CHANNEL_TYPES as CHANNEL } from "../../lib/spice/tables.ts";
import { LINK_ERROR, refusalReply } from "../../lib/serve/link.ts";
import { type ServePlan, ServePlanBuilder } from "../../lib/serve/plan.ts";
import { KeyPool } from "./key_pool.ts";
import { LiveSession, outcomeFacts, type SessionOutcome } from "./live_session.ts";

/** How {@link serveRecording} runs. */
export interface ServeOptions {
  /** The plan to serve ({@link loadServePlan}). */
  plan: ServePlan;
  /** The recording's manifest, for the capture format. */
  manifest?: Manifest;
  /** Address to listen on. */
  hostname: string;
  /** Port to listen on; 0 picks a free one. */
  port: number;
  /** Password the tickets must carry; undefined accepts any ticket. */
  password?: string;
  /** @default max */
  speed?: Speed;
  /** Stop at the first divergence. */
  strict?: boolean;
  /** Serve one client session after another until interrupted. */
  loop?: boolean;
  /** Session directory of the first client session; later ones get `-2`, `-3`, … */
  outDir: string;
  /** A wait for the client longer than this ends the session as stalled. @default 10000 */
  timeoutMs?: number;
  /** After everything was sent, how long a quiet client is waited for. @default 1000 */
  idleMs?: number;
  /** After the last link, how long further links are waited for. @default 1000 */
  holdMs?: number;
  /** Called once listening, with the `spice://host:port` URL. */
  onListening?: (url: string, port: number) => void;
  /** Called when a client session ends. */
  onSession?: (s: ServedSession) => void;
  /** Warnings and progress, one line each. */
  log?: (line: string) => void;
  signal?: AbortSignal;
  timer?: Timer;
}

/** One client session served. */
export interface ServedSession {
  /** Where the client's behaviour was recorded. */
  outDir: string;
  /** How it ended. */
  outcome: SessionOutcome;
  /** The written manifest. */
  manifest: Manifest;
}

/**
 * Reads a recording into a serve plan.
 *
 * @param source session directory or single channel file
 * @throws {ServePlanError} when there is nothing to serve (no main link phase, no MAIN_INIT)
 */
export async function loadServePlan(
  source: string,
): Promise<{ plan: ServePlan; manifest?: Manifest }> {
  const listing = await openSession(source);
  const builder = new ServePlanBuilder();
  for await (const unit of readRecordedUnits(listing)) builder.add(unit);
  return { plan: builder.build(), manifest: listing.manifest };
}

type Socket = { tcp: Deno.TcpConn; reader: ReadableStreamDefaultReader<Uint8Array> };

/**
 * Listens and serves client sessions: one, or with `loop` one after another until `signal`.
 *
 * @returns the sessions served, in order
 * @throws {Deno.errors.AddrInUse} when the address is taken
 */
export async function serveRecording(o: ServeOptions): Promise<ServedSession[]> {
  const listener = Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
  const port = (listener.addr as Deno.NetAddr).port;
  o.onListening?.(
    `spice://${o.hostname.includes(":") ? `[${o.hostname}]` : o.hostname}:${port}`,
    port,
  );
  return await new ServeListener(listener, o).run();
}

type SessionEntry = { session?: LiveSession; ready: Promise<LiveSession> };

/** The accept loop: routes each connection to the current client session or refuses it. */
class ServeListener {
  readonly #listener: Deno.Listener<Deno.TcpConn>;
  readonly #o: ServeOptions;
  readonly #keys: KeyPool;
  readonly #served: ServedSession[] = [];
  readonly #finishing: Promise<void>[] = [];
  #stopped = false;
  #current?: SessionEntry;
  #sessions = 0;

  constructor(listener: Deno.Listener<Deno.TcpConn>, o: ServeOptions) {
    this.#listener = listener;
    this.#o = o;
    this.#keys = new KeyPool(o.plan.connections.length);
    o.signal?.addEventListener("abort", () => this.#stop(), { once: true });
  }

  async run(): Promise<ServedSession[]> {
    try {
      while (!this.#stopped) {
        let tcp: Deno.TcpConn;
        try {
          tcp = await this.#listener.accept();
        } catch (e) {
          if (this.#stopped || e instanceof Deno.errors.BadResource) break;
          throw e;
        }
        void this.#handle(tcp).catch((e) => {
          this.#o.log?.(`connection failed: ${(e as Error).message}`);
          closeQuietly(tcp);
        });
      }
    } finally {
      this.#stop();
      await Promise.all(this.#finishing);
    }
    return this.#served;
  }

  #stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    try {
      this.#listener.close();
    } catch {
      // closed already
    }
  }

  #startSession(): SessionEntry {
    const n = ++this.#sessions;
    const o = this.#o;
    const outDir = n === 1 ? o.outDir : `${o.outDir}-${n}`;
    const entry = {} as SessionEntry;
    entry.ready = (async () => {
      const capture = await CaptureSession.create(outDir, { format: o.manifest?.captureFormat });
      const s = entry.session = newSession(o, { capture, keys: this.#keys });
      this.#finishing.push((async () => {
        const outcome = await s.finished();
        capture.setFacts(outcomeFacts(outcome));
        const result = { outDir, outcome, manifest: await capture.close() };
        this.#served.push(result);
        o.onSession?.(result);
        if (!o.loop) this.#stop();
      })());
      return s;
    })();
    return entry;
  }

  async #handle(tcp: Deno.TcpConn): Promise<void> {
    tcp.setNoDelay(true);
    const socket = { tcp, reader: tcp.readable.getReader() };
    const framer = new SpiceConnectionFramer();
    const timeoutMs = this.#o.timeoutMs ?? 10_000;
    const units = await readLink(socket, framer, { timeoutMs }).catch((e) => {
      this.#o.log?.(`a connection closed before its link message: ${(e as Error).message}`);
      return undefined;
    });
    if (!units) return closeQuietly(tcp);
    const link = framer.link!;
    const cur = this.#current;
    const idle = !cur || (cur.session !== undefined && !cur.session.open);
    if (idle && link.channelType === CHANNEL.main && !this.#stopped) {
      this.#current = this.#startSession();
    }
    let s: LiveSession | undefined;
    try {
      s = await this.#current?.ready;
    } catch (e) {
      this.#o.log?.(`cannot start a session: ${(e as Error).message}`);
      this.#current = undefined;
    }
    const code = s?.open ? await s.link(socket, { framer, units }) : refuseWhy(link.channelType);
    if (code !== LINK_ERROR.OK) await refuse(tcp, code);
  }
}

function newSession(
  o: ServeOptions,
  own: { capture: CaptureSession; keys: KeyPool },
): LiveSession {
  return new LiveSession({
    ...own,
    plan: o.plan,
    password: o.password,
    speed: o.speed ?? { kind: "max" },
    strict: o.strict ?? false,
    timeoutMs: o.timeoutMs ?? 10_000,
    idleMs: o.idleMs ?? 1000,
    holdMs: o.holdMs ?? 1000,
    timer: o.timer ?? realTimer(),
    signal: o.signal ?? new AbortController().signal,
    log: o.log ?? (() => {}),
  });
}

function refuseWhy(channelType: number): number {
  return channelType === CHANNEL.main ? LINK_ERROR.ERROR : LINK_ERROR.BAD_CONNECTION_ID;
}

/** Reads until the framer has the client link message; returns the units framed so far. */
async function readLink(
  socket: Socket,
  framer: SpiceConnectionFramer,
  { timeoutMs }: { timeoutMs: number },
): Promise<SpiceUnit[]> {
  const units: SpiceUnit[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no link message within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    while (!framer.link) {
      const { value, done } = await Promise.race([socket.reader.read(), timeout]);
      if (done) throw new Error("the client closed the connection");
      units.push(...framer.pushClient(value));
    }
  } finally {
    clearTimeout(timer);
  }
  return units;
}

async function refuse(tcp: Deno.TcpConn, code: number): Promise<void> {
  try {
    const bytes = refusalReply(code);
    let off = 0;
    while (off < bytes.length) off += await tcp.write(bytes.subarray(off));
  } catch {
    // the client is gone
  }
  closeQuietly(tcp);
}

function closeQuietly(tcp: Deno.TcpConn): void {
  try {
    tcp.close();
  } catch {
    // closed already
  }
}
