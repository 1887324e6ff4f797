import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import fc from 'fast-check';
import { pgArray } from '../../src/store/postgres/clients.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/schema.js';
import type { Store } from '../../src/store/types.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { reopenableHarness, storeContract } from './contract.js';

/** One embedded PostgreSQL for the file; each test gets a schema of its own. */
let pg: TestPostgres;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

let schemas = 0;

storeContract('postgres', async () => {
  const schema = `contract_${++schemas}`;
  return reopenableHarness(() => new PostgresStore({ url: pg.url, schema, maxConnections: 4 }));
});

const enc = new TextEncoder();
const bytes = (s: string): Uint8Array => enc.encode(s);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/**
 * Reads a stream the way a live reader does (everything after the last seq seen) until `done`,
 * and counts every time a read returns an event other than the one right after the last: a seq
 * that committed late, after a higher one was already visible, would be skipped this way.
 */
async function watchForSkips(read: (after: number) => Promise<number[]>, done: () => boolean): Promise<{ skips: number; reads: number; last: number }> {
  let after = 0;
  let skips = 0;
  let reads = 0;
  for (;;) {
    const finished = done();
    const seqs = await read(after);
    reads++;
    for (const seq of seqs) {
      if (seq !== after + 1) skips++;
      after = seq;
    }
    if (finished && seqs.length === 0) return { skips, reads, last: after };
  }
}

