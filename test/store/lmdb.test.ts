import { existsSync, mkdirSync, readFileSync } from 'node:fs';
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

// The same contract with the environment reopened after every few KiB read, so that reopening
// happens between nearly every commit and read the contract makes.
storeContract('lmdb, reopened after every 4 KiB read', async () => {
  const dir = tempDir();
  const options = { path: dir.path, unmapAfterReadBytes: 4096 };
  let store: Store = new LmdbStore(options);
  return {
    get store() {
      return store;
    },
    reopen: async () => {
      await store.close();
      store = new LmdbStore(options);
      await store.open();
      return store;
    },
    cleanup: async () => {
      await store.close();
      dir.cleanup();
    },
  };
});

/** Resident file-backed memory of this process (mapped file pages), in bytes. */
const rssFile = (): number => Number(/^RssFile:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;

describe('lmdb unmapping what reads mapped', () => {
  async function readAll(store: LmdbStore, stream: string): Promise<number> {
    let after = 0;
    let bytes = 0;
    for (;;) {
      const page = await store.read(stream, { after, limit: 500 });
      if (page.length === 0) return bytes;
      for (const e of page) bytes += e.data.length;
      after = page.at(-1)!.seq;
    }
  }

  it('keeps the pages read out of RSS by reopening between commits, losing nothing meanwhile', async () => {
    const dir = tempDir();
    const store = new LmdbStore({ path: dir.path, unmapAfterReadBytes: 4 * 1024 ** 2 });
    await store.open();
    try {
      const payload = new Uint8Array(2000).fill(7);
      for (let b = 0; b < 20; b++) await store.append(Array.from({ length: 1000 }, () => ({ stream: 'big', data: payload })));
      // 40 MB of events; without unmapping, reading them all would map every page.
      const before = rssFile();
      // Appends and acknowledgements go on while the reads cause reopenings.
      const appends = Array.from({ length: 200 }, (_, i) => store.append([{ stream: 'side', data: new TextEncoder().encode(`e${i}`) }]));
      expect(await readAll(store, 'big')).toBe(20_000 * 2000);
      const grown = rssFile() - before;
      await Promise.all(appends);
      expect(store.remapped).toBeGreaterThanOrEqual(5);
      expect(grown).toBeLessThan(16 * 1024 ** 2);
      const side = await store.read('side', { limit: 1000 });
      expect(side.map((e) => new TextDecoder().decode(e.data))).toEqual(Array.from({ length: 200 }, (_, i) => `e${i}`));
    } finally {
      await store.close();
      dir.cleanup();
    }
  });

  it('maps what it reads when told never to unmap (what the test above guards against)', async () => {
    const dir = tempDir();
    const store = new LmdbStore({ path: dir.path, unmapAfterReadBytes: 0 });
    await store.open();
    try {
      const payload = new Uint8Array(2000).fill(7);
      for (let b = 0; b < 20; b++) await store.append(Array.from({ length: 1000 }, () => ({ stream: 'big', data: payload })));
      const before = rssFile();
      await readAll(store, 'big');
      expect(store.remapped).toBe(0);
      expect(rssFile() - before).toBeGreaterThan(30 * 1024 ** 2);
    } finally {
      await store.close();
      dir.cleanup();
    }
  });
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
