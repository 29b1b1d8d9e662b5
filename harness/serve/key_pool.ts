/**
 * Ready-made RSA key pairs for serve's link replies: making one takes tens of milliseconds, so a
 * few are made ahead while the server waits, and each one taken is replaced in the background.
 */
import { makeServerKey, type ServerKey } from "../../lib/serve/link.ts";

/** A pool of fresh key pairs; every key is handed out once. */
export class KeyPool {
  readonly #ready: Promise<ServerKey>[] = [];
  readonly #size: number;

  /**
   * Starts making `size` keys.
   *
   * @param size keys kept ready (at least 1)
   */
  constructor(size: number) {
    this.#size = Math.max(1, size);
    for (let i = 0; i < this.#size; i++) this.#ready.push(quiet(makeServerKey()));
  }

  /** A key never handed out before: a ready one when there is one, else a new one. */
  take(): Promise<ServerKey> {
    const next = this.#ready.shift() ?? makeServerKey();
    this.#ready.push(quiet(makeServerKey()));
    return next;
  }
}

/** The promise, with a rejection noted so an unused failed key is not an unhandled rejection. */
function quiet(p: Promise<ServerKey>): Promise<ServerKey> {
  p.catch(() => {});
  return p;
}
