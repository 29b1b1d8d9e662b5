/** Byte queue for the SPICE framer (private to lib/spice). */

/** Bytes of one direction not yet framed, as the list of pushed chunks (no copying on push). */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #pos = 0;
  length = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Where the last {@link peek} found its bytes: they start at this index of its array. */
  peeked = 0;

  /**
   * An array holding bytes 0..n of the queue contiguously from index {@link peeked} (set as a
   * field, so the hot path allocates nothing); copies only when the bytes span chunks.
   */
  peek(n: number): Uint8Array {
    const first = this.#chunks[this.#head];
    if (first.length - this.#pos >= n) {
      this.peeked = this.#pos;
      return first;
    }
    this.peeked = 0;
    return this.#copy(n);
  }

  /** Removes and returns the first n bytes (a subarray when they lie in one chunk). */
  take(n: number): Uint8Array {
    const first = this.#chunks[this.#head];
    let out: Uint8Array;
    if (first.length - this.#pos >= n) {
      out = first.subarray(this.#pos, this.#pos + n);
    } else {
      out = this.#copy(n);
    }
    this.#skip(n);
    return out;
  }

  #copy(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    let pos = this.#pos;
    for (let i = this.#head; filled < n; i++) {
      const c = this.#chunks[i];
      const k = Math.min(n - filled, c.length - pos);
      out.set(c.subarray(pos, pos + k), filled);
      filled += k;
      pos = 0;
    }
    return out;
  }

  #skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const left = this.#chunks[this.#head].length - this.#pos;
      if (n < left) {
        this.#pos += n;
        return;
      }
      n -= left;
      this.#head++;
      this.#pos = 0;
    }
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head > 64) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
