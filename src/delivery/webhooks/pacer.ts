import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A lane's rate limit: attempts start at most `perSecond` times a second, each one taking the
 * next free slot 1/perSecond after the previous (no bursts), so the concurrent attempts of a
 * lane with maxInFlight > 1 queue up in order. The rate is read per call: a changed limit
 * applies from the next attempt on.
 */
export class Pacer {
  private nextSlot = 0;

  /** Resolves when the caller may start an attempt: at once when `perSecond` is undefined. */
  async wait(perSecond: number | undefined, signal: AbortSignal): Promise<void> {
    if (perSecond === undefined) return;
    const now = performance.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / perSecond;
    if (slot > now) await sleep(slot - now, undefined, { signal });
  }

  /** Frees the slots taken so far: their callers have given up (the lane stopped). */
  reset(): void {
    this.nextSlot = 0;
  }
}
