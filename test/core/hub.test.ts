import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Hub } from '../../src/core/hub.js';
import type { StoredEvent } from '../../src/core/event.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import { tempDir } from '../helpers/tmp.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

describe('Hub', () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: Hub;

  beforeEach(async () => {
    dir = tempDir();
    hub = new Hub({ store: new LmdbStore({ path: dir.path }), retentionIntervalMs: 0 });
    await hub.start();
  });
  afterEach(async () => {
    await hub.close();
    dir.cleanup();
  });

  it('publishes one and a batch, and reads them back', async () => {
    const one = await hub.publish({ stream: 'h', data: enc.encode('a') });
    const many = await hub.publishBatch([{ stream: 'h', data: enc.encode('b') }, { stream: 'h', data: enc.encode('c') }]);
    expect([one.seq, ...many.map((r) => r.seq)]).toEqual([1, 2, 3]);
    expect((await hub.read('h')).map((e) => dec.decode(e.data))).toEqual(['a', 'b', 'c']);
  });

  it('tails stored then live events with no gap and no duplicate at the seam', async () => {
    const total = 3000;
    // 1000 stored before the tail starts, 2000 published while it runs, in bursts.
    await hub.publishBatch(Array.from({ length: 1000 }, (_, i) => ({ stream: 't', data: enc.encode(String(i + 1)) })));
    const ac = new AbortController();
    const seen: StoredEvent[] = [];
    const reading = (async () => {
      for await (const e of hub.tail('t', { signal: ac.signal, batchSize: 64 })) {
        seen.push(e);
        if (seen.length === total) ac.abort();
      }
    })();
    for (let i = 1000; i < total; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => hub.publish({ stream: 't', data: enc.encode(String(i + k + 1)) })));
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await reading;
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('starts a tail after a given seq, and waits for a stream that does not exist yet', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    const reading = (async () => {
      for await (const e of hub.tail('later', { after: 1, signal: ac.signal })) {
        seen.push(e.seq);
        if (seen.length === 2) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    await hub.publishBatch([1, 2, 3].map((n) => ({ stream: 'later', data: enc.encode(String(n)) })));
    await reading;
    expect(seen).toEqual([2, 3]);
  });

  it('ends a waiting tail when its signal aborts or the hub closes', async () => {
    const ac = new AbortController();
    const first = (async () => {
      for await (const _ of hub.tail('idle', { signal: ac.signal })) void _;
      return 'aborted';
    })();
    const second = (async () => {
      for await (const _ of hub.tail('idle')) void _;
      return 'closed';
    })();
    await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    expect(await first).toBe('aborted');
    await hub.close();
    expect(await second).toBe('closed');
  });

  it('counts appends, duplicates and commit batches in its metrics', async () => {
    await hub.publishBatch([{ stream: 'm', id: 'one', data: enc.encode('1') }, { stream: 'm', data: enc.encode('2') }]);
    await hub.publish({ stream: 'm', id: 'one', data: enc.encode('again') });
    const text = await hub.metrics.registry.metrics();
    expect(text).toContain('herald_events_appended_total{stream="m"} 2');
    expect(text).toContain('herald_events_duplicate_total 1');
    expect(text).toMatch(/herald_commit_batch_events_count [1-9]/);
    expect(text).toMatch(/herald_append_duration_seconds_count 2/);
  });

  it('says whether the store is ready, and still answers once it is closed', async () => {
    await hub.publish({ stream: 'r', data: enc.encode('1') });
    expect(await hub.metrics.registry.metrics()).toMatch(/^herald_store_ready 1$/m);
    await hub.store.close();
    // The stream count cannot be read from a closed store: the scrape keeps the last value.
    const text = await hub.metrics.registry.metrics();
    expect(text).toMatch(/^herald_store_ready 0$/m);
    expect(text).toMatch(/^herald_streams 1$/m);
  });

  it('counts streams however they were made or removed', async () => {
    await hub.publish({ stream: 'made-by-publish', data: enc.encode('1') });
    await hub.createStream('made-by-create');
    await hub.putStream('made-by-put', {});
    await hub.deleteStream('made-by-create');
    expect(await hub.metrics.registry.getSingleMetricAsString('herald_streams')).toContain('herald_streams 2');
  });

  it('applies retention from its timer', async () => {
    await hub.close();
    hub = new Hub({ store: new LmdbStore({ path: dir.path }), retentionIntervalMs: 20 });
    await hub.start();
    await hub.createStream('short', { retention: { maxCount: 2 } });
    await hub.publishBatch(Array.from({ length: 5 }, () => ({ stream: 'short', data: enc.encode('x') })));
    await expect.poll(async () => (await hub.getStream('short'))?.count, { timeout: 2000 }).toBe(2);
    expect((await hub.metrics.registry.getSingleMetricAsString('herald_retention_removed_total'))).toContain('herald_retention_removed_total 3');
  });
});
