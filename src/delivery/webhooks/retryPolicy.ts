import type { Subscription } from './subscription.js';

/** go-sep's retry loop (compat.md §1): 100 ms, growing ×1.5 (capped at 1 min), for 10 s. */
export const GOSEP_RETRY = { initialMs: 100, factor: 1.5, capMs: 60_000, windowMs: 10_000 } as const;

/** Jitter on scheduled retries: ±20 %, so endpoints that failed together do not retry together. */
const JITTER = 0.2;

/** Retry-After is honoured up to this long (a day); beyond it the schedule's delay applies. */
const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * When to try an event again after its `failures`-th failed attempt, or undefined to give up
 * (the event then goes to the dead letters). `firstAttemptAt` is when its first attempt started.
 */
export function nextRetryDelay(sub: Pick<Subscription, 'policy' | 'retrySchedule'>, failures: number, firstAttemptAt: number, now: number, retryAfterMs?: number): number | undefined {
  if (sub.policy === 'gosep') {
    if (now - firstAttemptAt > GOSEP_RETRY.windowMs) return undefined;
    let delay: number = GOSEP_RETRY.initialMs;
    for (let i = 1; i < failures && delay < GOSEP_RETRY.capMs; i++) delay *= GOSEP_RETRY.factor;
    return delay;
  }
  const scheduled = sub.retrySchedule[failures - 1];
  if (scheduled === undefined) return undefined;
  if (retryAfterMs !== undefined && retryAfterMs <= MAX_RETRY_AFTER_MS) return Math.max(retryAfterMs, 0);
  return Math.round(scheduled * (1 - JITTER + Math.random() * 2 * JITTER));
}
