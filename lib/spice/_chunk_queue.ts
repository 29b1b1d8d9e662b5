/** Byte queue for the SPICE framer (private to lib/spice). */

/** Owned memory a borrowing queue starts with, per buffer, once it needs any. */
const MIN_OWNED_BYTES = 64 << 10;
/** An owned buffer larger than this is given back when what it must hold is small again. */
const MAX_KEPT_OWNED_BYTES = 4 << 20;

/**
 * Bytes of one direction not yet framed, as the list of pushed chunks (no copying on push).
 *
 * A *borrowing* queue (`borrowed: true`) refers to a pushed chunk only until {@link settle},
 * which the framer calls before its push returns, so the caller may reuse the chunk's memory
 * (a relay's read buffer, a ring's slot) once it has used the units. What is still pending is
 * copied into one of two owned buffers; a unit that spans the owned bytes and the new chunk is
 * completed in place in the owned buffer. So each byte is copied at most once, and only when
 * its unit spans chunks; a unit taken from owned memory stays valid until the next
 * {@link push}, as the other owned buffer takes the next pending bytes.
 */
export class ChunkQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #pos = 0;
  length = 0;
  readonly #borrowed: boolean;
  /** Borrowing: the two owned buffers. */
  readonly #own: [Uint8Array, Uint8Array] = [new Uint8Array(0), new Uint8Array(0)];
  /** Borrowing: the owned buffer whose prefix is the head chunk, or -1 when none is. */
  #ownHead = -1;
  /** Borrowing: bit i set when a unit taken since the last push is a view of owned buffer i. */
  #inUse = 0;

  constructor(options: { borrowed?: boolean } = {}) {
    this.#borrowed = options.borrowed ?? false;
  }

  push(chunk: Uint8Array): void {
    this.#inUse = 0; // units taken before this push are no longer used
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
      if (this.#head === 0 && this.#ownHead >= 0) this.#inUse |= 1 << this.#ownHead;
    } else if (this.#head === 0 && this.#ownHead >= 0) {
      out = this.#completeOwned(n);
    } else {
      out = this.#copy(n);
    }
    this.#skip(n);
    return out;
  }

  /**
   * Borrowing queues: copies what is pending into owned memory, so no pushed chunk is referred
   * to any more. A no-op otherwise.
   */
  settle(): void {
    if (!this.#borrowed) return;
    const n = this.length;
    if (n === 0) {
      this.#reset();
      return;
    }
    const ownedHead = this.#head === 0 && this.#ownHead >= 0;
    if (ownedHead && this.#chunks.length === 1) return; // nothing borrowed is pending
    // Append in place when the owned head is untouched since the push; else the other buffer.
    const inPlace = ownedHead && this.#pos === 0 && !(this.#inUse & (1 << this.#ownHead));
    const target = inPlace ? this.#ownHead : this.#freeBuffer();
    const keep = inPlace ? this.#chunks[0].length : 0;
    const out = this.#ownBuffer(target, n, keep);
    let filled = keep;
    let pos = this.#pos;
    for (let i = this.#head + (inPlace ? 1 : 0); i < this.#chunks.length; i++) {
      const c = this.#chunks[i];
      out.set(pos === 0 ? c : c.subarray(pos), filled);
      filled += c.length - pos;
      pos = 0;
    }
    this.#chunks = [out.subarray(0, n)];
    this.#head = 0;
    this.#pos = 0;
    this.#ownHead = target;
  }

  /** An owned buffer no unit taken since the last push refers to. */
  #freeBuffer(): number {
    return this.#inUse & 1 ? 1 : 0;
  }

  /**
   * Owned buffer `i`, able to hold `n` bytes, keeping its first `keep` bytes; a large buffer is
   * replaced by a small one once it is no longer needed.
   */
  #ownBuffer(i: number, n: number, keep: number): Uint8Array {
    const cur = this.#own[i];
    if (n <= cur.length && !(cur.length > MAX_KEPT_OWNED_BYTES && n <= MIN_OWNED_BYTES)) {
      return cur;
    }
    const grown = new Uint8Array(
      Math.max(MIN_OWNED_BYTES, n <= cur.length ? n : cur.length * 2, n),
    );
    if (keep > 0) grown.set(cur.subarray(0, keep));
    this.#own[i] = grown;
    return grown;
  }

  /**
   * A unit that starts in the owned head chunk and ends in the borrowed chunk after it: its
   * missing bytes are appended in the owned buffer, and the unit is a view of that buffer.
   */
  #completeOwned(n: number): Uint8Array {
    const i = this.#ownHead;
    const have = this.#chunks[0].length;
    let buf = this.#ownBuffer(i, this.#pos + n, have);
    if (this.#chunks[0].buffer !== buf.buffer) this.#chunks[0] = buf.subarray(0, have);
    let filled = have;
    let need = this.#pos + n - have;
    for (let k = 1; need > 0; k++) {
      const c = this.#chunks[k];
      const m = Math.min(need, c.length);
      buf.set(m === c.length ? c : c.subarray(0, m), filled);
      filled += m;
      need -= m;
    }
    buf = buf.subarray(this.#pos, this.#pos + n);
    this.#inUse |= 1 << i;
    return buf;
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

  #reset(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#pos = 0;
    this.#ownHead = -1;
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
      this.#ownHead = -1; // only the head chunk is ever owned
    }
    if (this.#head === this.#chunks.length) {
      this.#reset();
    } else if (this.#head > 64) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
