import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { HeraldError } from '../../src/core/errors.js';

/** What each store implementation's test file supplies to the shared contract. */
export interface StoreHarness {
  store: Store;
  /** Closes the store and opens a new instance on the same data (durable stores only). */
  reopen?: () => Promise<Store>;
  cleanup: () => Promise<void>;
}

/**
 * A harness for a durable store: `make` builds an instance on the same data each time, so
 * `reopen` closes the store and opens a new one; `cleanup` closes it, then runs `after`.
 */
export function reopenableHarness(make: () => Store, after: () => void = () => {}): StoreHarness {
  let store = make();
  return {
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = make();
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      after();
    },
  };
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HeraldError);
  expect((err as HeraldError).code).toBe(code);
}

/** The one contract every store passes (DESIGN.md §3). */
export function storeContract(name: string, makeHarness: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    let h: StoreHarness;
    let store: Store;

    beforeEach(async () => {
      h = await makeHarness();
      store = h.store;
      await store.open();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('append', () => {
      it('assigns seq 1 and fills in id, type, content type and time', async () => {
        const before = new Date().toISOString();
        const [r] = await store.append([{ stream: 'orders', data: bytes('{"a":1}') }]);
        expect(r).toMatchObject({ stream: 'orders', seq: 1, duplicate: false });
        expect(r!.id).toMatch(UUID_V7);
        const [e] = await store.read('orders');
        expect(e).toMatchObject({ stream: 'orders', seq: 1, id: r!.id, type: 'message', contentType: 'application/octet-stream' });
        expect(e!.time >= before).toBe(true);
        expect(dec.decode(e!.data)).toBe('{"a":1}');
      });

      it('keeps every field and the payload byte-exact', async () => {
        const data = new Uint8Array(256).map((_, i) => i);
        await store.append([{ stream: 's', id: 'evt-1', type: 'order.created', subject: 'user-7', contentType: 'application/x-raw', data, headers: { 'ce-source': '/shop' } }]);
        const [e] = await store.read('s');
        expect(e).toMatchObject({ id: 'evt-1', type: 'order.created', subject: 'user-7', contentType: 'application/x-raw', headers: { 'ce-source': '/shop' } });
        expect(Buffer.from(e!.data).equals(Buffer.from(data))).toBe(true);
      });

      it('appends many in one call with consecutive seqs, across streams', async () => {
        const results = await store.append([
          { stream: 'a', data: bytes('1') },
          { stream: 'b', data: bytes('2') },
          { stream: 'a', data: bytes('3') },
        ]);
        expect(results.map((r) => [r.stream, r.seq])).toEqual([['a', 1], ['b', 1], ['a', 2]]);
        expect(store.head('a')).toBe(2);
        expect(store.head('b')).toBe(1);
      });

      it('numbers concurrent appends from many callers 1..n with no gap, each caller in its own order', async () => {
        const callers = 40;
        const each = 25;
        const seqsByCaller = await Promise.all(
          Array.from({ length: callers }, async (_, c) => {
            const seqs: number[] = [];
            for (let i = 0; i < each; i++) {
              if ((c + i) % 3 === 0) await new Promise((r) => setImmediate(r));
              const batch = i % 5 === 0 ? [{ stream: 'c', data: bytes(`${c}:${i}a`) }, { stream: 'c', data: bytes(`${c}:${i}b`) }] : [{ stream: 'c', data: bytes(`${c}:${i}`) }];
              const rs = await store.append(batch);
              seqs.push(...rs.map((r) => r.seq));
            }
            return seqs;
          }),
        );
        const all = seqsByCaller.flat().sort((x, y) => x - y);
        const total = callers * (each + each / 5);
        expect(all).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        for (const seqs of seqsByCaller) expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
        const info = await store.getStream('c');
        expect(info).toMatchObject({ count: total, firstSeq: 1, lastSeq: total });
      });

      it('rejects bad input and stores nothing', async () => {
        await expectCode(store.append([{ stream: 'ok', data: bytes('1') }, { stream: 'bad name', data: bytes('2') }]), 'invalid_stream_name');
        await expectCode(store.append([{ stream: 'ok', data: 'text' as unknown as Uint8Array }]), 'invalid_event');
        await expectCode(store.append([{ stream: 'ok', type: '', data: bytes('1') }]), 'invalid_event');
        await expectCode(store.append([{ stream: 'ok', id: 'a\nb', data: bytes('1') }]), 'invalid_event');
        expect(await store.listStreams()).toEqual([]);
      });

      it('refuses to create streams on publish when told not to, storing nothing', async () => {
        await store.createStream('exists');
        await expectCode(store.append([{ stream: 'exists', data: bytes('1') }, { stream: 'absent', data: bytes('2') }], { createStreams: false }), 'stream_not_found');
        expect(store.head('exists')).toBe(0);
        await store.append([{ stream: 'exists', data: bytes('1') }], { createStreams: false });
        expect(store.head('exists')).toBe(1);
      });
    });

    describe('idempotency', () => {
      it('answers a stored id with the original position and stores nothing', async () => {
        await store.append([{ stream: 'p', id: 'k1', data: bytes('first') }]);
        await store.append([{ stream: 'p', data: bytes('other') }]);
        const [again] = await store.append([{ stream: 'q', id: 'k1', data: bytes('second') }]);
        expect(again).toEqual({ stream: 'p', seq: 1, id: 'k1', duplicate: true });
        expect(store.head('p')).toBe(2);
        expect(await store.getStream('q')).toBeDefined(); // created, but empty
        expect(store.head('q')).toBe(0);
        const [e] = await store.read('p');
        expect(dec.decode(e!.data)).toBe('first');
        expect(await store.lookupId('k1')).toEqual({ stream: 'p', seq: 1 });
      });

      it('deduplicates within one batch and across concurrent batches', async () => {
        const [r1, r2] = await Promise.all([
          store.append([{ stream: 'd', id: 'x', data: bytes('1') }, { stream: 'd', id: 'x', data: bytes('2') }]),
          store.append([{ stream: 'd', id: 'x', data: bytes('3') }]),
        ]);
        expect(r1!.map((r) => r.duplicate)).toEqual([false, true]);
        expect(r2![0]).toMatchObject({ seq: 1, duplicate: true });
        expect(store.head('d')).toBe(1);
      });
    });

    describe('read', () => {
      it('reads after a seq with a limit, and nothing past the head', async () => {
        await store.append(Array.from({ length: 10 }, (_, i) => ({ stream: 'r', data: bytes(String(i + 1)) })));
        expect((await store.read('r', { after: 3, limit: 4 })).map((e) => e.seq)).toEqual([4, 5, 6, 7]);
        expect((await store.read('r', { after: 8 })).map((e) => dec.decode(e.data))).toEqual(['9', '10']);
        expect(await store.read('r', { after: 10 })).toEqual([]);
        expect(await store.read('r', { after: 2, limit: 0 })).toEqual([]);
        await expectCode(store.read('missing'), 'stream_not_found');
      });

      it('wakes a reader waiting at the head on the next append', async () => {
        await store.append([{ stream: 'w', data: bytes('1') }]);
        const woken = new Promise<[string, number]>((resolve) => {
          const off = store.onAppend((stream, head) => {
            off();
            resolve([stream, head]);
          });
        });
        setTimeout(() => void store.append([{ stream: 'w', data: bytes('2') }]), 20);
        expect(await woken).toEqual(['w', 2]);
        expect((await store.read('w', { after: 1 })).map((e) => e.seq)).toEqual([2]);
      });
    });

    describe('streams', () => {
      it('creates with retention, lists, describes and refuses duplicates', async () => {
        const info = await store.createStream('beta', { retention: { maxCount: 5 } });
        expect(info).toMatchObject({ name: 'beta', count: 0, firstSeq: 1, lastSeq: 0, bytes: 0, retention: { maxCount: 5 } });
        expect(Date.parse(info.created)).not.toBeNaN();
        await store.createStream('alpha');
        await expectCode(store.createStream('alpha'), 'stream_exists');
        await expectCode(store.createStream('no/slash'), 'invalid_stream_name');
        await store.append([{ stream: 'alpha', data: bytes('12345') }, { stream: 'alpha', data: bytes('678') }]);
        expect((await store.listStreams()).map((s) => s.name)).toEqual(['alpha', 'beta']);
        expect(await store.getStream('alpha')).toMatchObject({ count: 2, firstSeq: 1, lastSeq: 2, bytes: 8 });
        expect(await store.getStream('nope')).toBeUndefined();
      });

      it('updates options with putStream, creating when absent', async () => {
        expect((await store.putStream('x', { retention: { maxAgeMs: 1000 } })).created).toBe(true);
        const { info, created } = await store.putStream('x', { retention: { maxCount: 3 } });
        expect(created).toBe(false);
        expect(info.retention).toEqual({ maxCount: 3 });
      });

      it('deletes a stream with its events and positions; a new one of that name starts afresh', async () => {
        await store.append([{ stream: 'gone', id: 'g1', data: bytes('1') }, { stream: 'gone', data: bytes('2') }]);
        await store.setPosition('gone', 'worker', 2);
        expect(await store.deleteStream('gone')).toBe(true);
        expect(await store.deleteStream('gone')).toBe(false);
        expect(await store.getStream('gone')).toBeUndefined();
        await expectCode(store.read('gone'), 'stream_not_found');
        expect(await store.lookupId('g1')).toBeUndefined();
        const [r] = await store.append([{ stream: 'gone', id: 'g1', data: bytes('new') }]);
        expect(r).toMatchObject({ seq: 1, duplicate: false });
        expect(await store.getPosition('gone', 'worker')).toBeUndefined();
        const events = await store.read('gone');
        expect(events.map((e) => dec.decode(e.data))).toEqual(['new']);
      });
    });

    describe('retention', () => {
      it('keeps the newest maxCount events', async () => {
        await store.createStream('rc', { retention: { maxCount: 10 } });
        await store.append(Array.from({ length: 25 }, (_, i) => ({ stream: 'rc', id: `rc-${i + 1}`, data: bytes('xy') })));
        expect(await store.applyRetention()).toBe(15);
        expect(await store.getStream('rc')).toMatchObject({ count: 10, firstSeq: 16, lastSeq: 25, bytes: 20 });
        expect((await store.read('rc')).map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 16));
        expect(await store.lookupId('rc-15')).toBeUndefined();
        expect(await store.lookupId('rc-16')).toEqual({ stream: 'rc', seq: 16 });
        // The head never goes back: the next event is 26.
        expect((await store.append([{ stream: 'rc', data: bytes('z') }]))[0]!.seq).toBe(26);
      });

      it('finds a minted id until retention removes its event', async () => {
        await store.createStream('rm', { retention: { maxCount: 3 } });
        const first = await store.append(Array.from({ length: 4 }, () => ({ stream: 'rm', data: bytes('a') })));
        const second = await store.append(Array.from({ length: 4 }, () => ({ stream: 'rm', data: bytes('b') })));
        const ids = [...first, ...second].map((r) => r.id);
        for (const [i, id] of ids.entries()) expect(await store.lookupId(id)).toEqual({ stream: 'rm', seq: i + 1 });
        expect(await store.applyRetention()).toBe(5);
        for (const [i, id] of ids.entries()) expect(await store.lookupId(id)).toEqual(i < 5 ? undefined : { stream: 'rm', seq: i + 1 });
        // The id past the end of a stored run was never given out.
        const last = ids[7]!;
        const beyond = last.slice(0, -8) + (parseInt(last.slice(-8), 16) + 1).toString(16).padStart(8, '0');
        expect(await store.lookupId(beyond)).toBeUndefined();
      });

      it('removes events older than maxAgeMs', async () => {
        await store.createStream('ra', { retention: { maxAgeMs: 60_000 } });
        await store.append([{ stream: 'ra', data: bytes('old') }, { stream: 'ra', data: bytes('old') }]);
        expect(await store.applyRetention()).toBe(0);
        const later = new Date(Date.now() + 61_000);
        expect(await store.applyRetention(later)).toBe(2);
        expect(await store.getStream('ra')).toMatchObject({ count: 0, firstSeq: 3, lastSeq: 2, bytes: 0 });
        expect(await store.read('ra')).toEqual([]);
      });

      it('runs in bounded commits that let appends through', async () => {
        await store.createStream('big', { retention: { maxCount: 1 } });
        const n = 12_000;
        for (let i = 0; i < n; i += 2000) {
          await store.append(Array.from({ length: 2000 }, () => ({ stream: 'big', data: bytes('e') })));
        }
        let retentionDone = false;
        const retention = store.applyRetention().then((removed) => {
          retentionDone = true;
          return removed;
        });
        await new Promise((r) => setImmediate(r));
        const [r] = await store.append([{ stream: 'other', data: bytes('fast') }]);
        expect(r!.seq).toBe(1);
        expect(retentionDone).toBe(false);
        expect(await retention).toBe(n - 1);
        expect(await store.getStream('big')).toMatchObject({ count: 1, firstSeq: n, lastSeq: n });
      });
    });

    describe('consumer positions', () => {
      it('gets and sets positions per stream and consumer', async () => {
        await store.append([{ stream: 'pos', data: bytes('1') }]);
        expect(await store.getPosition('pos', 'a')).toBeUndefined();
        await store.setPosition('pos', 'a', 1);
        await store.setPosition('pos', 'b', 0);
        expect(await store.getPosition('pos', 'a')).toBe(1);
        expect(await store.getPosition('pos', 'b')).toBe(0);
        await expectCode(store.setPosition('missing', 'a', 1), 'stream_not_found');
        await expectCode(store.setPosition('pos', 'a', -1), 'bad_request');
      });
    });

    describe('key-value collections', () => {
      it('writes atomically, reads copies, deletes, and keeps collections apart', async () => {
        const value = { state: 'active', n: 1, tags: ['a'], nested: { ok: true }, none: null };
        await store.kvWrite([
          { collection: 'subs', key: 's1', value },
          { collection: 'subs', key: 's2', value: 2 },
          { collection: 'other', key: 's1', value: 'x' },
        ]);
        value.n = 99; // changing the caller's object after the write changes nothing stored
        const got = await store.kvGet<typeof value>('subs', 's1');
        expect(got).toEqual({ state: 'active', n: 1, tags: ['a'], nested: { ok: true }, none: null });
        got!.n = 5;
        expect((await store.kvGet<typeof value>('subs', 's1'))!.n).toBe(1);
        expect(await store.kvGet('other', 's1')).toBe('x');
        expect(await store.kvGet('subs', 'absent')).toBeUndefined();
        await store.kvWrite([{ collection: 'subs', key: 's2' }, { collection: 'subs', key: 's1', value: 'last write wins' }]);
        expect(await store.kvGet('subs', 's2')).toBeUndefined();
        expect(await store.kvGet('subs', 's1')).toBe('last write wins');
        await expectCode(store.kvWrite([{ collection: '', key: 'k', value: 1 }]), 'bad_request');
      });

      it('lists in key order with prefix, paging, reverse and limit', async () => {
        const keys = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c'];
        await store.kvWrite(keys.map((key, i) => ({ collection: 'list', key, value: i })));
        await store.kvWrite([{ collection: 'list2', key: 'a/0', value: 'elsewhere' }, { collection: 'lis', key: 'zz', value: 'elsewhere' }]);
        const keysOf = (entries: Array<{ key: string }>): string[] => entries.map((e) => e.key);
        expect(keysOf(await store.kvList('list'))).toEqual(keys);
        expect(await store.kvList('list', { prefix: 'b/' })).toEqual([{ key: 'b/1', value: 3 }, { key: 'b/2', value: 4 }]);
        expect(keysOf(await store.kvList('list', { prefix: 'a/', after: 'a/1' }))).toEqual(['a/2', 'a/3']);
        expect(keysOf(await store.kvList('list', { after: 'a/3', limit: 2 }))).toEqual(['b/1', 'b/2']);
        expect(keysOf(await store.kvList('list', { reverse: true, limit: 2 }))).toEqual(['c', 'b/2']);
        expect(keysOf(await store.kvList('list', { reverse: true, prefix: 'a/' }))).toEqual(['a/3', 'a/2', 'a/1']);
        expect(keysOf(await store.kvList('list', { reverse: true, prefix: 'a/', after: 'a/3' }))).toEqual(['a/2', 'a/1']);
        expect(keysOf(await store.kvList('list', { reverse: true, after: 'b/1' }))).toEqual(['a/3', 'a/2', 'a/1']);
        expect(await store.kvList('absent')).toEqual([]);
      });
    });

    describe('conditional key-value writes', () => {
      const at = (key: string, value?: unknown) => (value === undefined ? { collection: 'cas', key } : { collection: 'cas', key, value });

      it('writes only when every condition holds, all or nothing', async () => {
        expect(await store.kvWriteIf([at('v')], [at('v', 1), at('x', 'a')])).toBe(true);
        expect(await store.kvWriteIf([at('v')], [at('x', 'b')])).toBe(false); // v is no longer absent
        expect(await store.kvGet('cas', 'x')).toBe('a');
        // One condition of two fails: nothing is written.
        expect(await store.kvWriteIf([at('v', 1), at('x', 'other')], [at('v', 2)])).toBe(false);
        expect(await store.kvGet('cas', 'v')).toBe(1);
        expect(await store.kvWriteIf([at('v', 1), at('x', 'a')], [at('v', 2), at('x')])).toBe(true);
        expect(await store.kvGet('cas', 'v')).toBe(2);
        expect(await store.kvGet('cas', 'x')).toBeUndefined();
        // Values compare as JSON: an equal object matches, another number does not.
        await store.kvWrite([at('o', { a: 1, b: [2, 'x'], c: null })]);
        expect(await store.kvWriteIf([at('o', { a: 1, b: [2, 'x'], c: null })], [at('o', 'next')])).toBe(true);
        expect(await store.kvWriteIf([at('v', '2')], [at('v', 3)])).toBe(false);
        expect(await store.kvWriteIf([], [at('free', true)])).toBe(true); // no condition: a plain write
        expect(await store.kvGet('cas', 'free')).toBe(true);
        await expectCode(store.kvWriteIf([{ collection: '', key: 'k' }], []), 'bad_request');
      });

      it('sees writes made before it, and lets one of several racing changes win', async () => {
        await store.kvWrite([at('n', 5)]);
        expect(await store.kvWriteIf([at('n', 5)], [at('n', 6)])).toBe(true);
        const racing = await Promise.all(Array.from({ length: 10 }, (_, i) => store.kvWriteIf([at('n', 6)], [at('n', 100 + i)])));
        expect(racing.filter(Boolean)).toHaveLength(1);
        // Read-modify-write by compare-and-set: no increment is lost.
        const increment = async (): Promise<void> => {
          for (;;) {
            const v = await store.kvGet<number>('cas', 'count');
            if (await store.kvWriteIf([at('count', v)], [at('count', (v ?? 0) + 1)])) return;
          }
        };
        await Promise.all(Array.from({ length: 8 }, async () => {
          for (let i = 0; i < 10; i++) await increment();
        }));
        expect(await store.kvGet('cas', 'count')).toBe(80);
      });
    });

    describe('leases', () => {
      it('grants a lease to one holder at a time until it expires or is released', async () => {
        expect(await store.acquireLease('lane-1', 'node-a', 200)).toBe(true);
        expect(await store.acquireLease('lane-1', 'node-b', 200)).toBe(false);
        expect(await store.acquireLease('lane-1', 'node-a', 200)).toBe(true); // renewal
        expect(await store.acquireLease('lane-2', 'node-b', 200)).toBe(true);
        await store.releaseLease('lane-1', 'node-b'); // not the holder: no effect
        expect(await store.acquireLease('lane-1', 'node-b', 200)).toBe(false);
        await store.releaseLease('lane-1', 'node-a');
        expect(await store.acquireLease('lane-1', 'node-b', 50)).toBe(true);
        await new Promise((r) => setTimeout(r, 80));
        expect(await store.acquireLease('lane-1', 'node-a', 200)).toBe(true); // node-b's expired
      });
    });

    describe('life cycle', () => {
      it('commits appends pending at close, then refuses new ones', async () => {
        const pending = store.append([{ stream: 'lc', data: bytes('1') }]);
        const closing = store.close();
        expect((await pending)[0]!.seq).toBe(1);
        await closing;
        expect(store.isOpen).toBe(false);
        await expectCode(store.append([{ stream: 'lc', data: bytes('2') }]), 'store_closed');
      });

      it('keeps everything acknowledged across a reopen', async () => {
        if (!h.reopen) return; // memory: nothing survives a restart, by design
        await store.createStream('keep', { retention: { maxCount: 100 } });
        await store.append(Array.from({ length: 50 }, (_, i) => ({ stream: 'keep', id: `k${i}`, type: 't', data: bytes(`e${i}`) })));
        await store.setPosition('keep', 'c', 7);
        await store.kvWrite([{ collection: 'keep', key: 'k', value: { seq: 7 } }]);
        await store.deleteStream('keep2').catch(() => undefined);
        store = await h.reopen();
        expect(await store.getStream('keep')).toMatchObject({ count: 50, lastSeq: 50, retention: { maxCount: 100 } });
        expect(await store.getPosition('keep', 'c')).toBe(7);
        expect(await store.kvGet('keep', 'k')).toEqual({ seq: 7 });
        expect((await store.append([{ stream: 'keep', id: 'k3', data: bytes('dup') }]))[0]).toMatchObject({ seq: 4, duplicate: true });
        expect((await store.append([{ stream: 'keep', data: bytes('next') }]))[0]!.seq).toBe(51);
        const events = await store.read('keep', { after: 48 });
        expect(events.map((e) => dec.decode(e.data))).toEqual(['e48', 'e49', 'next']);
      });
    });
  });
}
