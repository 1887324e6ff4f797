import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers/tmp.js';
import { storeContract } from './contract.js';

storeContract('lmdb', async () => {
  const dir = tempDir();
  let store: Store = new LmdbStore({ path: dir.path });
  return {
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = new LmdbStore({ path: dir.path });
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
});

describe('lmdb data directory', () => {
  it('is a directory even when its name looks like a file name with an extension', async () => {
    const parent = tempDir();
    try {
      for (const name of ['herald.d', 'tmp.x1Y2z3']) {
        const path = join(parent.path, name);
        mkdirSync(path); // an existing, empty directory, as `mktemp -d` makes
        const store = new LmdbStore({ path });
        await store.open();
        await store.append([{ stream: 's', data: new Uint8Array([1]) }]);
        await store.close();
        expect(existsSync(join(path, 'data.mdb'))).toBe(true);
      }
    } finally {
      parent.cleanup();
    }
  });
});

describe('lmdb conditional key-value writes', () => {
  it('check against writes still in flight: queued in the same commit or in one not yet durable', async () => {
    const dir = tempDir();
    const store = new LmdbStore({ path: dir.path });
    await store.open();
    try {
      // Not awaited: each call below joins a later batch while the earlier ones commit, so the
      // conditions can only hold if they see the writes not yet on disk.
      const calls: Array<Promise<unknown>> = [store.kvWrite([{ collection: 'c', key: 'v', value: 0 }])];
      for (let i = 0; i < 20; i++) {
        calls.push(store.kvWriteIf([{ collection: 'c', key: 'v', value: i }], [{ collection: 'c', key: 'v', value: i + 1 }]));
        if (i % 3 === 0) await new Promise((r) => setImmediate(r)); // a new batch now and then
      }
      calls.push(store.kvWriteIf([{ collection: 'c', key: 'v', value: 5 }], [{ collection: 'c', key: 'v', value: 'stale' }]));
      const results = await Promise.all(calls);
      expect(results.slice(1)).toEqual([...Array<boolean>(20).fill(true), false]);
      expect(await store.kvGet('c', 'v')).toBe(20);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
});
