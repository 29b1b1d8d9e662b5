/**
 * Where one served connection stands: which recorded server message is next, whether the live
 * client has sent what the recording shows before it, whether each live client message is the
 * one the recording has at that point, and the SET_ACK window (docs/protocol.md "Flow control
 * and keepalive"). Pure state, driven by the harness.
 */
import { COMMON, GENERATED_CLIENT_TYPES } from "../replay/plan.ts";
import { channelLabel, type ServedConnectionPlan, type ServerStep } from "./plan.ts";

/** A live client message the recording does not have at that point. */
export interface ServeDivergence {
  /** Channel label, e.g. "display". */
  channel: string;
  /** The live message's index in its direction (answers such as PONG counted). */
  index: number;
  /** Live message name. */
  actual: string;
  /** Recorded message name at that point; undefined when the recording has no more. */
  expected?: string;
  /** One line: channel, index and both types. */
  message: string;
}

/** What became of a live client message. */
export type ClientVerdict =
  | { kind: "answer"; name: string }
  | { kind: "match" }
  | { kind: "divergence"; divergence: ServeDivergence };

/** The progress of one served connection. */
export class ConnectionProgress {
  /** "display", "display-1". */
  readonly label: string;
  /** The recorded connection. */
  readonly plan: ServedConnectionPlan;
  /** Live client messages received, answers (PONG, ACK_SYNC, ACK) left out. */
  received = 0;
  /** Recorded server messages sent. */
  sent = 0;
  /** Live answers received, by name. */
  readonly answers: Record<string, number> = {};
  /** Divergences seen on this connection. */
  readonly divergences: ServeDivergence[] = [];

  /** Starts at the first recorded server message. */
  constructor(plan: ServedConnectionPlan) {
    this.plan = plan;
    this.label = channelLabel(plan);
  }

  /**
   * Takes one live client message: answers are counted apart; anything else is compared by
   * type with the recorded client message at the same position.
   *
   * @param message the live message: its type, name and index in its direction
   */
  onClient(message: { type: number; name: string; index: number }): ClientVerdict {
    const { type, name, index } = message;
    const answer = GENERATED_CLIENT_TYPES.get(type);
    if (answer) {
      this.answers[answer] = (this.answers[answer] ?? 0) + 1;
      return { kind: "answer", name: answer };
    }
    const expected = this.plan.client[this.received];
    this.received++;
    if (expected?.type === type) return { kind: "match" };
    const has = expected ? `the recording has ${expected.name} there` : "the recording has no more";
    const divergence: ServeDivergence = {
      channel: this.label,
      index,
      actual: name,
      expected: expected?.name,
      message: `${this.label}: client message #${index} is ${name}, ${has}`,
    };
    this.divergences.push(divergence);
    return { kind: "divergence", divergence };
  }

  /** The next recorded server message, or undefined when all were sent. */
  next(): ServerStep | undefined {
    return this.plan.server[this.sent];
  }

  /**
   * What the next server message still waits for, or undefined when it may go out (or none
   * is left).
   */
  waitingFor(): string | undefined {
    const step = this.next();
    if (!step || this.received >= step.afterClient) return undefined;
    const want = this.plan.client[this.received];
    return `client ${
      want?.name ?? "message"
    } (${step.afterClient} client messages, have ${this.received})`;
  }

  /** Notes that {@link next} was sent. */
  markSent(): void {
    this.sent++;
  }

  /** Every recorded server message was sent. */
  get drained(): boolean {
    return this.sent >= this.plan.server.length;
  }

  /** The client sent at least as many messages as the recorded client. */
  get clientComplete(): boolean {
    return this.received >= this.plan.client.length;
  }

  /** Where the connection stands, for a report: "server 3/6 sent (next DRAW_COPY), client 1/2". */
  where(): string {
    const next = this.next();
    const server = `server ${this.sent}/${this.plan.server.length} sent` +
      (next ? ` (next #${next.index} ${next.name})` : "");
    return `${server}, client ${this.received}/${this.plan.client.length} received`;
  }
}

/**
 * The server's SET_ACK window: after SET_ACK (generation, window) a server counts the messages
 * it sends, takes one ACK as `window` of them once the client's ACK_SYNC named the generation,
 * and holds back while more than twice the window are unacknowledged.
 */
export class AckWindow {
  #generation = 0;
  #clientGeneration = -1;
  #window = 0;
  #unacked = 0;

  /** Counts a sent server message; a SET_ACK starts a new window. */
  onSent(type: number, body: Uint8Array): void {
    if (type === COMMON.SET_ACK && body.length >= 8) {
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      this.#generation = dv.getUint32(0, true);
      this.#window = dv.getUint32(4, true);
      this.#unacked = 0;
      return;
    }
    this.#unacked++;
  }

  /** The client's ACK_SYNC. */
  onAckSync(generation: number): void {
    this.#clientGeneration = generation;
  }

  /** The client's ACK: `window` messages acknowledged, for the current generation only. */
  onAck(): void {
    if (this.#clientGeneration === this.#generation) {
      this.#unacked = Math.max(0, this.#unacked - this.#window);
    }
  }

  /** Whether the server must wait for an ACK before sending more. */
  get blocked(): boolean {
    return this.#window > 0 && this.#unacked > 2 * this.#window;
  }

  /** Messages sent since the last acknowledged window. */
  get unacked(): number {
    return this.#unacked;
  }
}
