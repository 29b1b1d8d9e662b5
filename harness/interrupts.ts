/**
 * Counting Ctrl-Cs. A terminal sends SIGINT to its whole foreground process group, so under
 * `deno task` (which also forwards it) or GNU `timeout` one key press reaches spicecap two or
 * three times within a few milliseconds. Signals that arrive together count as one.
 */

/** Signals this close to the first of a burst are the same Ctrl-C. */
export const SAME_INTERRUPT_MS = 300;

/** What {@link interruptCounter} calls. */
export interface InterruptHandlers {
  /** The first Ctrl-C: stop cleanly. */
  onFirst(): void;
  /** A second Ctrl-C, later than the window: exit now. */
  onSecond(): void;
  /** Milliseconds, monotonic. @default performance.now */
  now?: () => number;
  /** @default SAME_INTERRUPT_MS */
  windowMs?: number;
}

/**
 * A signal handler that calls `onFirst` for the first signal, ignores the ones that arrive
 * within `windowMs` of it, and calls `onSecond` for any later one.
 *
 * @param handlers what to do, and the clock
 * @returns the function to register for SIGINT and SIGTERM
 */
export function interruptCounter(handlers: InterruptHandlers): () => void {
  const now = handlers.now ?? (() => performance.now());
  const windowMs = handlers.windowMs ?? SAME_INTERRUPT_MS;
  let firstAt: number | undefined;
  return () => {
    const t = now();
    if (firstAt === undefined) {
      firstAt = t;
      handlers.onFirst();
    } else if (t - firstAt >= windowMs) {
      handlers.onSecond();
    }
  };
}
