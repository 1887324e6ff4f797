import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { open } from 'lmdb';
import { counterHex, counterOf, ID_PREFIX_LENGTH } from '../../src/core/ids.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import { MemoryStore } from '../../src/store/memory.js';
import { encodeRecord } from '../../src/store/recordCodec.js';
import type { EventInput } from '../../src/core/event.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The LMDB layout (docs/store.md): events in chunks of consecutive seqs, producer ids one by one,
 * minted ids by run. These tests drive it where the contract suite does not reach: chunk
 * boundaries, retention cutting a chunk or a run in two, purges, restarts, and version-1 data.
 */

const payload = (n: number, size: number): Uint8Array => Buffer.from(`{"n":${n},"pad":"${'p'.repeat(size)}"}`);

async function withLmdb<T>(run: (store: LmdbStore, path: string, reopen: () => Promise<LmdbStore>) => Promise<T>): Promise<T> {
  const dir = tempDir();
  let store = new LmdbStore({ path: dir.path });
  await store.open();
  try {
    return await run(store, dir.path, async () => {
      await store.close();
      store = new LmdbStore({ path: dir.path });
      await store.open();
      return store;
    });
  } finally {
    await store.close();
    dir.cleanup();
  }
}

/** Entry counts of the event and id databases, read raw while the store is closed. */
async function counts(path: string): Promise<Record<string, number>> {
  const env = open({ path, maxDbs: 8 });
  const out: Record<string, number> = {};
  for (const name of ['events', 'ids', 'runs']) out[name] = env.openDB({ name, encoding: name === 'events' ? 'binary' : 'msgpack' }).getKeysCount();
  await env.close();
  return out;
}

async function readAll(store: Store, stream: string): Promise<Array<{ seq: number; id: string; data: string }>> {
  const out: Array<{ seq: number; id: string; data: string }> = [];
  let after = 0;
  for (;;) {
    const batch = await store.read(stream, { after, limit: 97 });
    if (batch.length === 0) return out;
    for (const e of batch) out.push({ seq: e.seq, id: e.id, data: Buffer.from(e.data).toString() });
    after = batch[batch.length - 1]!.seq;
  }
}

