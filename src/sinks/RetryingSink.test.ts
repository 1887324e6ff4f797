import { afterEach, describe, expect, it, vi } from 'vitest';
import { Breaker } from './Breaker.js';
import { ExponentialBackoff } from './ExponentialBackoff.js';
import { RetryingSink } from './RetryingSink.js';
import type { RetryStrategy } from './RetryStrategy.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';
import { checkClose, FlakySink, TestSink, tick } from './testkit.js';

/** go-events' testRetryingSink: a flaky sink over testSink(100); 100 concurrent writes all succeed, once each. */
async function testRetryingSink(strategy: RetryStrategy<string>): Promise<void> {
  const nevents = 100;
  const ts = new TestSink<string>(nevents);
  const flaky = new FlakySink(ts, 1.0); // start out always failing
  const s = new RetryingSink<string>(flaky, strategy);
  const writes: Promise<void>[] = [];
  for (let i = 1; i <= nevents; i++) {
    if (i > 50) flaky.rate = 0.9; // above 50, a lower failure rate
    writes.push(s.write(`event-${i}`));
  }
  const results = await Promise.allSettled(writes);
  expect(results.filter((r) => r.status !== 'fulfilled')).toEqual([]);

  await checkClose(s);
  expect(ts.closed).toBe(false); // HEAD: closing a RetryingSink leaves the wrapped sink open
  expect(ts.failures).toEqual([]);
  expect(ts.events.length).toBe(nevents);
  expect(new Set(ts.events).size).toBe(nevents); // no duplicates
  await ts.close(); // asserts exactly 100
  expect(ts.failures).toEqual([]);
  const stats = s.stats();
  expect(stats).toMatchObject({ written: 100, delivered: 100, dropped: 0, pending: 0 });
  expect(stats.failed).toBe(flaky.attempts - 100);
  expect(stats.retried).toBe(stats.failed);
  expect(stats.failed).toBeGreaterThanOrEqual(50); // the first 50 attempts failed
}

describe('RetryingSink', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('TestRetryingSinkBreaker: Breaker(3, 10 ms)', async () => {
    await testRetryingSink(new Breaker(3, 10));
  });

  it('TestRetryingSinkExponentialBackoff: {1, 1, 5} ms', async () => {
    await testRetryingSink(new ExponentialBackoff({ base: 1, factor: 1, max: 5 }));
  });

  it('waits proceed() ms before an attempt (fake clock)', async () => {
    vi.useFakeTimers();
    let attempts = 0;
    const sink: Sink<string> = {
      write: async () => {
        if (++attempts === 1) throw new Error('first fails');
      },
      close: async () => {},
    };
    const s = new RetryingSink<string>(sink, new Breaker(1, 1000));
    let done = false;
    const write = s.write('e').then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(attempts).toBe(1);
    expect(s.stats().pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await write;
    expect(attempts).toBe(2);
    expect(done).toBe(true);
    expect(s.stats()).toEqual({ written: 1, delivered: 1, dropped: 0, failed: 1, retried: 1, pending: 0 });
  });

  it('close interrupts a wait: the write rejects with SinkClosedError at once', async () => {
    const sink: Sink<string> = { write: () => Promise.reject(new Error('down')), close: async () => {} };
    const s = new RetryingSink<string>(sink, new Breaker(1, 60_000));
    const write = s.write('e');
    await tick();
    const started = performance.now();
    await s.close();
    await expect(write).rejects.toBeInstanceOf(SinkClosedError);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('SinkClosedError from the wrapped sink is returned as is, without retry', async () => {
    const ts = new TestSink<string>(0);
    await ts.close();
    const flaky = new FlakySink(ts, 0);
    const s = new RetryingSink<string>(flaky, new Breaker(1, 10));
    await expect(s.write('e')).rejects.toBeInstanceOf(SinkClosedError);
    expect(flaky.attempts).toBe(1);
  });

  it('drops the event when the strategy says so; the write resolves; failures are reported', async () => {
    const errors: unknown[] = [];
    const giveUpAfter2: RetryStrategy<string> & { seen: number } = {
      seen: 0,
      proceed: () => 0,
      failure() {
        return ++this.seen >= 2;
      },
      success: () => {},
    };
    const boom = new Error('boom');
    const sink: Sink<string> = { write: () => Promise.reject(boom), close: async () => {} };
    const s = new RetryingSink<string>(sink, giveUpAfter2, { onError: (error, info) => errors.push([error, info]) });
    await expect(s.write('e')).resolves.toBeUndefined();
    expect(s.stats()).toEqual({ written: 1, delivered: 0, dropped: 1, failed: 2, retried: 1, pending: 0 });
    expect(errors).toEqual([
      [boom, { op: 'write', sink, event: 'e' }],
      [boom, { op: 'write', sink, event: 'e' }],
    ]);
  });

  it('calls success after a delivery, and runs concurrent writes concurrently', async () => {
    const calls: string[] = [];
    const strategy: RetryStrategy<string> = {
      proceed: (e) => (calls.push(`proceed ${e}`), 0),
      failure: () => false,
      success: (e) => void calls.push(`success ${e}`),
    };
    let inside = 0;
    let most = 0;
    const sink: Sink<string> = {
      write: async () => {
        most = Math.max(most, ++inside);
        await tick();
        inside--;
      },
      close: async () => {},
    };
    const s = new RetryingSink<string>(sink, strategy);
    await Promise.all([s.write('a'), s.write('b')]);
    expect(most).toBe(2);
    expect(calls).toEqual(['proceed a', 'proceed b', 'success a', 'success b']);
  });
});
