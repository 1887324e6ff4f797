import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/store/memory.js';
import { storeContract } from './contract.js';

storeContract('memory', async () => {
  const store = new MemoryStore();
  return { store, cleanup: () => store.close() };
});

describe('memory store bound', () => {
  it('keeps a capped stream, its id index and its runs bounded, and reads what it kept', async () => {
    const store = new MemoryStore({ maxEventsPerStream: 1000 });
    await store.open();
    try {
      const data = new TextEncoder().encode('payload');
      for (let b = 0; b < 50; b++) {
        await store.append(Array.from({ length: 100 }, (_, i) => ({ stream: 'capped', data, ...(i % 10 === 0 ? { id: `p-${b}-${i}` } : {}) })));
        await store.append([{ stream: 'small', data: new TextEncoder().encode(`small ${b}`) }]);
        await store.applyRetention();
      }
      expect(await store.getStream('capped')).toMatchObject({ count: 1000, firstSeq: 4001, lastSeq: 5000 });
      const internals = (store as unknown as { ids: { ids: Map<string, unknown>; runs: Map<string, unknown> } }).ids;
      expect(internals.ids.size).toBe(100); // the producer ids of the kept 1,000 events
      expect(internals.runs.size).toBeLessThanOrEqual(11 * 10 + 50); // runs of kept events, and the small stream's
      const kept = await store.read('capped', { after: 4000, limit: 2000 });
      expect(kept.map((e) => e.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => 4001 + i));
      expect(new TextDecoder().decode(kept[0]!.data)).toBe('payload');
      const small = await store.read('small', { limit: 100 });
      expect(small.map((e) => new TextDecoder().decode(e.data))).toEqual(Array.from({ length: 50 }, (_, b) => `small ${b}`));
    } finally {
      await store.close();
    }
  });
});
