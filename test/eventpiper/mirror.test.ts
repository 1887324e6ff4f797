import postgres from 'postgres';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub } from '../../src/core/hub.js';
import { configSchema } from '../../src/config/schema.js';
import { createEventPiperListener } from '../../src/protocols/eventpiper/index.js';
import { IdTracker } from '../../src/sources/idTracker.js';
import { MemoryStore } from '../../src/store/memory.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { captureLogger } from '../http/helpers.js';

/**
 * The EventPiper mirror's position across a handover: rows commit in commit order, not id
 * order, so the position a successor starts from must stay below a row that took its id earlier
 * but has not committed yet.
 */

let pg: TestPostgres;
let sql: postgres.Sql;
beforeAll(async () => {
  pg = await startPostgres();
  sql = postgres(pg.url, { onnotice: () => {}, max: 3 });
});
afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await pg?.stop();
});

describe('IdTracker.settled', () => {
  it('is the highest id up to which every id has been accepted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 50 }), fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 150 }), (start, arrivals) => {
        const tracker = new IdTracker(start, 1000, 60_000, () => 0);
        const accepted = new Set<number>();
        for (const id of arrivals) {
          if (id > start) accepted.add(id);
          tracker.accept(id);
          let expected = start;
          while (accepted.has(expected + 1)) expected++;
          // Nothing accepted beyond the run: the settled id is the highest accepted one.
          if (![...accepted].some((a) => a > expected)) expected = Math.max(start, ...accepted);
          expect(tracker.settled).toBe(expected);
        }
      }),
    );
    let now = 0;
    const tracker = new IdTracker(10, 1000, 1000, () => now);
    tracker.accept(14);
    expect(tracker.settled).toBe(10);
    now = 2000; // the holes are given up (rolled back)
    expect(tracker.settled).toBe(14);
  });
});

describe('EventPiper mirror handover', () => {
  it('a row that commits late with a lower id is appended by the next node, not skipped', async () => {
    const hub = new Hub({ store: new MemoryStore(), retentionIntervalMs: 0 });
    await hub.start();
    const config = configSchema.parse({ eventpiper: { port: 0, database: pg.url, stream: 'mirrored', mirrorLeaseMs: 600 } });
    const first = createEventPiperListener(hub, config, captureLogger().logger);
    await first.start();
    await first.source.ready;
    await expect.poll(() => first.mirror!.isHolder, { timeout: 5000 }).toBe(true);
    const stored = async (id: number): Promise<boolean> => (await hub.store.lookupId(`eventpiper:${id}`)) !== undefined;
    const insertRow = (t: postgres.Sql | postgres.TransactionSql, n: number) => t<Array<{ id: string }>>`insert into events (type, timestamp, subscriber, payload) values ('t', now(), 'm', ${sql.json({ n })}) returning id`;

    // A transaction takes an id and holds it; a row after it commits and is mirrored.
    let commit!: () => void;
    const committing = new Promise<void>((r) => (commit = r));
    let lateId!: number;
    const taken = new Promise<void>((resolve) => {
      void sql.begin(async (t) => {
        lateId = Number((await insertRow(t, 1))[0]!.id);
        resolve();
        await committing;
      });
    });
    await taken;
    const nextId = Number((await insertRow(sql, 2))[0]!.id);
    expect(nextId).toBeGreaterThan(lateId);
    await expect.poll(() => stored(nextId), { timeout: 5000 }).toBe(true);

    // The node stops; the late row commits while no node mirrors; another node takes over.
    await first.stop();
    commit();
    await expect.poll(async () => (await sql`select count(*)::int as n from events where id = ${lateId}`)[0]!.n, { timeout: 5000 }).toBe(1);
    const second = createEventPiperListener(hub, config, captureLogger().logger);
    await second.start();
    try {
      await expect.poll(() => stored(lateId), { timeout: 5000 }).toBe(true);
      const ids = (await hub.read('mirrored', { limit: 10_000 })).map((e) => e.id);
      expect(ids.filter((id) => id === `eventpiper:${lateId}` || id === `eventpiper:${nextId}`).sort()).toEqual([`eventpiper:${lateId}`, `eventpiper:${nextId}`].sort());
    } finally {
      await second.stop();
      await hub.close();
    }
  });
});
