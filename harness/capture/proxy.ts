/**
 * A recording SPICE proxy: clients connect to it, it connects to the real server, forwards the
 * bytes unchanged both ways and, when given a {@link Recording}, records every SPICE unit as
 * one packet of its channel's capture file.
 *
 * Forwarding comes first: a chunk is written to the other side, then copied into the recording
 * worker's shared ring (harness/capture/recording.ts) — no framing or file work on the relay thread, and
 * capture never throws into the relay. When the worker falls behind by more than the ring
 * holds, that connection stops being recorded (counted as dropped) and the relay goes on at full
 * speed; with the recording's `recordAll`, the relay waits for room instead, for as long as the
 * worker keeps taking records.
 *
 * With `tls`, a second listener terminates the client's TLS (the proxy's own certificate) and
 * each of its connections is relayed over a new TLS connection to the server's TLS port, so the
 * recorder sees plaintext. The plain listener stays and goes to the server's plain port: SPICE
 * picks plain or TLS per channel, and a client refused with NEED_SECURED on the plain port comes
 * back on the TLS port as a new connection. Both handshakes complete before any byte is relayed;
 * a failure is logged, counted in {@link ProxyStats.tlsFailures} and ends that connection only.
 */
import type { Direction } from "../../lib/net/types.ts";
import type { Recording, RecordingConnection } from "./recording.ts";
import { closeQuietly, completeHandshake, DEFAULT_HANDSHAKE_TIMEOUT_MS } from "./proxy_tls.ts";

export {
  completeHandshake,
  probeTls,
  type ProbeTlsOptions,
  TlsHandshakeError,
} from "./proxy_tls.ts";

/** A host and port. */
export interface HostPort {
  hostname: string;
  port: number;
}

/** TLS on either side of the proxy. */
export interface ProxyTlsOptions {
  /** Certificate chain (PEM) the proxy presents to clients on its TLS listener. */
  cert: string;
  /** Private key (PEM) for `cert`. */
  key: string;
  /** Where the TLS listener listens. @default 127.0.0.1, a free port */
  listen?: Partial<HostPort>;
  /** The server's TLS port: connections accepted on the TLS listener go there over TLS. */
  target: HostPort;
  /**
   * CA certificates (PEM) that sign the server's certificate, in addition to the default roots.
   * The server certificate must also name `target.hostname` (a DNS or IP subjectAltName).
   */
  caCerts?: string[];
  /** Time allowed for each TLS handshake (client side and server side). @default 10000 */
  handshakeTimeoutMs?: number;
}

/** How {@link SpiceProxy.start} runs. */
export interface ProxyOptions {
  /** The SPICE server (plain port). */
  target: HostPort;
  /** Where clients connect. @default 127.0.0.1, a free port */
  listen?: Partial<HostPort>;
  /**
   * Records through this recording (its worker frames and writes); absent → a plain relay
   * with no per-chunk work. Recorder options (ticket, redaction, comments) are the recording's.
   */
  recording?: Recording;
  /** A second, TLS-terminating listener. */
  tls?: ProxyTlsOptions;
  /** Bytes read from a socket at once. @default 1048576 */
  readBufferBytes?: number;
  /** Called when the first client connection is accepted, with the time (performance.now ms). */
  onFirstConnection?: (atMs: number) => void;
  /** Diagnostics. */
  log?: (level: "info" | "warn", message: string) => void;
}

/** Counters of a proxy. */
export interface ProxyStats {
  /** Client connections accepted. */
  connections: number;
  /** Connections currently relayed. */
  active: number;
  /** Connections where the server could not be reached. */
  refused: number;
  /** TLS handshakes that failed (with a client on the TLS listener, or with the server). */
  tlsFailures: number;
  bytesToServer: number;
  bytesToClient: number;
  /** Recording problems (framing errors, …) reported by the recording so far; forwarding went on. */
  captureErrors: number;
  /** Connections that stopped being recorded because the recorder fell behind. */
  lossyConnections: number;
  /**
   * Milliseconds the relay held a read back until the recorder had room (`--record-all`), all
   * connections summed: how much recording slowed the session.
   */
  relayHeldMs: number;
}

/** Counters of a proxy that has done nothing yet. */
export function zeroProxyStats(): ProxyStats {
  return {
    connections: 0,
    active: 0,
    refused: 0,
    tlsFailures: 0,
    bytesToServer: 0,
    bytesToClient: 0,
    captureErrors: 0,
    lossyConnections: 0,
    relayHeldMs: 0,
  };
}

type Conn = Deno.Conn | Deno.TlsConn;

/** One direction of a relayed connection, for `#pump`. */
interface Pump {
  /** The peer the chunks go to. */
  to: Conn;
  /** Whether `from` is the client's socket. */
  fromClient: boolean;
  /** The connection's recording; absent for a plain relay. */
  recorder: RecordingConnection | undefined;
  /** Ends both directions; `resetBy` is the direction of an RST. */
  fail: (resetBy?: Direction) => void;
}

