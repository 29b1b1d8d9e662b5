/**
 * One pass over a channel file feeding both directions' alignments: the file's unit batches are
 * split into a client queue and a server queue, read one batch at a time on demand. A queue only
 * grows while its consumer waits for the other capture, i.e. by how much the two captures'
 * direction interleavings differ; past `maxQueued` units the split gives up with
 * {@link SkewError} and the caller falls back to one pass per direction.
 */
import type { DiffInput } from "./types.ts";

/** Units one capture's splitter may read ahead of the other's (about two batches). */
const STEP_SLACK = 1024;

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
  /** Units read so far, both directions. */
  #unitsRead = 0;
  /** The other capture's splitter, read in step with this one (see {@link pairWith}). */
  #partner?: DirectionSplitter;

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

  /**
   * Reads this splitter and `other` (the other capture's) in step: before one reads more than
   * {@link STEP_SLACK} units ahead of the other, it reads the other first. Each direction's
   * aligner takes both captures' units at the same pace, so reading both files at the same pace
   * keeps the queues a consumer is not pulling short: otherwise one capture's client queue and
   * the other's server queue grow into tens of thousands of units, all kept alive (and promoted
   * by the garbage collector) while the aligners wait for each other.
   *
   * @param other the other capture's splitter
   */
  pairWith(other: DirectionSplitter): void {
    this.#partner = other;
    other.#partner = this;
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
      const partner = this.#partner;
      while (partner && !partner.#done && this.#unitsRead > partner.#unitsRead + STEP_SLACK) {
        await partner.#read();
        if (partner.#error) throw partner.#error;
      }
      await this.#read();
    }
  }

  /** Reads one batch, or joins the read in progress. */
  #read(): Promise<void> {
    this.#reading ??= this.#readOne().finally(() => this.#reading = undefined);
    return this.#reading;
  }

  async #readOne(): Promise<void> {
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return;
    }
    for (const u of r.value) this.#queues[u.unit.fromClient ? 0 : 1].push(u);
    this.#unitsRead += r.value.length;
    if (this.#queues[0].length > this.#maxQueued || this.#queues[1].length > this.#maxQueued) {
      this.#error = new SkewError(
        `more than ${this.#maxQueued} units of one direction queued while the other waits`,
      );
      await this.#it.return?.();
      throw this.#error;
    }
  }
}
