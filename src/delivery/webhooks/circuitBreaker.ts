import { setTimeout as sleep } from 'node:timers/promises';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  threshold: number;
  /** First wait while open, in ms; doubles after each failed probe. */
  cooldownMs: number;
  maxCooldownMs: number;
}

/**
 * An endpoint's circuit breaker: closed, it lets every attempt through; after `threshold`
 * consecutive failures it opens and lets nothing through for a cooldown; then it is half-open and
 * lets exactly one attempt (the probe) through. A successful probe closes it; a failed one opens
 * it again for twice as long (up to the maximum). So a dead endpoint gets one request per
 * cooldown, not one per event.
 */
export class CircuitBreaker {
  private failures = 0;
  private cooldown: number;
  private openUntil = 0;
  private probing = false;
  private current: BreakerState = 'closed';
  /** Attempts waiting for the probe's outcome. */
  private waiters: Array<() => void> = [];

  constructor(private readonly options: CircuitBreakerOptions) {
    this.cooldown = options.cooldownMs;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Resolves when an attempt may go out (the caller must then report success or failure). */
  async acquire(signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      if (this.current === 'closed') return;
      if (this.current === 'open') {
        const wait = this.openUntil - Date.now();
        if (wait > 0) {
          await sleep(wait, undefined, { signal });
          continue;
        }
        this.current = 'half-open';
      }
      if (!this.probing) {
        this.probing = true;
        return;
      }
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  success(): void {
    this.failures = 0;
    this.cooldown = this.options.cooldownMs;
    this.probing = false;
    this.current = 'closed';
    this.wake();
  }

  failure(): void {
    this.failures++;
    if (this.current === 'half-open') {
      this.cooldown = Math.min(this.cooldown * 2, this.options.maxCooldownMs);
      this.open();
    } else if (this.current === 'closed' && this.failures >= this.options.threshold) {
      this.open();
    }
  }

  /** An attempt given up without an outcome (the lane stopped): another may probe. */
  abandon(): void {
    if (this.probing) {
      this.probing = false;
      this.wake();
    }
  }

  private open(): void {
    this.current = 'open';
    this.openUntil = Date.now() + this.cooldown;
    this.probing = false;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
