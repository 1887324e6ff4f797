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