describe('postgres store across nodes', () => {
  let schema: string;
  const open: PostgresStore[] = [];
  const node = async (name: string, extra: Partial<ConstructorParameters<typeof PostgresStore>[0]> = {}): Promise<PostgresStore> => {
    const store = new PostgresStore({ url: pg.url, schema, maxConnections: 4, applicationName: name, reconnectIntervalMs: 100, ...extra });
    await store.open();
    open.push(store);
    return store;
  };
  beforeEach(() => {
    schema = `nodes_${++schemas}`;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });

  it('control: the skip detector catches late commits of a naively numbered table', async () => {
    const sql = postgres(pg.url, { max: 6, onnotice: () => {} });
    try {
      await sql.unsafe(`CREATE TABLE naive_${schemas} (seq bigint PRIMARY KEY)`);
      await sql.unsafe(`CREATE SEQUENCE naive_seq_${schemas}`);
      let stop = false;
      const writers = Array.from({ length: 4 }, async () => {
        while (!stop) {
          // The seq is taken at the start and committed after a pause: a later one can commit first.
          await sql.begin(async (tx) => {
            await tx.unsafe(`INSERT INTO naive_${schemas} VALUES (nextval('naive_seq_${schemas}'))`);
            await tx.unsafe(`SELECT pg_sleep(random() * 0.004)`);
          });
        }
      });
      const watch = watchForSkips(async (after) => (await sql.unsafe<Array<{ seq: number }>>(`SELECT seq::int FROM naive_${schemas} WHERE seq > $1 ORDER BY seq`, [after])).map((r) => r.seq), () => stop);
      await sleep(1500);
      stop = true;
      await Promise.all(writers);
      expect((await watch).skips).toBeGreaterThan(0);
    } finally {
      await sql.end();
    }
  });

  it('numbers appends from two nodes 1..n with no gap, and a reader on a third never skips a seq', async () => {
    const [a, b, c] = [await node('a'), await node('b'), await node('c')];
    const streams = ['g1', 'g2'];
    let appending = true;
    const acknowledged = new Map<string, number[]>(streams.map((s) => [s, []]));
    const appenders = [a, b].flatMap((store, n) => Array.from({ length: 6 }, async (_, w) => {
      for (let i = 0; i < 60; i++) {
        const stream = streams[(w + i) % 2]!;
        const batch = Array.from({ length: 1 + ((w * 7 + i) % 4) }, (_, k) => ({ stream, data: bytes(`${n}:${w}:${i}:${k}`) }));
        const results = await store.append(batch);
        acknowledged.get(stream)!.push(...results.map((r) => r.seq));
      }
    }));
    const watches = streams.map((stream) => watchForSkips(async (after) => {
      try {
        return (await c.read(stream, { after, limit: 50 })).map((e) => e.seq);
      } catch {
        return []; // not created yet
      }
    }, () => !appending));
    await Promise.all(appenders);
    appending = false;
    for (const [i, stream] of streams.entries()) {
      const { skips, reads, last } = await watches[i]!;
      expect(skips).toBe(0);
      expect(reads).toBeGreaterThan(5); // the reader really ran alongside the appenders
      const seqs = acknowledged.get(stream)!.sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
      expect(last).toBe(seqs.length);
      await until(() => a.head(stream) === last && b.head(stream) === last && c.head(stream) === last);
    }
  });

  it('wakes listeners and moves head() on every node, and forgets a stream deleted elsewhere', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const woken: Array<[string, number]> = [];
    b.onAppend((stream, head) => woken.push([stream, head]));
    await a.append([{ stream: 'x', data: bytes('1') }, { stream: 'x', data: bytes('2') }]);
    await until(() => b.head('x') === 2);
    expect(woken).toEqual([['x', 2]]);
    expect(await b.deleteStream('y')).toBe(false);
    expect(await b.deleteStream('x')).toBe(true);
    await until(() => a.head('x') === 0);
    await b.append([{ stream: 'x', data: bytes('again') }]);
    await until(() => a.head('x') === 1);
  });

  it('stores a producer id once when two nodes append it at the same moment', async () => {
    const [a, b] = [await node('a'), await node('b')];
    for (let round = 0; round < 20; round++) {
      const id = `race-${round}`;
      const [ra, rb] = await Promise.all([a.append([{ stream: 'ra', id, data: bytes('a') }]), b.append([{ stream: 'rb', id, data: bytes('b') }])]);
      expect([ra[0]!.duplicate, rb[0]!.duplicate].sort()).toEqual([false, true]);
      expect(ra[0]!.stream === rb[0]!.stream && ra[0]!.seq === rb[0]!.seq).toBe(true);
    }
    expect((await a.getStream('ra'))!.count + (await a.getStream('rb'))!.count).toBe(20);
  });

  it('lets one node at a time win a conditional key-value write, so no read-modify-write is lost', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const seen: number[] = [];
    const increment = async (store: Store): Promise<void> => {
      for (;;) {
        const v = await store.kvGet<number>('cas', 'count');
        const expect = v === undefined ? { collection: 'cas', key: 'count' } : { collection: 'cas', key: 'count', value: v };
        if (await store.kvWriteIf([expect], [{ collection: 'cas', key: 'count', value: (v ?? 0) + 1 }, { collection: 'cas', key: `by:${v ?? 0}`, value: store === a ? 'a' : 'b' }])) {
          seen.push(v ?? 0);
          return;
        }
      }
    };
    await Promise.all([a, b].flatMap((store) => Array.from({ length: 4 }, async () => {
      for (let i = 0; i < 15; i++) await increment(store);
    })));
    expect(await b.kvGet('cas', 'count')).toBe(120);
    // Each success started from a different value: no two nodes both moved the same one.
    expect([...seen].sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => i));
    const owners = (await a.kvList<string>('cas', { prefix: 'by:', limit: 200 })).map((e) => e.value);
    expect(owners).toHaveLength(120);
    expect(new Set(owners)).toEqual(new Set(['a', 'b']));
  });

  it('grants a lease to one node at a time and lets another take it when it expires', async () => {
    const [a, b] = [await node('a'), await node('b')];
    const results = await Promise.all([a.acquireLease('lane', 'node-a', 300), b.acquireLease('lane', 'node-b', 300)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const [holder, other] = results[0] ? [a, b] : [b, a];
    const [holderName, otherName] = results[0] ? ['node-a', 'node-b'] : ['node-b', 'node-a'];
    expect(await holder.acquireLease('lane', holderName, 300)).toBe(true);
    expect(await other.acquireLease('lane', otherName, 300)).toBe(false);
    await sleep(350); // the holder "died": no renewal
    expect(await other.acquireLease('lane', otherName, 300)).toBe(true);
    expect(await holder.acquireLease('lane', holderName, 300)).toBe(false);
  });

  it('re-reads heads after its LISTEN connection is cut, so no wake-up is lost', async () => {
    const [a, b] = [await node('node-a'), await node('node-b')];
    const woken: string[] = [];
    a.onAppend((stream) => woken.push(stream));
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'node-a' AND query LIKE 'LISTEN%'`);
      await b.append([{ stream: 'missed', data: bytes('1') }, { stream: 'missed', data: bytes('2') }]);
      await until(() => a.head('missed') === 2 && a.isOpen);
      expect(woken).toContain('missed');
    } finally {
      await admin.end();
    }
  });

  it('refuses writes with unavailable while the database is down, and recovers by itself', async () => {
    const a = await node('a');
    await a.append([{ stream: 'o', data: bytes('before') }]);
    await pg.halt();
    try {
      await until(() => !a.isOpen, 5000);
      await expect(a.append([{ stream: 'o', data: bytes('during') }])).rejects.toMatchObject({ code: 'unavailable' });
      await expect(a.kvWrite([{ collection: 'c', key: 'k', value: 1 }])).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      await pg.start();
    }
    await until(() => a.isOpen, 15_000);
    const [r] = await a.append([{ stream: 'o', data: bytes('after') }]);
    expect(r!.seq).toBe(2);
    expect((await a.read('o')).map((e) => new TextDecoder().decode(e.data))).toEqual(['before', 'after']);
  });

  it('applies retention on one node at a time', async () => {
    const [a, b] = [await node('a'), await node('b')];
    await a.createStream('r', { retention: { maxCount: 2 } });
    await a.append([1, 2, 3, 4, 5].map((i) => ({ stream: 'r', data: bytes(String(i)) })));
    expect(await b.applyRetention()).toBe(3); // b takes the retention lease
    await a.append([{ stream: 'r', data: bytes('6') }]);
    expect(await a.applyRetention()).toBe(0); // a is not the holder
    expect(await b.applyRetention()).toBe(1);
    await b.close(); // gives the lease up
    expect(await a.applyRetention()).toBe(0); // a takes it over; nothing to remove yet
    await a.append([{ stream: 'r', data: bytes('7') }]);
    expect(await a.applyRetention()).toBe(1);
  });

  it('migrates once when several nodes start together, and refuses a schema newer than it knows', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map((n) => node(n)));
    expect(nodes.every((s) => s.isOpen)).toBe(true);
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      const [{ n }] = await admin.unsafe<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM ${schema}.schema_version`) as unknown as [{ n: number }];
      expect(n).toBe(SCHEMA_VERSION); // one row per migration, each applied once
      await admin.unsafe(`INSERT INTO ${schema}.schema_version (version) VALUES (999)`);
    } finally {
      await admin.end();
    }
    const newer = new PostgresStore({ url: pg.url, schema });
    await expect(newer.open()).rejects.toThrow(/version 999/);
  });
});

