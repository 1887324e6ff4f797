import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedQueue, type OverflowPolicy } from './BoundedQueue.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';
import { SinkFullError } from './SinkFullError.js';
import { checkClose, GateSink, TestSink, tick } from './testkit.js';

/** Writes 1 (taken by the worker, in flight at the gate), then 2, 3 (queue full at capacity 2). */
async function fill(policy: OverflowPolicy): Promise<{ q: BoundedQueue<number>; gate: GateSink<number>; dropped: number[] }> {
  const gate = new GateSink<number>();
  const dropped: number[] = [];
  const q = new BoundedQueue<number>(gate, { capacity: 2, policy, onDrop: (e) => dropped.push(e) });
  await q.write(1);
  await tick();
  await q.write(2);
  await q.write(3);
  expect(q.stats()).toMatchObject({ length: 2, inFlight: 1 });
  return { q, gate, dropped };
}

async function drain(q: BoundedQueue<number>, gate: GateSink<number>): Promise<void> {
  const closing = q.close();
  while (q.stats().length + q.stats().inFlight > 0) {
    gate.release(true);
    await tick();
  }
  await closing;
}

describe('BoundedQueue', () => {
  it("'drop-oldest' evicts the oldest waiting event and accepts the new one", async () => {
    const { q, gate, dropped } = await fill('drop-oldest');
    await expect(q.write(4)).resolves.toBeUndefined();
    await expect(q.write(5)).resolves.toBeUndefined();
    expect(dropped).toEqual([2, 3]);
    await drain(q, gate);
    expect(gate.events).toEqual([1, 4, 5]);
    expect(q.stats()).toEqual({ written: 5, delivered: 3, failed: 0, dropped: 2, length: 0, inFlight: 0, blocked: 0 });
  });

  it("'drop-newest' rejects the incoming event with SinkFullError", async () => {
    const { q, gate, dropped } = await fill('drop-newest');
    const error = await q.write(4).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SinkFullError);
    expect((error as SinkFullError).capacity).toBe(2);
    expect((error as SinkFullError).message).toBe('events: sink full (capacity 2)');
    expect(dropped).toEqual([4]);
    gate.release(); // room for one more
    await tick();
    await expect(q.write(5)).resolves.toBeUndefined();
    await drain(q, gate);
    expect(gate.events).toEqual([1, 2, 3, 5]);
    expect(q.stats()).toMatchObject({ written: 5, delivered: 4, dropped: 1 });
  });

  it("'wait' makes writers wait for room, in order, dropping nothing", async () => {
    const { q, gate, dropped } = await fill('wait');
    let resolved = 0;
    const w4 = q.write(4).then(() => resolved++);
    const w5 = q.write(5).then(() => resolved++);
    await tick();
    expect(resolved).toBe(0);
    expect(q.stats().blocked).toBe(2);
    gate.release(); // 1 done, worker takes 2, 4 moves in
    await tick();
    expect(resolved).toBe(1);
    expect(q.stats()).toMatchObject({ length: 2, blocked: 1 });
    gate.release(); // 2 done, worker takes 3, 5 moves in
    await tick();
    expect(resolved).toBe(2);
    await Promise.all([w4, w5]);
    await drain(q, gate);
    expect(dropped).toEqual([]);
    expect(gate.events).toEqual([1, 2, 3, 4, 5]);
    expect(q.stats()).toEqual({ written: 5, delivered: 5, failed: 0, dropped: 0, length: 0, inFlight: 0, blocked: 0 });
  });

  it("close rejects writers still waiting with SinkClosedError and counts them as dropped", async () => {
    const { q, gate } = await fill('wait');
    const waiting = q.write(4);
    const closing = q.close();
    await expect(waiting).rejects.toBeInstanceOf(SinkClosedError);
    gate.release(true);
    await tick();
    gate.release(true);
    await tick();
    gate.release(true);
    await closing;
    expect(gate.events).toEqual([1, 2, 3]);
    expect(gate.closed).toBe(true);
    expect(q.stats()).toMatchObject({ written: 4, delivered: 3, dropped: 1, blocked: 0 });
  });

  it('passes checkClose and closes its destination after the flush', async () => {
    const ts = new TestSink<string>(3);
    const q = new BoundedQueue<string>(ts, { capacity: 10 });
    for (const e of ['a', 'b', 'c']) await q.write(e);
    await checkClose(q);
    expect(ts.failures).toEqual([]);
    expect(ts.events).toEqual(['a', 'b', 'c']);
  });

  it('validates its options', () => {
    const dst = new TestSink(0);
    expect(() => new BoundedQueue(dst, { capacity: 0 })).toThrow(RangeError);
    expect(() => new BoundedQueue(dst, { capacity: 2.5 })).toThrow(RangeError);
    expect(() => new BoundedQueue(dst, { capacity: 1, policy: 'nope' as OverflowPolicy })).toThrow(RangeError);
    expect(new BoundedQueue(dst, { capacity: 1 }).policy).toBe('wait');
  });

  it('property: delivered + failed + dropped = written, delivered keep write order, length <= capacity', async () => {
    const step = fc.oneof(fc.constant('write' as const), fc.constant('tick' as const));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<OverflowPolicy>('drop-oldest', 'drop-newest', 'wait'),
        fc.integer({ min: 1, max: 5 }),
        fc.array(step, { maxLength: 60 }),
        fc.boolean(),
        async (policy, capacity, steps, flaky) => {
          const delivered: number[] = [];
          const dst: Sink<number> = {
            write: async (e) => {
              await tick();
              if (flaky && e % 5 === 4) throw new Error('flaky');
              delivered.push(e);
            },
            close: async () => {},
          };
          const droppedEvents: number[] = [];
          const q = new BoundedQueue<number>(dst, { capacity, policy, onDrop: (e) => droppedEvents.push(e) });
          const writes: Promise<void>[] = [];
          const refused: number[] = [];
          let n = 0;
          const check = (): void => {
            const s = q.stats();
            expect(s.length).toBeLessThanOrEqual(capacity);
            expect(s.delivered + s.failed + s.dropped + s.length + s.inFlight + s.blocked).toBe(s.written);
          };
          for (const s of steps) {
            if (s === 'tick') await tick();
            else {
              const e = n++;
              writes.push(
                q.write(e).catch((error: unknown) => {
                  expect(error).toBeInstanceOf(SinkFullError);
                  refused.push(e);
                }),
              );
            }
            check();
          }
          await Promise.all(writes); // with 'wait', every writer gets room eventually
          await q.close();
          check();
          const s = q.stats();
          expect(s.written).toBe(n);
          expect(s.delivered).toBe(delivered.length);
          expect(s.dropped).toBe(droppedEvents.length);
          expect(delivered).toEqual([...delivered].sort((a, b) => a - b)); // order preserved
          if (!flaky) expect(s.delivered + s.dropped).toBe(n);
          if (policy === 'wait') expect(s.dropped).toBe(0);
          if (policy === 'drop-newest') expect(refused.sort((a, b) => a - b)).toEqual(droppedEvents);
          else expect(refused).toEqual([]);
          // every event is accounted for exactly once
          const failed = Array.from({ length: n }, (_, i) => i).filter((i) => !delivered.includes(i) && !droppedEvents.includes(i));
          expect(failed.length).toBe(s.failed);
          if (flaky) for (const e of failed) expect(e % 5).toBe(4);
        },
      ),
      { numRuns: 150 },
    );
  });
});
