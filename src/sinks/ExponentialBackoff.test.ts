import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_EXPONENTIAL_BACKOFF, ExponentialBackoff } from './ExponentialBackoff.js';

describe('ExponentialBackoff', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('TestExponentialBackoff: default config, bounds 2 s, 3 s, 5 s, 9 s, 17 s, then 20 s; success resets', () => {
    const strategy = new ExponentialBackoff(DEFAULT_EXPONENTIAL_BACKOFF);
    expect(strategy.config).toEqual({ base: 1000, factor: 1000, max: 20_000 });
    expect(strategy.proceed()).toBe(0); // untouched: no wait
    const bounds = [2000, 3000, 5000, 9000, 17_000, 20_000, 20_000, 20_000, 20_000, 20_000];
    for (let i = 1; i <= 10; i++) {
      expect(strategy.failure()).toBe(false); // never drops
      const bound = bounds[i - 1]!;
      expect(strategy.bound()).toBe(bound);
      let most = 0;
      for (let n = 0; n < 1000; n++) {
        const backoff = strategy.proceed();
        expect(backoff).toBeGreaterThanOrEqual(0);
        expect(backoff).toBeLessThan(bound);
        most = Math.max(most, backoff);
      }
      expect(most).toBeGreaterThan(bound * 0.9); // uniform over the whole range (fails with p ≈ 0.9^1000)
    }
    strategy.success(); // recovery
    expect(strategy.proceed()).toBe(0);
  });

  it('draws uniformly from [0, bound)', () => {
    const s = new ExponentialBackoff({ base: 10, factor: 10, max: 1000 });
    s.failure();
    vi.spyOn(Math, 'random').mockReturnValueOnce(0).mockReturnValueOnce(0.5).mockReturnValueOnce(0.999);
    expect([s.proceed(), s.proceed(), s.proceed()]).toEqual([0, 10, 20 * 0.999]);
  });

  it('fills defaults: missing fields, factor <= 0 → 1 s, max <= 0 → 20 s; base is not a minimum', () => {
    expect(new ExponentialBackoff().config).toEqual(DEFAULT_EXPONENTIAL_BACKOFF);
    expect(new ExponentialBackoff({ base: 5 }).config).toEqual({ base: 5, factor: 1000, max: 20_000 });
    expect(new ExponentialBackoff({ base: 0, factor: 0, max: 0 }).bound(1)).toBe(1000);
    expect(new ExponentialBackoff({ base: 0, factor: -5, max: 0 }).bound(5)).toBe(16_000);
    expect(new ExponentialBackoff({ base: 0, factor: 1, max: 0 }).bound(20)).toBe(20_000);
    expect(new ExponentialBackoff({ base: 100, factor: 1, max: 10_000 }).bound(1)).toBe(101);
  });

  it('caps on overflow and on a negative bound', () => {
    const s = new ExponentialBackoff({ base: 0, factor: 1, max: 500 });
    expect(s.bound(5000)).toBe(500); // 2^4999 is Infinity
    expect(new ExponentialBackoff({ base: -10_000, factor: 1, max: 500 }).bound(1)).toBe(500);
    expect(s.bound(0)).toBe(0);
  });
});
