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