describe('lmdb chunked layout', () => {
  it('reads any range across chunk boundaries and finds every minted id, also after a restart', async () => {
    await withLmdb(async (first, path, reopen) => {
      // 3,000 events of ~200 bytes in one call: several 64 KiB chunks, one id run per chunk stretch.
      const results = await first.append(Array.from({ length: 3000 }, (_, i) => ({ stream: 'big', data: payload(i, 180) })));
      expect(results.map((r) => r.seq)).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));
      for (const after of [0, 1, 299, 300, 301, 1500, 2998, 2999, 3000]) {
        for (const limit of [1, 7, 500, 5000]) {
          const events = await first.read('big', { after, limit });
          const expected = Math.max(0, Math.min(limit, 3000 - after));
          expect(events.length).toBe(expected);
          events.forEach((e, k) => {
            expect(e.seq).toBe(after + 1 + k);
            expect(e.id).toBe(results[after + k]!.id);
            expect(JSON.parse(Buffer.from(e.data).toString()).n).toBe(after + k);
          });
        }
      }
      const store = await reopen();
      for (const r of results) expect(await store.lookupId(r.id)).toEqual({ stream: 'big', seq: r.seq });

      // A minted id sent back by a producer is a duplicate of the original.
      const again = await store.append([{ stream: 'other', id: results[1234]!.id, data: payload(0, 1) }]);
      expect(again[0]).toMatchObject({ stream: 'big', seq: 1235, duplicate: true });
      // New ids continue above every stored one.
      const [next] = await store.append([{ stream: 'big', data: payload(3000, 1) }]);
      expect(next!.id > results[2999]!.id).toBe(true);
      // Ids just outside the run (same prefix, counter one past either end) were never minted.
      const shifted = (id: string, by: number): string => id.slice(0, ID_PREFIX_LENGTH) + counterHex(counterOf(id)! + by);
      expect(await store.lookupId(shifted(results[2999]!.id, 1))).toBeUndefined();
      expect(await store.lookupId(shifted(results[0]!.id, -1))).toBeUndefined();
      await store.close();
      const c = await counts(path);
      expect(c.ids).toBe(0);
      expect(c.events).toBeLessThan(20);
    });
  });

  it('retention cutting a chunk and a run in two frees exactly the removed ids, then drops their storage', async () => {
    await withLmdb(async (store, path, reopen) => {
      const inputs: EventInput[] = Array.from({ length: 1000 }, (_, i) => ({ stream: 'r', ...(i % 10 === 0 ? { id: `p-${i}` } : {}), data: payload(i, 150) }));
      const results = await store.append(inputs);
      await store.putStream('r', { retention: { maxCount: 555 } });
      expect(await store.applyRetention()).toBe(445);
      expect((await store.getStream('r'))!.firstSeq).toBe(446);
      expect((await readAll(store, 'r')).map((e) => e.seq)).toEqual(Array.from({ length: 555 }, (_, i) => 446 + i));
      for (const r of results) expect(await store.lookupId(r.id)).toEqual(r.seq >= 446 ? { stream: 'r', seq: r.seq } : undefined);
      // A removed producer id and a removed minted id are free again.
      const reused = await store.append([{ stream: 'r', id: 'p-10', data: payload(1, 1) }, { stream: 'r', id: results[12]!.id, data: payload(2, 1) }]);
      expect(reused.map((r) => r.duplicate)).toEqual([false, false]);
      expect(await store.lookupId('p-10')).toEqual({ stream: 'r', seq: 1001 });
      expect(await store.lookupId(results[12]!.id)).toEqual({ stream: 'r', seq: 1002 });
      // Everything but the newest two goes: every chunk and run of the first append with it.
      await store.putStream('r', { retention: { maxCount: 2 } });
      await store.applyRetention();
      const s = await reopen();
      expect((await readAll(s, 'r')).map((e) => e.seq)).toEqual([1001, 1002]);
      await s.close();
      expect(await counts(path)).toEqual({ events: 1, ids: 2, runs: 0 });
    });
  });

  it('purges a deleted stream of chunks, producer ids and runs, leaving other streams alone', async () => {
    await withLmdb(async (first, path, reopen) => {
      for (let i = 0; i < 5; i++) {
        await Promise.all([
          first.append(Array.from({ length: 700 }, (_, k) => ({ stream: 'gone', ...(k % 3 === 0 ? { id: `g-${i}-${k}` } : {}), data: payload(k, 120) }))),
          first.append([{ stream: 'kept', data: payload(i, 10) }]),
        ]);
      }
      expect(await first.deleteStream('gone')).toBe(true);
      await new Promise((r) => setTimeout(r, 100));
      // The purge runs in the background and goes on after a restart: look until it is done.
      let store = first;
      let c: Record<string, number> = {};
      for (let i = 0; i < 50; i++) {
        await store.close();
        c = await counts(path);
        store = await reopen();
        if (c.ids === 0 && c.events === 5) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(c).toEqual({ events: 5, ids: 0, runs: 5 }); // 'kept': a value and a run per commit
      expect((await readAll(store, 'kept')).length).toBe(5);
      expect((await store.append([{ stream: 'gone', id: 'g-0-0', data: payload(0, 1) }]))[0]).toMatchObject({ seq: 1, duplicate: false });
    });
  });

  it('reads data written before chunks (one record per key, every id indexed) and keeps working on it', async () => {
    const dir = tempDir();
    try {
      // The version-1 layout, as the store wrote it before chunks.
      const env = open({ path: dir.path, maxDbs: 8 });
      const events = env.openDB({ name: 'events', encoding: 'binary' });
      const ids = env.openDB({ name: 'ids' });
      const streams = env.openDB({ name: 'streams' });
      const sys = env.openDB({ name: 'sys' });
      const time = '2026-01-02T03:04:05.678Z';
      await env.transaction(() => {
        for (let seq = 1; seq <= 20; seq++) {
          const id = seq % 2 === 0 ? `018f0000-0000-7000-8000-0000000000${String(seq).padStart(2, '0')}` : `old-${seq}`;
          events.putSync([1, seq], encodeRecord({ stream: '', id, type: 'old.type', time, contentType: 'text/plain', data: Buffer.from(`v1-${seq}`) }));
          ids.putSync(id, [1, seq]);
        }
        streams.putSync('legacy', { name: 'legacy', sid: 1, created: time, head: 20, first: 1, bytes: 20 * 5 - 9, retention: {} });
        sys.putSync('nextSid', 2);
      });
      await env.close();

      const store = new LmdbStore({ path: dir.path });
      await store.open();
      const old = await readAll(store, 'legacy');
      expect(old.map((e) => e.data)).toEqual(Array.from({ length: 20 }, (_, i) => `v1-${i + 1}`));
      expect(await store.lookupId('old-3')).toEqual({ stream: 'legacy', seq: 3 });
      expect(await store.lookupId('018f0000-0000-7000-8000-000000000004')).toEqual({ stream: 'legacy', seq: 4 });
      expect((await store.append([{ stream: 'legacy', id: 'old-5', data: payload(0, 1) }]))[0]).toMatchObject({ seq: 5, duplicate: true });
      const added = await store.append(Array.from({ length: 30 }, (_, i) => ({ stream: 'legacy', data: payload(i, 1) })));
      expect(added[0]!.seq).toBe(21);
      expect((await readAll(store, 'legacy')).map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      await store.putStream('legacy', { retention: { maxCount: 25 } });
      expect(await store.applyRetention()).toBe(25);
      expect(await store.lookupId('old-3')).toBeUndefined();
      expect(await store.lookupId(added[4]!.id)).toBeUndefined();
      expect(await store.lookupId(added[5]!.id)).toEqual({ stream: 'legacy', seq: 26 });
      await store.close();
      expect((await counts(dir.path)).ids).toBe(0);
    } finally {
      dir.cleanup();
    }
  });

  it('keeps an id stored again in a new stream while the deleted stream that held it is purged', async () => {
    // Found by the fuzz below: the purge of the deleted stream read the id index, which did not
    // show the new event's id yet (its batch was still committing), and removed the id.
    await withLmdb(async (store) => {
      for (let round = 0; round < 10; round++) {
        await store.append([{ stream: 'b', id: 'x1', data: payload(0, 0) }, { stream: 'a', data: payload(1, 0) }]);
        await Promise.all([store.deleteStream('a'), store.deleteStream('b')]);
        // The purge of "a" is now being committed; the append goes into the next batch, which is
        // still committing when the purge of "b" looks "x1" up.
        await new Promise((r) => setImmediate(r));
        await store.append([{ stream: 'a', id: 'x1', data: payload(2, 0) }]);
        await new Promise((r) => setTimeout(r, 20)); // the purge finishes
        expect(await store.lookupId('x1')).toEqual({ stream: 'a', seq: 1 });
        await store.deleteStream('a');
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });

  it('answers like the memory store under random appends, duplicates, retention and deletes (fuzzed)', async () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.array(fc.record({ stream: fc.constantFrom('a', 'b', 'c'), id: fc.option(fc.constantFrom('x1', 'x2', 'x3', 'x4', 'x5', 'x6'), { nil: undefined }), size: fc.integer({ min: 0, max: 9000 }) }), { minLength: 1, maxLength: 40 }).map((events) => ({ kind: 'append' as const, events })) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('retain' as const), stream: fc.constantFrom('a', 'b', 'c'), maxCount: fc.integer({ min: 0, max: 30 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), stream: fc.constantFrom('a', 'b', 'c') }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('resend' as const), pick: fc.nat() }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 12 }), async (steps) => {
        await withLmdb(async (lmdb) => {
          const memory = new MemoryStore();
          await memory.open();
          // Minted ids differ between the stores: pairs of (lmdb id, memory id) for the same event.
          const minted: Array<[string, string]> = [];
          let n = 0;
          for (const step of steps) {
            // The operations of a step run concurrently, so they share commits.
            const run = async (store: Store, which: 0 | 1): Promise<unknown> =>
              Promise.all(
                step.map(async (o) => {
                  if (o.kind === 'append') {
                    const inputs = o.events.map((e) => ({ stream: e.stream, ...(e.id ? { id: e.id } : {}), data: payload(n++, e.size) }));
                    return (await store.append(inputs)).map((r) => ({ ...r, id: inputs.find((i) => i.id === r.id) ? r.id : `minted`, raw: r.id }));
                  }
                  if (o.kind === 'retain') {
                    if (await store.getStream(o.stream)) await store.putStream(o.stream, { retention: { maxCount: o.maxCount } });
                    return store.applyRetention();
                  }
                  if (o.kind === 'delete') return store.deleteStream(o.stream);
                  const pair = minted[o.pick % Math.max(1, minted.length)];
                  if (!pair) return undefined;
                  const [r] = await store.append([{ stream: 'a', id: pair[which], data: payload(0, 3) }]);
                  return { seq: r!.seq, duplicate: r!.duplicate, stream: r!.stream };
                }),
              );
            const nBefore = n;
            const fromLmdb = (await run(lmdb, 0)) as unknown[];
            n = nBefore;
            const fromMemory = (await run(memory, 1)) as unknown[];
            const strip = (x: unknown): unknown => JSON.parse(JSON.stringify(x, (k, v) => (k === 'raw' ? undefined : v)));
            expect(strip(fromLmdb)).toEqual(strip(fromMemory));
            fromLmdb.forEach((res, i) => {
              if (step[i]!.kind !== 'append') return;
              (res as Array<{ id: string; raw: string }>).forEach((r, k) => {
                if (r.id === 'minted') minted.push([r.raw, (fromMemory[i] as Array<{ raw: string }>)[k]!.raw]);
              });
            });
          }
          const info = async (store: Store, stream: string): Promise<unknown> => {
            const i = await store.getStream(stream);
            return i && { ...i, created: undefined };
          };
          for (const stream of ['a', 'b', 'c']) {
            expect(await info(lmdb, stream)).toEqual(await info(memory, stream));
            if (await memory.getStream(stream)) {
              const [l, m] = [await readAll(lmdb, stream), await readAll(memory, stream)];
              expect(l.map((e) => [e.seq, e.data])).toEqual(m.map((e) => [e.seq, e.data]));
            }
          }
          for (const [l, m] of minted) expect(await lmdb.lookupId(l)).toEqual(await memory.lookupId(m));
          for (const id of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6']) expect(await lmdb.lookupId(id)).toEqual(await memory.lookupId(id));
          await memory.close();
        });
      }),
      { numRuns: 25 },
    );
  }, 60_000);
});
