/**
 * TLS for the recording proxy (harness/capture/proxy.ts): completing a handshake within a
 * deadline, and the one probe of the server's TLS port a capture makes before any client.
 *
 * @module
 */

/** A host and port. */
interface HostPort {
  hostname: string;
  port: number;
}

/** Time allowed for a TLS handshake when none is given: 10 s. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Options of {@link probeTls}. */
export interface ProbeTlsOptions {
  /** CA certificates (PEM) in addition to the default roots. */
  caCerts?: string[];
  /** Deadline for connecting and the handshake. @default 10000 */
  timeoutMs?: number;
}

/** Closes a connection or listener, ignoring that it is closed already. */
export function closeQuietly(c: Deno.Conn | Deno.TlsConn | undefined): void {
  try {
    c?.close();
  } catch {
    // already closed
  }
}

/** A TLS handshake failed or timed out; the message says with whom and why. */
export class TlsHandshakeError extends Error {
  override name = "TlsHandshakeError";
}

/**
 * Completes `conn`'s TLS handshake (Deno runs it lazily otherwise), closing `conn` on failure.
 *
 * @param conn a client or server TLS connection
 * @param peer who the peer is, for the error (e.g. `server 127.0.0.1:5931`), and the deadline
 * @throws {TlsHandshakeError} `TLS handshake with <who> failed: <reason>`
 */
export async function completeHandshake(
  conn: Deno.TlsConn,
  peer: { who: string; timeoutMs: number },
): Promise<void> {
  const { who, timeoutMs } = peer;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no handshake within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    await Promise.race([conn.handshake(), timeout]);
  } catch (e) {
    closeQuietly(conn);
    const why = e instanceof Error ? e.message : String(e);
    throw new TlsHandshakeError(`TLS handshake with ${who} failed: ${why}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens a TLS connection to `target` and completes the handshake, so a wrong CA or a server
 * that does not speak TLS shows up before any client connects. The connection is then closed.
 *
 * @param target the server's TLS port
 * @param options the CA certificates to trust and the handshake deadline
 * @throws {TlsHandshakeError} when the port does not accept or the handshake fails
 */
export async function probeTls(target: HostPort, options: ProbeTlsOptions = {}): Promise<void> {
  const { caCerts, timeoutMs = DEFAULT_HANDSHAKE_TIMEOUT_MS } = options;
  const who = `server ${target.hostname}:${target.port}`;
  let conn: Deno.TlsConn;
  try {
    conn = await Deno.connectTls({ hostname: target.hostname, port: target.port, caCerts });
  } catch (e) {
    throw new TlsHandshakeError(`cannot reach ${who}: ${(e as Error).message}`);
  }
  await completeHandshake(conn, { who, timeoutMs });
  closeQuietly(conn);
}