interface Relay {
  client: Conn;
  server?: Conn;
  done: Promise<void>;
}

/**
 * Bytes one socket read may return. A bulk stream then costs the relay a few reads and writes
 * per MiB, and the recording few SPICE messages split across reads: 1 MiB instead of 128 KiB
 * took the plain relay from about 1.2 to 2 GB/s, and the recording proxy from about 0.85 to
 * 1.3 GB/s (`deno task bench --only proxy`). Two per connection.
 */
export const DEFAULT_READ_BUFFER = 1024 * 1024;

/**
 * The direction of the RST when `e` says a socket was reset, else undefined.
 *
 * @param e what a read or write threw
 * @param clientSocket whether it was the client's socket
 */
function resetDirection(e: unknown, clientSocket: boolean): Direction | undefined {
  const reset = e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe;
  if (!reset) return undefined;
  return clientSocket ? "toServer" : "toClient";
}

const NO_BYTES = new Uint8Array(0);

/**
 * Tells a reset from an orderly end after a read returned EOF (Deno reports a reset as EOF):
 * an empty write fails on a reset socket and does nothing on one the peer only half-closed.
 *
 * @returns the direction of the RST, or undefined for a FIN
 */
async function resetOnEof(conn: Conn, clientSocket: boolean): Promise<Direction | undefined> {
  try {
    await conn.write(NO_BYTES);
    return undefined;
  } catch (e) {
    return resetDirection(e, clientSocket);
  }
}

/**
 * The proxy. Start it with {@link SpiceProxy.start}; stop with {@link SpiceProxy.close}.
 *
 * @example
 * ```ts
 * const recording = await Recording.start({ dir: "captures/x" });
 * const proxy = SpiceProxy.start({ target: { hostname: "127.0.0.1", port: 5930 }, recording });
 * // spicy -h 127.0.0.1 -p ${proxy.port}
 * await proxy.close();
 * await recording.close();
 * ```
 */
export class SpiceProxy {
  readonly #o: ProxyOptions;
  readonly #listeners: Deno.Listener[] = [];
  readonly #relays = new Set<Relay>();
  readonly #accepting: Promise<void>[] = [];
  readonly #stats: ProxyStats = zeroProxyStats();
  #closing?: Promise<void>;
  /** Plain listener address. */
  readonly hostname: string;
  readonly port: number;
  /** TLS listener port, when `tls` was given. */
  readonly tlsPort?: number;

  private constructor(options: ProxyOptions) {
    this.#o = options;
    const plain = Deno.listen({
      hostname: options.listen?.hostname ?? "127.0.0.1",
      port: options.listen?.port ?? 0,
    });
    this.#listeners.push(plain);
    const addr = plain.addr as Deno.NetAddr;
    this.hostname = addr.hostname;
    this.port = addr.port;
    this.#accepting.push(this.#accept(plain, false));
    if (options.tls) {
      let secure: Deno.TlsListener;
      try {
        secure = Deno.listenTls({
          hostname: options.tls.listen?.hostname ?? "127.0.0.1",
          port: options.tls.listen?.port ?? 0,
          cert: options.tls.cert,
          key: options.tls.key,
        });
      } catch (e) {
        plain.close();
        throw e;
      }
      this.#listeners.push(secure);
      this.tlsPort = (secure.addr as Deno.NetAddr).port;
      this.#accepting.push(this.#accept(secure, true));
    }
  }

  /**
   * Listens and starts relaying.
   *
   * @param options target, listen address, recording, TLS
   * @returns the running proxy
   * @throws {Deno.errors.AddrInUse} when the listen port is taken
   */
  static start(options: ProxyOptions): SpiceProxy {
    return new SpiceProxy(options);
  }

  /** A snapshot of the counters. */
  stats(): ProxyStats {
    const recording = this.#o.recording;
    return {
      ...this.#stats,
      captureErrors: recording?.errors ?? 0,
      relayHeldMs: Math.round(recording?.waitedMs ?? 0),
    };
  }

