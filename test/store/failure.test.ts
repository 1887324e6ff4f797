import { describe, expect, it } from 'vitest';
import { open } from 'lmdb';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MemoryStore } from '../../src/store/memory.js';
import { LmdbStore } from '../../src/store/lmdb.js';
import type { BatchWrites } from '../../src/store/logStore.js';
import { HeraldError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/tmp.js';

const enc = new TextEncoder();

/** A store on a disk that fails on demand: the one thing here a user never runs. */
class FailingDiskStore extends MemoryStore {
  failNext = false;
  protected override async commit(w: BatchWrites): Promise<void> {
    if (this.failNext) {
      this.failNext = false;
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('EIO: i/o error');
    }
    return super.commit(w);
  }
}

describe('a failed commit', () => {
  it('rejects the batch and everything after it, then refuses writes; nothing acknowledged is lost', async () => {
    const store = new FailingDiskStore();
    await store.open();
    await store.append([{ stream: 'f', data: enc.encode('kept') }]);
    store.failNext = true;
    const doomed = store.append([{ stream: 'f', data: enc.encode('lost') }]);
    await new Promise((r) => setImmediate(r));
    const behind = store.append([{ stream: 'f', data: enc.encode('behind') }]);
    const results = await Promise.allSettled([doomed, behind]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(HeraldError);
      expect(((r as PromiseRejectedResult).reason as HeraldError).code).toBe('unavailable');
    }
    expect(store.isOpen).toBe(false);
    await expect(store.append([{ stream: 'f', data: enc.encode('later') }])).rejects.toMatchObject({ code: 'unavailable' });
    // Readers still see exactly what was acknowledged.
    expect((await store.read('f')).map((e) => new TextDecoder().decode(e.data))).toEqual(['kept']);
    await store.close();
  });
});

describe('lmdb repair after a failed commit', () => {
  it('keeps each stream up to its first hole and drops the unacknowledged rest', async () => {
    const dir = tempDir();
    try {
      const store = new LmdbStore({ path: dir.path });
      await store.open();
      // One commit each (a commit stores its events of a stream as one value); 8 and 10 get ids
      // minted by the store.
      const minted: string[] = [];
      for (let i = 1; i <= 10; i++) {
        const [r] = await store.append([{ stream: 'r', ...(i === 8 || i === 10 ? {} : { id: `e${i}` }), data: enc.encode('abc') }]);
        if (i === 8 || i === 10) minted.push(r!.id);
      }
      expect(await store.lookupId(minted[0]!)).toEqual({ stream: 'r', seq: 8 });
      await store.close();
      // Make the hole a lost batch would leave: seq 7 missing, 8..10 present.
      const env = open({ path: dir.path });
      const events = env.openDB({ name: 'events' });
      await events.remove([1, 7]);
      await env.openDB({ name: 'ids' }).remove('e7');
      await env.close();
      writeFileSync(join(dir.path, 'NEEDS-REPAIR'), 'test\n');

      const reopened = new LmdbStore({ path: dir.path });
      await reopened.open();
      expect(existsSync(join(dir.path, 'NEEDS-REPAIR'))).toBe(false);
      expect(await reopened.getStream('r')).toMatchObject({ count: 6, lastSeq: 6, bytes: 18 });
      expect(await reopened.lookupId('e9')).toBeUndefined();
      for (const id of minted) expect(await reopened.lookupId(id)).toBeUndefined();
      expect((await reopened.append([{ stream: 'r', id: 'e9', data: enc.encode('x') }]))[0]).toMatchObject({ seq: 7, duplicate: false });
      expect((await reopened.append([{ stream: 'r', id: minted[1]!, data: enc.encode('x') }]))[0]).toMatchObject({ seq: 8, duplicate: false });
      await reopened.close();
    } finally {
      dir.cleanup();
    }
  });
});
