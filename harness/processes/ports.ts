/**
 * Loopback TCP ports: picking a free one, and waiting until one accepts connections.
 *
 * @module
 */
import { EnvironmentError } from "../errors.ts";

/** Pause between two connection attempts of {@link waitForPort}. */
const POLL_MS = 20;

/**
 * A TCP port on 127.0.0.1 that was free a moment ago.
 *
 * @returns the port number
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** An address to connect to. */
export interface PortAddress {
  hostname: string;
  port: number;
}

/** How long {@link waitForPort} waits, and what stops it early. */
export interface WaitForPortOptions {
  /** Deadline, ms. */
  timeoutMs: number;
  /** Check between attempts; its error message (a string) aborts the wait. */
  stillAlive?: () => string | undefined;
}

/**
 * Polls until `hostname:port` accepts a TCP connection.
 *
 * @param address where to connect
 * @param options the deadline and the check between attempts
 * @throws {EnvironmentError} when the port never accepted within `timeoutMs`, or with the
 *   message of `stillAlive`
 */
export async function waitForPort(
  address: PortAddress,
  options: WaitForPortOptions,
): Promise<void> {
  const { hostname: host, port } = address;
  const { timeoutMs, stillAlive } = options;
  const deadline = performance.now() + timeoutMs;
  let lastError = "";
  while (true) {
    const dead = stillAlive?.();
    if (dead !== undefined) throw new EnvironmentError(dead);
    try {
      const conn = await Deno.connect({ hostname: host, port });
      conn.close();
      return;
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (performance.now() >= deadline) {
      throw new EnvironmentError(
        `${host}:${port} did not accept a TCP connection within ${timeoutMs} ms (${lastError})`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
