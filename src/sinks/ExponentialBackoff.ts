import type { RetryStrategy } from './RetryStrategy.js';

/** Parameters of ExponentialBackoff, in milliseconds; they bound a random wait. */
export interface ExponentialBackoffConfig {
  /** Added to every bound (not a minimum wait: waits are drawn from [0, bound)). */
  base: number;
  /** Grows the bound: base + factor·2^(failures−1); <= 0 means 1000. */
  factor: number;
  /** Caps the bound; <= 0 means 20000. */
  max: number;
}

/** go-events' DefaultExponentialBackoffConfig: 1 s, 1 s, 20 s. */
export const DEFAULT_EXPONENTIAL_BACKOFF: Readonly<ExponentialBackoffConfig> = Object.freeze({ base: 1000, factor: 1000, max: 20_000 });

/**
 * Random backoff with exponentially growing bounds: after n consecutive failures an attempt waits
 * a uniform random time in [0, min(base + factor·2^(n−1), max)); no wait without failures. Never
 * drops an event; a success resets the count.
 */
export class ExponentialBackoff implements RetryStrategy<unknown> {
  /** The configuration in force (missing fields filled from the default). */
  readonly config: Readonly<ExponentialBackoffConfig>;
  #failures = 0;

  /** Creates a strategy; fields left out take DEFAULT_EXPONENTIAL_BACKOFF's values. */
  constructor(config: Partial<ExponentialBackoffConfig> = {}) {
    this.config = Object.freeze({ ...DEFAULT_EXPONENTIAL_BACKOFF, ...config });
  }

  /** A random wait below the current bound, or 0 without failures. */
  proceed(): number {
    const bound = this.bound();
    return bound > 0 ? Math.random() * bound : 0;
  }

  /** Counts the failure; returns false (never drops). */
  failure(): boolean {
    this.#failures++;
    return false;
  }

  /** Resets the failure count. */
  success(): void {
    this.#failures = 0;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.#failures;
  }

  /** The exclusive upper bound of the next wait: 0 without failures, else capped at max. */
  bound(failures = this.#failures): number {
    if (failures <= 0) return 0;
    const factor = this.config.factor > 0 ? this.config.factor : DEFAULT_EXPONENTIAL_BACKOFF.factor;
    const max = this.config.max > 0 ? this.config.max : DEFAULT_EXPONENTIAL_BACKOFF.max;
    const bound = this.config.base + factor * 2 ** (failures - 1);
    return bound > max || bound < 0 || Number.isNaN(bound) ? max : bound;
  }
}
