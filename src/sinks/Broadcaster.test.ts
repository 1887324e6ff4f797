import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Broadcaster } from './Broadcaster.js';
import type { Sink } from './Sink.js';
import { SinkClosedError } from './SinkClosedError.js';
import { checkClose, GateSink, TestSink, tick } from './testkit.js';

/** A sink appending `${name}:${event}` to a shared log. */
const logSink = (name: string, log: string[]): Sink<string> => ({
  write: async (event) => void log.push(`${name}:${event}`),
  close: async () => void log.push(`${name}:closed`),
});

describe('Broadcaster', () => {
  it('TestBroadcaster: 10 sinks added twice, 1000 concurrent writes, removes, re-adds, checkClose', async () => {
    const nEvents = 1000;
    const b = new Broadcaster<string>();
    const sinks = Array.from({ length: 10 }, () => new TestSink<string>(nEvents));
    for (const sink of sinks) {
      await expect(b.add(sink)).resolves.toBeUndefined();
      await expect(b.add(sink)).resolves.toBeUndefined(); // no-op
    }
    expect(b.stats().sinks).toBe(10);

    const events = Array.from({ length: nEvents }, (_, i) => `event-${i + 1}`);
    const results = await Promise.allSettled(events.map((e) => b.write(e)));
    expect(results.filter((r) => r.status !== 'fulfilled')).toEqual([]);

    for (const sink of sinks) await expect(b.remove(sink)).resolves.toBeUndefined();
    expect(b.stats().sinks).toBe(0);
    // One more must reach no sink (a TestSink would record a failure at 1001).
    await expect(b.write('onemore')).resolves.toBeUndefined();
    for (const sink of sinks) await expect(b.add(sink)).resolves.toBeUndefined();

    await checkClose(b);
    for (const sink of sinks) {
      expect(sink.failures).toEqual([]);
      expect(sink.events).toEqual(events); // all of them, in write order
      expect(sink.closed).toBe(true);
    }
    expect(b.stats()).toEqual({ written: 1001, delivered: 10_000, failed: 0, removed: 0, sinks: 10, pending: 0 });
  });

  it('dispatches each event to every sink in insertion order, one event at a time', async () => {
    const log: string[] = [];
    const [a, b2, c] = [logSink('a', log), logSink('b', log), logSink('c', log)];
    const b = new Broadcaster<string>([a, b2, a]); // a given twice is attached once
    await b.add(c);
    await Promise.all([b.write('1'), b.write('2')]);
    await b.close();
    expect(log).toEqual(['a:1', 'b:1', 'c:1', 'a:2', 'b:2', 'c:2', 'a:closed', 'b:closed', 'c:closed']);
  });

  it('write resolves when the loop takes the event, not when it is delivered', async () => {
    const gate = new GateSink<number>();
    const b = new Broadcaster<number>([gate]);
    let first = false;
    let second = false;
    void b.write(1).then(() => (first = true));
    void b.write(2).then(() => (second = true));
    await tick();
    expect(first).toBe(true); // taken, though the sink has not finished
    expect(gate.events).toEqual([]);
    expect(second).toBe(false); // the loop is busy dispatching event 1
    expect(b.stats().pending).toBe(1);
    gate.release();
    await tick();
    expect(second).toBe(true);
    expect(gate.events).toEqual([1]);
    gate.release();
    await tick();
    expect(gate.events).toEqual([1, 2]);
  });

  it('removes a sink that rejects with SinkClosedError; the others keep receiving', async () => {
    const closed = new TestSink<string>(0);
    await closed.close();
    const ok = new TestSink<string>(2);
    const b = new Broadcaster<string>([closed, ok]);
    await b.write('x');
    await b.write('y');
    await b.close();
    expect(ok.events).toEqual(['x', 'y']);
    expect(b.stats()).toMatchObject({ written: 2, delivered: 2, removed: 1, failed: 0, sinks: 1 });
  });

  it('reports other errors to onError; that sink misses the event, the others do not', async () => {
    const errors: unknown[][] = [];
    const boom = new Error('boom');
    const failing: Sink<number> = {
      write: async (e) => {
        if (e === 2) throw boom;
      },
      close: async () => {
        throw new Error('close failed');
      },
    };
    const after = new TestSink<number>(3);
    const b = new Broadcaster<number>([failing, after], { onError: (error, info) => errors.push([error, info]) });
    await b.write(1);
    await b.write(2);
    await b.write(3);
    await b.close();
    expect(after.events).toEqual([1, 2, 3]);
    expect(after.failures).toEqual([]);
    expect(errors).toEqual([
      [boom, { op: 'write', sink: failing, event: 2 }],
      [new Error('close failed'), { op: 'close', sink: failing }],
    ]);
    expect(b.stats()).toMatchObject({ written: 3, delivered: 5, failed: 1, sinks: 2 });
  });

  it('a throwing onError does not stop the loop', async () => {
    const ok = new TestSink<number>(2);
    const bad: Sink<number> = { write: () => Promise.reject(new Error('x')), close: async () => {} };
    const b = new Broadcaster<number>([bad, ok], {
      onError: () => {
        throw new Error('handler');
      },
    });
    await b.write(1);
    await b.write(2);
    await b.close();
    expect(ok.events).toEqual([1, 2]);
  });

  it('close dispatches every write requested before it, then closes the sinks; everything after rejects', async () => {
    const sink = new TestSink<number>(100);
    const b = new Broadcaster<number>([sink]);
    const writes = Array.from({ length: 100 }, (_, i) => b.write(i));
    const closing = b.close();
    await expect(b.write(100)).rejects.toBeInstanceOf(SinkClosedError);
    await expect(b.add(new TestSink(0))).rejects.toBeInstanceOf(SinkClosedError);
    await expect(b.remove(sink)).rejects.toBeInstanceOf(SinkClosedError);
    await Promise.all(writes);
    await closing;
    expect(sink.closed).toBe(true);
    expect(sink.failures).toEqual([]);
    expect(sink.events).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await expect(b.close()).resolves.toBeUndefined();
  });

  it('remove does not close the sink; a re-added sink goes last', async () => {
    const log: string[] = [];
    const a = logSink('a', log);
    const c = logSink('c', log);
    const b = new Broadcaster<string>([a, c]);
    await b.remove(a);
    await b.write('1');
    await b.add(a);
    await b.write('2');
    expect(log).toEqual(['c:1', 'c:2', 'a:2']);
  });

  it('property: each sink gets exactly the events written while it was attached (call order), in order', async () => {
    const command = fc.oneof(
      fc.record({ op: fc.constant('add' as const), sink: fc.nat(3) }),
      fc.record({ op: fc.constant('remove' as const), sink: fc.nat(3) }),
      fc.record({ op: fc.constant('write' as const) }),
      fc.record({ op: fc.constant('settle' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 40 }), fc.subarray([0, 1, 2, 3]), async (commands, initial) => {
        const received: number[][] = [[], [], [], []];
        const sinks = received.map<Sink<number>>((got) => ({
          write: async (e) => {
            await Promise.resolve();
            got.push(e);
          },
          close: async () => {},
        }));
        const b = new Broadcaster<number>(initial.map((i) => sinks[i]!));
        const attached = new Set(initial);
        const expected: number[][] = [[], [], [], []];
        const outstanding: Promise<void>[] = [];
        let next = 0;
        for (const c of commands) {
          if (c.op === 'settle') {
            await Promise.all(outstanding.splice(0));
          } else if (c.op === 'write') {
            const e = next++;
            for (const i of [...attached].sort()) expected[i]!.push(e);
            outstanding.push(b.write(e));
          } else if (c.op === 'add') {
            attached.add(c.sink);
            outstanding.push(b.add(sinks[c.sink]!));
          } else {
            attached.delete(c.sink);
            outstanding.push(b.remove(sinks[c.sink]!));
          }
        }
        await Promise.all(outstanding);
        await b.close();
        expect(received).toEqual(expected);
        expect(b.stats().written).toBe(next);
        expect(b.stats().delivered).toBe(expected.flat().length);
      }),
      { numRuns: 200 },
    );
  });
});
