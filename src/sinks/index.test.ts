import { describe, expect, it } from 'vitest';
import * as sinks from './index.js';
import { Breaker, Broadcaster, FuncSink, Queue, RetryingSink, SinkClosedError } from './index.js';

describe('herald/sinks', () => {
  it('exports the library', () => {
    expect(Object.keys(sinks).sort()).toEqual(
      ['BoundedQueue', 'Breaker', 'Broadcaster', 'Channel', 'DEFAULT_EXPONENTIAL_BACKOFF', 'ExponentialBackoff', 'Filter', 'FuncSink', 'Queue', 'RetryingSink', 'SinkClosedError', 'SinkFullError', 'pipe'].sort(),
    );
    const error = new SinkClosedError();
    expect(error.message).toBe('events: sink closed');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('SinkClosedError');
  });

  it('composes: Broadcaster → Queue → RetryingSink(Breaker) → FuncSink, a flaky endpoint per branch', async () => {
    const endpoints = [0, 1, 2].map(() => ({ got: [] as number[], calls: 0 }));
    const branches = endpoints.map((endpoint) => {
      const post = new FuncSink<number>(async (e) => {
        if (++endpoint.calls % 3 !== 0) throw new Error('503'); // two failures per success
        endpoint.got.push(e);
      });
      const retry = new RetryingSink(post, new Breaker(2, 1));
      return { post, retry, queue: new Queue(retry) };
    });
    const hub = new Broadcaster<number>(branches.map((b) => b.queue));
    for (let i = 0; i < 20; i++) await hub.write(i);
    await hub.close(); // closes the queues, which flush into the retrying sinks
    for (const [i, endpoint] of endpoints.entries()) {
      expect(endpoint.got).toEqual(Array.from({ length: 20 }, (_, k) => k));
      expect(branches[i]!.retry.stats()).toMatchObject({ delivered: 20, failed: 40, retried: 40 });
      expect(branches[i]!.queue.stats()).toMatchObject({ written: 20, delivered: 20, failed: 0 });
    }
    expect(hub.stats()).toMatchObject({ written: 20, delivered: 60 });
  });
});
