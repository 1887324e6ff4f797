import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LmdbStore, type LmdbStoreOptions } from '../../src/store/lmdb.js';
import { tempDir } from '../helpers/tmp.js';
import { reopenableHarness, storeContract, type StoreHarness } from './contract.js';

/** A harness for the store contract: an LMDB store on a fresh directory, reopened with the same options. */
function lmdbHarness(options: Omit<LmdbStoreOptions, 'path'> = {}): () => Promise<StoreHarness> {
  return async () => {
    const dir = tempDir();
    return reopenableHarness(() => new LmdbStore({ path: dir.path, ...options }), () => dir.cleanup());
  };
}

// Small commits run inline (on the main thread) by default.
storeContract('lmdb', lmdbHarness());
// Every commit on lmdb-js's write thread.
storeContract('lmdb, every commit on the write thread', lmdbHarness({ inlineCommitBytes: 0 }));
// The environment reopened after every few KiB read, so that reopening happens between nearly
// every commit and read the contract makes.
storeContract('lmdb, reopened after every 4 KiB read', lmdbHarness({ unmapAfterReadBytes: 4096 }));
// Small commits made durable by the write-ahead log and left there until the store closes (or a
// big commit comes): every read the contract makes is answered from the logged commits too.
storeContract('lmdb, logged commits kept out of LMDB', lmdbHarness({ walApplyMs: 3_600_000 }));
// No write-ahead log: small commits are synced LMDB transactions on the main thread.
storeContract('lmdb, without the write-ahead log', lmdbHarness({ wal: false }));

const small = (i: number, stream = 's') => ({ stream, data: new TextEncoder().encode(`small ${i}`) });
const big = (i: number) => ({ stream: 's', data: new Uint8Array(40 * 1024).fill(i) });

/** Runs `body` on an open store made by the contract's harness, which it then cleans up. */
async function withStore(options: Omit<LmdbStoreOptions, 'path'>, body: (store: LmdbStore, reopen: () => Promise<LmdbStore>) => Promise<void>): Promise<void> {
  const h = await lmdbHarness(options)();
  await h.store.open();
  try {
    await body(h.store as LmdbStore, async () => (await h.reopen!()) as LmdbStore);
  } finally {
    await h.cleanup();
  }
}