  /** Stops accepting, closes every relayed connection and waits for the relays to end. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const l of this.#listeners) closeQuietly(l as unknown as Conn);
      for (const r of this.#relays) {
        closeQuietly(r.client);
        closeQuietly(r.server);
      }
      await Promise.all(this.#accepting);
      await Promise.all([...this.#relays].map((r) => r.done));
    })();
    return this.#closing;
  }

  async #accept(listener: Deno.Listener, secure: boolean): Promise<void> {
    while (!this.#closing) {
      let client: Conn;
      try {
        client = await listener.accept();
      } catch (e) {
        if (this.#closing || e instanceof Deno.errors.BadResource) return;
        this.#o.log?.("warn", `accept failed: ${(e as Error).message}`);
        continue;
      }
      if (this.#closing) {
        closeQuietly(client);
        return;
      }
      if (this.#stats.connections++ === 0) this.#o.onFirstConnection?.(performance.now());
      const relay: Relay = { client, done: Promise.resolve() };
      this.#relays.add(relay);
      this.#stats.active++;
      relay.done = this.#relay(relay, secure).finally(() => {
        this.#relays.delete(relay);
        this.#stats.active--;
      });
    }
  }

  /** TCP-connects to the server's plain or TLS port (the TLS handshake comes later). */
  async #connectServer(secure: boolean): Promise<Conn> {
    const tls = this.#o.tls;
    if (secure && tls) {
      return await Deno.connectTls({
        hostname: tls.target.hostname,
        port: tls.target.port,
        caCerts: tls.caCerts,
      });
    }
    return await Deno.connect({ hostname: this.#o.target.hostname, port: this.#o.target.port });
  }

  /** Counts and reports a failed handshake, unless the proxy is closing (then it is expected). */
  #tlsFailed(e: unknown, client: Conn): void {
    closeQuietly(client);
    if (this.#closing) return;
    this.#stats.tlsFailures++;
    const why = e instanceof Error ? e.message : String(e);
    this.#o.log?.("warn", `${why}; connection not relayed`);
  }

  async #relay(relay: Relay, secure: boolean): Promise<void> {
    const { client } = relay;
    const tls = secure ? this.#o.tls : undefined;
    const handshakeMs = tls?.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    if (tls) {
      // Terminate the client's TLS first: a client that rejects our certificate never
      // reaches the server.
      const from = client.remoteAddr as Deno.NetAddr;
      try {
        await completeHandshake(client as Deno.TlsConn, {
          who: `client ${from.hostname}:${from.port}`,
          timeoutMs: handshakeMs,
        });
      } catch (e) {
        return this.#tlsFailed(e, client);
      }
    }
    let server: Conn;
    try {
      server = await this.#connectServer(secure);
    } catch (e) {
      this.#stats.refused++;
      const t = tls ? tls.target : this.#o.target;
      this.#o.log?.("warn", `cannot reach ${t.hostname}:${t.port}: ${(e as Error).message}`);
      closeQuietly(client);
      return;
    }
    relay.server = server;
    if (tls) {
      try {
        await completeHandshake(server as Deno.TlsConn, {
          who: `server ${tls.target.hostname}:${tls.target.port}`,
          timeoutMs: handshakeMs,
        });
      } catch (e) {
        return this.#tlsFailed(e, client);
      }
    }
    if (this.#closing) {
      closeQuietly(client);
      closeQuietly(server);
      return;
    }
    for (const c of [client, server]) {
      try {
        (c as Deno.TcpConn).setNoDelay?.(true);
      } catch {
        // TLS connections may not expose it
      }
    }
    const recorder = this.#o.recording?.openConnection();
    let resetBy: Direction | undefined;
    const fail = (reset?: Direction) => {
      resetBy ??= reset;
      closeQuietly(client);
      closeQuietly(server);
    };
    await Promise.all([
      this.#pump(client, { to: server, fromClient: true, recorder, fail }),
      this.#pump(server, { to: client, fromClient: false, recorder, fail }),
    ]);
    closeQuietly(client);
    closeQuietly(server);
    if (recorder) {
      if (recorder.lossy) this.#stats.lossyConnections++;
      recorder.close({ resetBy });
    }
  }

  /**
   * Copies one direction until EOF (then half-closes the other side) or an error (then closes
   * both). The chunk goes to the peer first, then is copied into the recording's ring (one
   * memcpy; the read buffer is reused). A socket reset is passed to `fail` as the direction of
   * its RST, so the recording ends the flow the same way.
   */
  async #pump(from: Conn, pump: Pump): Promise<void> {
    const { to, fromClient, recorder, fail } = pump;
    const bufferBytes = this.#o.readBufferBytes ?? DEFAULT_READ_BUFFER;
    const buf = this.#o.recording?.readBuffer(bufferBytes) ?? new Uint8Array(bufferBytes);
    const stats = this.#stats;
    while (true) {
      let n: number | null;
      try {
        n = await from.read(buf);
      } catch (e) {
        fail(resetDirection(e, fromClient)); // reset, or closed by close(): end both directions
        return;
      }
      if (n === null) {
        const reset = await resetOnEof(from, fromClient);
        if (reset === undefined) break;
        fail(reset);
        return;
      }
      const chunk = buf.subarray(0, n);
      let written = 0;
      try {
        while (written < n) written += await to.write(chunk.subarray(written));
      } catch (e) {
        // What reached the peer is recorded too.
        if (written > 0) recorder?.push(fromClient, chunk.subarray(0, written));
        fail(resetDirection(e, !fromClient));
        return;
      }
      if (fromClient) stats.bytesToServer += n;
      else stats.bytesToClient += n;
      if (recorder) {
        // With `recordAll`, a full backlog holds the relay (the buffer is reused next read).
        const recorded = recorder.pushOrWait(fromClient, chunk);
        if (recorded instanceof Promise) await recorded;
      }
    }
    try {
      await to.closeWrite();
    } catch {
      fail(); // the peer is gone already
    }
  }
}
