/**
 * One pass over a channel file feeding both directions' alignments: the file's unit batches are
 * split into a client queue and a server queue, read one batch at a time on demand. A queue only
 * grows while its consumer waits for the other capture, i.e. by how much the two captures'
 * direction interleavings differ; past `maxQueued` units the split gives up with
 * {@link SkewError} and the caller falls back to one pass per direction.
 */
import type { DiffInput } from "./types.ts";

/** The interleaving of the two captures differs too much for one pass. */
export class SkewError extends Error {
  /** Always "SkewError". */
  override name = "SkewError";
}

/** Splits one stream of unit batches into a client stream and a server stream. */
export class DirectionSplitter {
  readonly #it: AsyncIterator<DiffInput[]>;
  readonly #queues: [DiffInput[], DiffInput[]] = [[], []];
  readonly #maxQueued: number;
  #done = false;
  #reading?: Promise<void>;
  #error?: SkewError;

  /**
   * Wraps a unit stream; nothing is read until a direction's stream is pulled.
   *
   * @param batches the file's units (both directions) in capture order
   * @param maxQueued largest number of units one queue may hold
   */
  constructor(batches: AsyncIterable<DiffInput[]>, maxQueued = 65_536) {
    this.#it = batches[Symbol.asyncIterator]();
    this.#maxQueued = maxQueued;
  }

  /** The units of one direction, in batches. */
  async *stream(fromClient: boolean): AsyncGenerator<DiffInput[]> {
    const q = fromClient ? 0 : 1;
    while (true) {
      if (this.#error) throw this.#error;
      if (this.#queues[q].length > 0) {
        const batch = this.#queues[q];
        this.#queues[q] = [];
        yield batch;
        continue;
      }
      if (this.#done) return;
      this.#reading ??= this.#readOne().finally(() => this.#reading = undefined);
      await this.#reading;
    }
  }

  async #readOne(): Promise<void> {
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return;
    }
    for (const u of r.value) this.#queues[u.unit.fromClient ? 0 : 1].push(u);
    if (this.#queues[0].length > this.#maxQueued || this.#queues[1].length > this.#maxQueued) {
      this.#error = new SkewError(
        `more than ${this.#maxQueued} units of one direction queued while the other waits`,
      );
      await this.#it.return?.();
      throw this.#error;
    }
  }
}
