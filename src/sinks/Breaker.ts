import type { RetryStrategy } from './RetryStrategy.js';

/**
 * A circuit-breaker retry strategy: after `threshold` consecutive failures, attempts wait until
 * `backoffMs` after the latest failure. It never drops an event; a success resets it.
 */
export class Breaker implements RetryStrategy<unknown> {
  /** Consecutive failures that open the breaker. */
  readonly threshold: number;
  /** Milliseconds to hold off after the latest failure once open. */
  readonly backoffMs: number;
  #recent = 0;
  #last = 0;

  /** Creates a breaker opening after `threshold` consecutive failures for `backoffMs` ms. */
  constructor(threshold: number, backoffMs: number) {
    this.threshold = threshold;
    this.backoffMs = backoffMs;
  }

  /** 0 while failures < threshold, else the time left until latest failure + backoff (may be <= 0). */
  proceed(): number {
    if (this.#recent < this.threshold) return 0;
    return this.#last + this.backoffMs - performance.now();
  }

  /** Counts the failure and stamps its time; returns false (never drops). */
  failure(): boolean {
    this.#recent++;
    this.#last = performance.now();
    return false;
  }

  /** Resets the breaker. */
  success(): void {
    this.#recent = 0;
    this.#last = 0;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#recent;
  }
}
