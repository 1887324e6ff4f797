import { describe, expect, it } from 'vitest';
import { Queue } from './Queue.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';
import { checkClose, DelayedSink, GateSink, TestSink, tick } from './testkit.js';

describe('Queue', () => {
  it('TestQueue: delayedSink(1 ms) → testSink(1000), 1000 concurrent writes, close flushes all', async () => {
    const nevents = 1000;
    const ts = new TestSink<string>(nevents);
    const eq = new Queue<string>(new DelayedSink(ts, 1));
    const events = Array.from({ length: nevents }, (_, i) => `event-${i + 1}`);
    const results = await Promise.allSettled(events.map((e) => eq.write(e)));
    expect(results.filter((r) => r.status !== 'fulfilled')).toEqual([]);
    expect(ts.events.length).toBeLessThan(nevents); // writers did not wait for delivery

    await checkClose(eq); // close flushes all 1000, then closes the sink (which asserts exactly 1000)
    expect(ts.failures).toEqual([]);
    expect(ts.events).toEqual(events);
    expect(ts.closed).toBe(true);
    expect(eq.stats()).toEqual({ written: 1000, delivered: 1000, failed: 0, length: 0, inFlight: 0 });
  });

  it('writers never wait; one write at a time reaches the destination, in order', async () => {
    const gate = new GateSink<number>();
    const q = new Queue<number>(gate);
    for (let i = 0; i < 5; i++) await q.write(i);
    await tick();
    expect(gate.waiting).toBe(1);
    expect(q.stats()).toMatchObject({ written: 5, length: 4, inFlight: 1 });
    for (let i = 0; i < 5; i++) {
      expect(gate.waiting).toBe(1);
      gate.release();
      await tick();
    }
    expect(gate.events).toEqual([0, 1, 2, 3, 4]);
    expect(q.stats()).toMatchObject({ delivered: 5, length: 0, inFlight: 0 });
  });

  it('a destination error drops that event (counted, reported) and the queue goes on', async () => {
    const got: number[] = [];
    const errors: unknown[] = [];
    const dst: Sink<number> = {
      write: async (e) => {
        if (e % 3 === 0) throw new Error(`bad ${e}`);
        got.push(e);
      },
      close: async () => {},
    };
    const q = new Queue<number>(dst, { onError: (error, info) => errors.push([(error as Error).message, info.op === 'write' && info.event]) });
    for (let i = 0; i < 7; i++) await q.write(i);
    await q.close();
    expect(got).toEqual([1, 2, 4, 5]);
    expect(errors).toEqual([
      ['bad 0', 0],
      ['bad 3', 3],
      ['bad 6', 6],
    ]);
    expect(q.stats()).toEqual({ written: 7, delivered: 4, failed: 3, length: 0, inFlight: 0 });
  });

  it('close waits for the in-flight write and the queue, then closes the destination', async () => {
    const log: string[] = [];
    const gate = new GateSink<number>();
    const dst: Sink<number> = {
      write: async (e) => {
        await gate.write(e);
        log.push(`write ${e}`);
      },
      close: async () => void log.push('close'),
    };
    const q = new Queue<number>(dst);
    await q.write(1);
    await q.write(2);
    let closed = false;
    const closing = q.close().then(() => (closed = true));
    await expect(q.write(3)).rejects.toBeInstanceOf(SinkClosedError);
    await tick();
    expect(closed).toBe(false);
    gate.release();
    await tick();
    expect(closed).toBe(false);
    gate.release();
    await closing;
    expect(log).toEqual(['write 1', 'write 2', 'close']);
  });

  it('close rejects with the destination close error; a second close resolves; an already closed destination is fine', async () => {
    const q = new Queue<number>({ write: async () => {}, close: () => Promise.reject(new Error('nope')) });
    await expect(q.close()).rejects.toThrow('nope');
    await expect(q.close()).resolves.toBeUndefined();

    const ts = new TestSink<number>(0);
    await ts.close();
    await expect(new Queue<number>(ts).close()).resolves.toBeUndefined();
  });
});
