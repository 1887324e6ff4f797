import { describe, expect, it } from 'vitest';
import { Pacer } from '../../src/delivery/webhooks/pacer.js';

describe('Pacer', () => {
  it('lets a call through at once without a limit', async () => {
    const pacer = new Pacer();
    const started = performance.now();
    for (let i = 0; i < 100; i++) await pacer.wait(undefined, new AbortController().signal);
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('spaces concurrent callers 1/rate apart, in the order they asked', async () => {
    const pacer = new Pacer();
    const signal = new AbortController().signal;
    const started = performance.now();
    const order: number[] = [];
    const times: number[] = [];
    await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        pacer.wait(50, signal).then(() => {
          order.push(i);
          times.push(performance.now() - started);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4]);
    // 50 per second: slots at 0, 20, 40, 60, 80 ms.
    // Timers run on a millisecond clock and may fire up to a millisecond early.
    times.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(i * 20 - 3));
  });

  it('stops waiting when the lane stops', async () => {
    const pacer = new Pacer();
    const controller = new AbortController();
    await pacer.wait(1, controller.signal); // takes the first slot; the next is a second away
    const waiting = pacer.wait(1, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toThrow();
    pacer.reset();
    const started = performance.now();
    await pacer.wait(1, new AbortController().signal);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
