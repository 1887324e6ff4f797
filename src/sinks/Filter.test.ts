import { describe, expect, it } from 'vitest';
import { Filter } from './Filter.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';
import { checkClose, TestSink } from './testkit.js';

describe('Filter', () => {
  it('TestFilter: 0..99, evens pass, testSink n=50; checkClose closes the destination', async () => {
    const ts = new TestSink<number>(50);
    const filter = new Filter<number>(ts, (e) => e % 2 === 0);
    for (let i = 0; i < 100; i++) await expect(filter.write(i)).resolves.toBeUndefined();
    await checkClose(filter);
    expect(ts.failures).toEqual([]);
    expect(ts.closed).toBe(true);
    expect(ts.events).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    expect(filter.stats()).toEqual({ written: 100, delivered: 50, dropped: 50, failed: 0 });
  });

  it('accepts a Matcher object', async () => {
    const ts = new TestSink<string>(1);
    const filter = new Filter<string>(ts, { match: (e) => e.startsWith('a') });
    await filter.write('apple');
    await filter.write('banana');
    expect(ts.events).toEqual(['apple']);
  });

  it("returns the destination's write error, and a throwing matcher's", async () => {
    const boom = new Error('boom');
    const dst: Sink<number> = { write: () => Promise.reject(boom), close: async () => {} };
    const filter = new Filter<number>(dst, (e) => {
      if (e < 0) throw new RangeError('negative');
      return true;
    });
    await expect(filter.write(1)).rejects.toBe(boom);
    await expect(filter.write(-1)).rejects.toThrow(RangeError);
    expect(filter.stats()).toMatchObject({ written: 2, failed: 1, delivered: 0 });
  });

  it("close returns the destination's close error once, except SinkClosedError", async () => {
    const failing = new Filter<number>({ write: async () => {}, close: () => Promise.reject(new Error('nope')) }, () => true);
    await expect(failing.close()).rejects.toThrow('nope');
    await expect(failing.close()).resolves.toBeUndefined();
    await expect(failing.write(1)).rejects.toBeInstanceOf(SinkClosedError);

    const ts = new TestSink<number>(0);
    await ts.close();
    await expect(new Filter<number>(ts, () => true).close()).resolves.toBeUndefined();
  });
});
