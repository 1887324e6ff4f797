import { afterAll, describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb.js';
import { tempDir } from '../helpers/tmp.js';
import { serve } from './helpers.js';

/**
 * The HTTP contract end to end: a 201 means the event is on disk. `herald serve` is SIGKILLed
 * while 16 clients publish (single events on the fast path, and NDJSON batches through
 * fastify); every event that was answered 2xx must be in the store afterwards.
 */
const dir = tempDir('herald-crash-');
afterAll(() => dir.cleanup());

describe('herald serve killed with SIGKILL mid-publish', () => {
  it('keeps every event it answered 201 for', async () => {
    const served = await serve(['--port', '0', '--data', dir.path]);
    const acked: Array<{ id: string; seq: number }> = [];
    let killed = false;
    const client = async (c: number): Promise<void> => {
      for (let i = 0; !killed; i++) {
        try {
          if (c % 4 === 0) {
            const body = Array.from({ length: 50 }, (_, k) => JSON.stringify({ c, i, k })).join('\n');
            const res = await fetch(`${served.url}/streams/crash/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
            if (res.status !== 201) continue;
            const answer = (await res.json()) as { firstSeq: number; ids: string[] };
            answer.ids.forEach((id, k) => acked.push({ id, seq: answer.firstSeq + k }));
          } else {
            const res = await fetch(`${served.url}/streams/crash/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ c, i }) });
            if (res.status !== 201) continue;
            acked.push((await res.json()) as { id: string; seq: number });
          }
        } catch {
          return; // the server is gone
        }
      }
    };
    const clients = Array.from({ length: 16 }, (_, c) => client(c));
    while (acked.length < 3000) await new Promise((r) => setTimeout(r, 10));
    served.child.kill('SIGKILL');
    killed = true;
    await Promise.all(clients);
    expect((await served.exited).signal).toBe('SIGKILL');

    const store = new LmdbStore({ path: dir.path });
    await store.open();
    try {
      for (const { id, seq } of acked) expect(await store.lookupId(id)).toEqual({ stream: 'crash', seq });
      const info = await store.getStream('crash');
      expect(info!.count).toBe(info!.lastSeq); // gap-free from 1
      expect(info!.lastSeq).toBeGreaterThanOrEqual(acked.length);
    } finally {
      await store.close();
    }
  }, 60_000);
});
