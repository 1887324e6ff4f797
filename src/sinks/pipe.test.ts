import { describe, expect, it } from 'vitest';
import { Channel } from './Channel.js';
import { FuncSink } from './FuncSink.js';
import { pipe } from './pipe.js';
import { Queue } from './Queue.js';
import { GateSink, TestSink, tick } from './testkit.js';

describe('pipe', () => {
  it('writes every item of an async iterable and resolves with the count when it ends', async () => {
    async function* numbers(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) yield i;
    }
    const ts = new TestSink<number>(5);
    await expect(pipe(numbers(), ts)).resolves.toBe(5);
    expect(ts.events).toEqual([0, 1, 2, 3, 4]);
    expect(ts.closed).toBe(false); // pipe does not close the sink
  });

  it('accepts a plain iterable', async () => {
    const ts = new TestSink<string>(3);
    await expect(pipe(['a', 'b', 'c'], ts)).resolves.toBe(3);
    expect(ts.events).toEqual(['a', 'b', 'c']);
  });

  it('backpressure: the next item is read only after the previous write resolved', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 3; i++) {
        pulled++;
        yield i;
      }
    }
    const gate = new GateSink<number>();
    const piping = pipe(source(), gate);
    await tick();
    expect(pulled).toBe(1);
    gate.release();
    await tick();
    expect(pulled).toBe(2);
    gate.release();
    await tick();
    gate.release();
    await expect(piping).resolves.toBe(3);
    expect(gate.events).toEqual([0, 1, 2]);
  });

  it('rejects with the first write error and ends the source', async () => {
    let finalized = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finalized = true;
      }
    }
    const sink = new FuncSink<number>((e) => {
      if (e === 2) throw new Error('two');
    });
    await expect(pipe(source(), sink)).rejects.toThrow('two');
    await tick();
    expect(finalized).toBe(true);
    expect(sink.stats()).toEqual({ written: 3, delivered: 2, failed: 1 });
  });

  it('an abort stops it even while the source waits, rejecting with the reason', async () => {
    const ch = new Channel<number>();
    const ts = new TestSink<number>(2);
    const controller = new AbortController();
    const piping = pipe(ch, ts, { signal: controller.signal });
    await ch.write(1);
    await ch.write(2);
    await tick();
    controller.abort(new Error('stop'));
    await expect(piping).rejects.toThrow('stop');
    expect(ts.events).toEqual([1, 2]);
    const aborted = new AbortController();
    aborted.abort(new Error('already'));
    await expect(pipe([1], ts, { signal: aborted.signal })).rejects.toThrow('already');
  });

  it('Channel → pipe → Queue: ends when the channel is closed and drained', async () => {
    const ch = new Channel<number>(4);
    const ts = new TestSink<number>(10);
    const q = new Queue<number>(ts);
    const piping = pipe(ch, q);
    for (let i = 0; i < 10; i++) await ch.write(i);
    await ch.close();
    await expect(piping).resolves.toBe(10);
    await q.close();
    expect(ts.failures).toEqual([]);
    expect(ts.events).toEqual(Array.from({ length: 10 }, (_, i) => i));
  });
});
