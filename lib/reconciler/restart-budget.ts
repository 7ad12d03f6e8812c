/**
 * The restart allowance of the container watchdog: at most `maxRestarts`
 * restarts within any sliding window of `windowMs`, each one after a delay
 * that doubles with every restart already in the window.
 */

export interface RestartBudgetOptions {
  /** Restarts allowed within one window. */
  maxRestarts: number;
  /** Length of the sliding window, in milliseconds. */
  windowMs: number;
  /** Delay before the first restart of a window, in milliseconds. */
  initialDelayMs: number;
  /** Upper bound of the delay, in milliseconds. */
  maxDelayMs: number;
}

export class RestartBudget {
  /** Times of the restarts still inside the window, oldest first, in milliseconds. */
  #times: number[] = [];

  constructor(private readonly options: RestartBudgetOptions) {}

  /** Counts the restarts within the window that ends at `now`. */
  used(now: number): number {
    const start = now - this.options.windowMs;
    while (this.#times.length > 0 && this.#times[0]! <= start) this.#times.shift();
    return this.#times.length;
  }

  /** True when another restart would exceed `maxRestarts` within the window. */
  exhausted(now: number): boolean {
    return this.used(now) >= this.options.maxRestarts;
  }

  /** Returns the delay before the next restart: `initialDelayMs` doubled once per restart in the window, capped at `maxDelayMs`. */
  nextDelay(now: number): number {
    const { initialDelayMs, maxDelayMs } = this.options;
    return Math.min(maxDelayMs, initialDelayMs * 2 ** this.used(now));
  }

  /** Counts a restart made at `now`. */
  record(now: number): void {
    this.#times.push(now);
  }

  /** Forgets every restart, for a fresh start after an operator took over. */
  clear(): void {
    this.#times = [];
  }
}