describe('postgres array literals', () => {
  it('round-trip any text and bytes through the database', async () => {
    const sql = postgres(pg.url, { max: 1, onnotice: () => {}, fetch_types: false });
    try {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\u0000')), { maxLength: 8 }),
        fc.array(fc.uint8Array({ maxLength: 16 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 6 }),
        async (texts, blobs, ints) => {
          const [row] = await sql.unsafe<Array<{ t: string[]; b: Buffer[]; i: string }>>(
            'SELECT $1::text[] AS t, $2::bytea[] AS b, array_to_string($3::int[], \',\') AS i',
            [pgArray.text(texts), pgArray.bytea(blobs), pgArray.int(ints)],
          );
          // Without fetched array types postgres.js leaves text[] and bytea[] as literals: parse them back with array_to_json.
          expect(row!.i).toBe(ints.join(','));
          const [back] = await sql.unsafe<Array<{ t: string; b: string }>>('SELECT array_to_json($1::text[])::text AS t, array_to_json(ARRAY(SELECT encode(x, \'hex\') FROM unnest($2::bytea[]) x))::text AS b', [pgArray.text(texts), pgArray.bytea(blobs)]);
          expect(JSON.parse(back!.t)).toEqual(texts);
          expect(JSON.parse(back!.b)).toEqual(blobs.map((x) => Buffer.from(x).toString('hex')));
        },
      ), { numRuns: 150 });
    } finally {
      await sql.end();
    }
  });
});