describe('lmdb commit paths', () => {
  it('commits a small batch inline and a big one on the write thread; both are there after reopening', async () => {
    await withStore({ inlineCommitBytes: 64 * 1024 }, async (store, reopen) => {
      await store.append([small(1)]);
      expect(store.inlineCommits).toBe(1);
      await store.append([big(1), big(2)]); // 80 KiB of events
      expect(store.inlineCommits).toBe(1);
      await store.append([small(2)]);
      expect(store.inlineCommits).toBe(2);
      const again = await reopen();
      const events = await again.read('s', { limit: 10 });
      expect(events.map((e) => e.data.length)).toEqual([7, 40 * 1024, 40 * 1024, 7]);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    });
  });

  it('does not commit inline while a commit is on the write thread, so commits stay in order', async () => {
    await withStore({ inlineCommitBytes: 64 * 1024 }, async (store, reopen) => {
      const first = store.append([big(1), big(2)]);
      await new Promise((r) => setImmediate(r)); // the big batch is committing on the write thread
      const second = store.append([small(1)]);
      expect((await first).map((r) => r.seq)).toEqual([1, 2]);
      expect((await second)[0]!.seq).toBe(3);
      expect(store.inlineCommits).toBe(0);
      await store.append([small(2)]); // nothing in flight again
      expect(store.inlineCommits).toBe(1);
      expect((await (await reopen()).read('s', { limit: 10 })).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    });
  });

  it('fails the store, not the process, when an inline commit throws', async () => {
    await withStore({ wal: false }, async (store) => {
      await store.append([small(1)]);
      // The environment closed under the store: transactionSync throws at once.
      await (store as unknown as { env: { close(): Promise<void> } }).env.close();
      await expect(store.append([small(2)])).rejects.toThrow();
      expect(store.isOpen).toBe(false);
    });
  });

  it('commits everything on the write thread when inlineCommitBytes is 0', async () => {
    await withStore({ inlineCommitBytes: 0 }, async (store) => {
      for (let i = 0; i < 5; i++) await store.append([small(i)]);
      await store.kvWrite([{ collection: 'c', key: 'k', value: 1 }]); // a commit without events
      expect(store.inlineCommits).toBe(0);
      expect((await store.read('s', { limit: 10 })).length).toBe(5);
    });
  });
});

describe('lmdb write-ahead log', () => {
  const NEVER = 3_600_000;

  it('acknowledges a small commit through the log; LMDB takes the logged commits every walApplyMs', async () => {
    await withStore({ walApplyMs: 300 }, async (store) => {
      await store.append([small(1)]);
      await store.append([small(2)]);
      expect(store.loggedCommits).toBe(2);
      expect(store.walApplies).toBe(0);
      await expect.poll(() => store.walApplies, { timeout: 5000 }).toBe(1);
      expect((await store.read('s')).map((e) => e.seq)).toEqual([1, 2]);
    });
  });

  it('lets LMDB take the logged commits before a big commit, so commits land in order', async () => {
    await withStore({ walApplyMs: NEVER }, async (store, reopen) => {
      await store.append([small(1)]);
      await store.append([big(2)]);
      expect(store.walApplies).toBe(1);
      await store.append([small(3)]);
      expect(store.loggedCommits).toBe(2);
      expect((await (await reopen()).read('s')).map((e) => e.data.length)).toEqual([7, 40 * 1024, 7]);
    });
  });

  it('lets LMDB take the logged commits when the log is full, and commits a record too big for it to LMDB', async () => {
    await withStore({ walApplyMs: NEVER, walBytes: 4096 }, async (store, reopen) => {
      for (let i = 1; i <= 20; i++) await store.append([small(i)]); // ~400 bytes a record
      expect(store.walApplies).toBeGreaterThanOrEqual(1);
      const applies = store.walApplies;
      await store.append([{ stream: 's', data: new Uint8Array(5000).fill(1) }]);
      expect(store.walApplies).toBe(applies + 1);
      expect(store.loggedCommits).toBe(20);
      await store.append([small(22)]);
      const events = await (await reopen()).read('s');
      expect(events.map((e) => e.data.length)).toEqual([...Array.from({ length: 20 }, (_, i) => `small ${i + 1}`.length), 5000, 'small 22'.length]);
    });
  });

  it('answers reads from logged deletes over what LMDB holds: removed keys and positions stay removed', async () => {
    await withStore({ walApplyMs: NEVER }, async (store) => {
      await store.kvWrite(['a', 'b', 'c', 'd'].map((key) => ({ collection: 'c', key, value: key })));
      await store.append([small(1, 'gone')]);
      await store.setPosition('gone', 'worker', 1);
      await store.append([big(1)]); // LMDB takes everything so far
      expect(store.walApplies).toBe(1);
      await store.kvWrite([{ collection: 'c', key: 'a', value: undefined }, { collection: 'c', key: 'b', value: undefined }, { collection: 'c', key: 'bb', value: 'new' }]);
      expect((await store.kvList('c', { limit: 2 })).map((e) => e.key)).toEqual(['bb', 'c']);
      expect((await store.kvList('c', { limit: 2, reverse: true })).map((e) => e.key)).toEqual(['d', 'c']);
      expect(await store.kvGet('c', 'a')).toBeUndefined();
      await store.deleteStream('gone');
      await store.append([small(2, 'gone')]);
      expect(await store.getPosition('gone', 'worker')).toBeUndefined();
      expect(store.walApplies).toBe(1);
    });
  });

  it('recovers the logged commits of a store that was not closed, and only those LMDB lacks', async () => {
    await withStore({ walApplyMs: NEVER }, async (store, reopen) => {
      await store.append([small(1)]);
      await store.append([big(2)]); // 1 and 2 in LMDB
      const logged = await store.append([small(3), small(4)]);
      await store.setPosition('s', 'w', 4);
      // A crash: the environment goes without LMDB taking the logged commits.
      const internals = store as unknown as { env: { close(): Promise<void> }; applyLogged(): void };
      internals.applyLogged = () => {};
      await internals.env.close();
      const again = await reopen();
      expect((await again.read('s')).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
      expect(await again.lookupId(logged[1]!.id)).toEqual({ stream: 's', seq: 4 });
      expect(await again.getPosition('s', 'w')).toBe(4);
      expect((await again.append([small(5)]))[0]!.seq).toBe(5);
    });
  });

  it('fails the store when LMDB cannot take the logged commits, which the next start recovers', async () => {
    await withStore({ walApplyMs: 20 }, async (store, reopen) => {
      await store.append([small(1)]);
      await (store as unknown as { env: { close(): Promise<void> } }).env.close();
      await expect.poll(() => store.isOpen, { timeout: 5000 }).toBe(false);
      await expect(store.append([small(2)])).rejects.toThrow(/writes are refused/);
      const again = await reopen(); // closing could not put the commit into LMDB either
      expect((await again.read('s')).map((e) => new TextDecoder().decode(e.data))).toEqual(['small 1']);
    });
  });
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
