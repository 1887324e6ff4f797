import { describe, expect, it } from 'vitest';
import { Channel } from './Channel.js';
import { SinkClosedError } from './SinkClosedError.js';
import { tick } from './testkit.js';

/** Tracks whether a promise settled, and how. */
function track(promise: Promise<unknown>): { state: 'pending' | 'fulfilled' | 'rejected'; error?: unknown } {
  const t: { state: 'pending' | 'fulfilled' | 'rejected'; error?: unknown } = { state: 'pending' };
  promise.then(
    () => (t.state = 'fulfilled'),
    (error: unknown) => {
      t.state = 'rejected';
      t.error = error;
    },
  );
  return t;
}

describe('Channel', () => {
  it('TestChannel: 100 concurrent writes with a reader; after close 100 more reject with SinkClosedError', async () => {
    const nevents = 100;
    const sink = new Channel<string>(0);
    const received: string[] = [];
    const reader = (async () => {
      for await (const event of sink) received.push(event);
    })();

    const writes = await Promise.allSettled(Array.from({ length: nevents }, (_, i) => sink.write(`event-${i + 1}`)));
    expect(writes.filter((r) => r.status !== 'fulfilled')).toEqual([]);
    await sink.close();

    const after = await Promise.allSettled(Array.from({ length: nevents }, (_, i) => sink.write(`event-${i + 1}`)));
    for (const r of after) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(SinkClosedError);
    }

    await reader; // iteration ends after close
    await expect(sink.close()).resolves.toBeUndefined();
    await expect(sink.done).resolves.toBeUndefined();
    expect(sink.signal.aborted).toBe(true);
    expect(sink.signal.reason).toBeInstanceOf(SinkClosedError);
    expect(received.length).toBe(nevents);
    expect(new Set(received).size).toBe(nevents);
    expect(sink.stats()).toEqual({ written: 100, delivered: 100, dropped: 0, buffered: 0, blocked: 0, readers: 0 });
  });

  it('unbuffered: a write resolves only when a reader takes the event', async () => {
    const ch = new Channel<number>();
    const w = track(ch.write(1));
    await tick();
    expect(w.state).toBe('pending');
    expect(ch.stats().blocked).toBe(1);
    const it = ch[Symbol.asyncIterator]();
    await expect(it.next()).resolves.toEqual({ value: 1, done: false });
    await tick();
    expect(w.state).toBe('fulfilled');
  });

  it('a waiting reader gets the next write at once', async () => {
    const ch = new Channel<number>();
    const it = ch[Symbol.asyncIterator]();
    const next = it.next();
    expect(ch.stats().readers).toBe(1);
    await ch.write(7);
    await expect(next).resolves.toEqual({ value: 7, done: false });
  });

  it('buffered: writes resolve while the buffer has room, then wait; order is kept', async () => {
    const ch = new Channel<number>(2);
    await ch.write(1);
    await ch.write(2);
    const third = track(ch.write(3));
    await tick();
    expect(third.state).toBe('pending');
    expect(ch.stats()).toMatchObject({ buffered: 2, blocked: 1 });
    const it = ch[Symbol.asyncIterator]();
    await expect(it.next()).resolves.toEqual({ value: 1, done: false });
    await tick();
    expect(third.state).toBe('fulfilled'); // moved into the buffer
    expect(ch.stats()).toMatchObject({ buffered: 2, blocked: 0 });
    await expect(it.next()).resolves.toEqual({ value: 2, done: false });
    await expect(it.next()).resolves.toEqual({ value: 3, done: false });
  });

  it('close rejects blocked writers, keeps accepted events readable, then ends iteration', async () => {
    const ch = new Channel<number>(1);
    await ch.write(1);
    const blocked = ch.write(2);
    await ch.close();
    await expect(blocked).rejects.toBeInstanceOf(SinkClosedError);
    const got: number[] = [];
    for await (const e of ch) got.push(e);
    expect(got).toEqual([1]);
    expect(ch.stats()).toMatchObject({ written: 2, delivered: 1, dropped: 1, buffered: 0 });
  });

  it('close ends waiting readers', async () => {
    const ch = new Channel<number>();
    const a = ch[Symbol.asyncIterator]().next();
    const b = ch[Symbol.asyncIterator]().next();
    await ch.close();
    await expect(a).resolves.toEqual({ value: undefined, done: true });
    await expect(b).resolves.toEqual({ value: undefined, done: true });
  });

  it('several readers share the events: each event goes to exactly one', async () => {
    const ch = new Channel<number>();
    const seen: number[][] = [[], [], []];
    const readers = seen.map(async (got) => {
      for await (const e of ch) {
        got.push(e);
        await tick();
      }
    });
    for (let i = 0; i < 60; i++) await ch.write(i);
    await ch.close();
    await Promise.all(readers);
    expect(seen.flat().sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    for (const got of seen) expect(got.length).toBeGreaterThan(0);
  });

  it('breaking out of for-await does not close the channel', async () => {
    const ch = new Channel<number>(3);
    await ch.write(1);
    await ch.write(2);
    for await (const e of ch) {
      expect(e).toBe(1);
      break;
    }
    expect(ch.closed).toBe(false);
    await expect(ch[Symbol.asyncIterator]().next()).resolves.toEqual({ value: 2, done: false });
  });

  it('rejects a bad capacity', () => {
    expect(() => new Channel(-1)).toThrow(RangeError);
    expect(() => new Channel(1.5)).toThrow(RangeError);
  });
});
