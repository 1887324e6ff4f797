import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Breaker } from './Breaker.js';

describe('Breaker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('proceeds at once below the threshold, then waits until the latest failure + backoff', () => {
    const b = new Breaker(3, 100);
    expect(b.proceed()).toBe(0);
    expect(b.failure()).toBe(false);
    expect(b.failure()).toBe(false);
    expect(b.proceed()).toBe(0);
    vi.advanceTimersByTime(50);
    expect(b.failure()).toBe(false); // never drops
    expect(b.failures).toBe(3);
    expect(b.proceed()).toBe(100);
    vi.advanceTimersByTime(40);
    expect(b.proceed()).toBe(60);
    vi.advanceTimersByTime(60);
    expect(b.proceed()).toBe(0);
    vi.advanceTimersByTime(10);
    expect(b.proceed()).toBe(-10); // <= 0: no wait
    b.failure(); // a fourth failure re-stamps
    expect(b.proceed()).toBe(100);
  });

  it('a success resets it', () => {
    const b = new Breaker(1, 100);
    b.failure();
    expect(b.proceed()).toBe(100);
    b.success();
    expect(b.failures).toBe(0);
    expect(b.proceed()).toBe(0);
  });
});
