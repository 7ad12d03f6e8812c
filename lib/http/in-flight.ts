/** A cap on requests in progress at once, such as the requests that change mounts. */
import type { ServerResponse } from 'node:http';
import { ConfigError, HttpError } from '../errors.js';

/** Default number of mutations one server handles at once. */
export const DEFAULT_MAX_MUTATIONS_IN_FLIGHT = 32;

export class InFlightLimit {
  readonly max: number;
  /** Seconds a rejected client should wait, sent as Retry-After. */
  readonly retryAfterSeconds: number;
  #count = 0;

  /** Checks both numbers: `max` from 1, `retryAfterSeconds` from 1 (default 1). */
  constructor(max: number, retryAfterSeconds = 1) {
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new ConfigError(`invalid in-flight limit max=${String(max)}: expected a whole number from 1`, {
        details: { option: 'max', value: String(max), reason: 'expected a whole number from 1' },
      });
    }
    if (!Number.isSafeInteger(retryAfterSeconds) || retryAfterSeconds < 1) {
      throw new ConfigError(`invalid in-flight limit retryAfterSeconds=${String(retryAfterSeconds)}: expected whole seconds from 1`, {
        details: { option: 'retryAfterSeconds', value: String(retryAfterSeconds), reason: 'expected whole seconds from 1' },
      });
    }
    this.max = max;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** Requests holding a slot now. */
  get count(): number {
    return this.#count;
  }

  /**
   * Takes a slot for the request of `res` until `res` closes, because it was
   * sent or its connection was lost. Throws HttpError TOO_MANY_REQUESTS (429)
   * with `details.retry_after` in seconds when every slot is taken.
   */
  enter(res: ServerResponse): void {
    if (this.#count >= this.max) {
      throw new HttpError('TOO_MANY_REQUESTS', 429, `too many requests that change mounts are in progress (limit ${this.max}); retry in ${this.retryAfterSeconds} s`, {
        details: { limit: this.max, retry_after: this.retryAfterSeconds },
      });
    }
    if (res.destroyed) return;
    this.#count += 1;
    res.once('close', () => {
      this.#count -= 1;
    });
  }
}
