import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { MARKS_COLLECTION, WATERMARK_COLLECTION } from '../../src/protocols/eventbus/statuses.js';
import { tempDir } from '../helpers/tmp.js';
import { eventIds, req, startEventBus, type Conn, type EbServer } from './helpers.js';

/** Statuses, ordering, expiry and the bridge to Herald's log, on real stores. */

interface WireEvent {
  id: string;
  status: number;
  body: unknown;
  created_at: string;
}

const events = (reply: string): WireEvent[] => (JSON.parse(reply) as { body: { events: WireEvent[] } }).body.events;

let servers: EbServer[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
  for (const c of cleanups.splice(0)) c();
});

async function start(options: Parameters<typeof startEventBus>[0] = {}): Promise<{ server: EbServer; conn: Conn }> {
  const server = await startEventBus(options);
  servers.push(server);
  return { server, conn: await server.open() };
}

async function writeN(conn: Conn, stream: string, n: number, from = 0): Promise<void> {
  const replies = await conn.ask(...Array.from({ length: n }, (_, i) => req('write_event', `{"stream_name": "${stream}", "event": {"n": ${from + i}}}`)));
  expect(replies.every((r) => r === '{"operation":"write_event","status":true}')).toBe(true);
}

async function statuses(conn: Conn, stream: string): Promise<number[]> {
  return events((await conn.ask(req('get_stream_events', `{"stream_name": "${stream}"}`)))[0]!).map((e) => e.status);
}

describe('statuses', () => {
  it('follow every sequence of marks, and process/retry list exactly the events with status 0 and 2', async () => {
    const { conn } = await start();
    await conn.ask(req('create_stream', '{"stream_name": "s"}'));
    await writeN(conn, 's', 30);
    const ids = events((await conn.ask(req('get_stream_events', '{"stream_name": "s"}')))[0]!).map((e) => e.id);
    const model = new Array<number>(30).fill(0);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: 29 }), fc.constantFrom(0, 1, 1, 1, 2)), { maxLength: 40 }), fc.boolean(), async (marks, inOrder) => {
        // Often a consumer's run: marking 1 in order (moves the watermark).
        const run = inOrder ? marks.map(([, s], i) => [i % 30, s === 2 ? 2 : 1] as [number, number]) : marks;
        const replies = await conn.ask(...run.map(([i, s]) => req('mark_event', `{"event_id": "${ids[i]}", "status": ${s}}`)));
        expect(new Set(replies)).toEqual(new Set(run.length ? ['{"operation":"mark_event","status":true}'] : []));
        for (const [i, s] of run) model[i] = s;
        expect(await statuses(conn, 's')).toEqual(model);
        const [pending, retry] = await conn.ask(req('process_events', '{"stream_name": "s"}'), req('retry_events', '{"stream_name": "s"}'));
        expect(eventIds(pending!)).toEqual(ids.filter((_, i) => model[i] === 0));
        expect(eventIds(retry!)).toEqual(ids.filter((_, i) => model[i] === 2));
      }),
      { numRuns: 60 },
    );
  });

  it('a consumer marking in order moves the watermark and leaves no per-event entries', async () => {
    const { server, conn } = await start();
    await conn.ask(req('create_stream', '{"stream_name": "w"}'));
    await writeN(conn, 'w', 50);
    const ids = eventIds((await conn.ask(req('process_events', '{"stream_name": "w"}')))[0]!);
    await conn.ask(...ids.slice(0, 40).map((id) => req('mark_event', `{"event_id": "${id}", "status": 1}`)));
    expect(await server.hub.store.kvList(MARKS_COLLECTION)).toEqual([]);
    expect((await server.hub.store.kvList(WATERMARK_COLLECTION)).map((e) => e.value)).toEqual([40]);
    expect(eventIds((await conn.ask(req('process_events', '{"stream_name": "w"}')))[0]!)).toEqual(ids.slice(40));
    // Out of order: an entry until the watermark reaches it.
    await conn.ask(req('mark_event', `{"event_id": "${ids[42]}", "status": 1}`));
    expect((await server.hub.store.kvList(MARKS_COLLECTION)).length).toBe(1);
    await conn.ask(req('mark_event', `{"event_id": "${ids[40]}", "status": 1}`), req('mark_event', `{"event_id": "${ids[41]}", "status": 1}`));
    expect(await server.hub.store.kvList(MARKS_COLLECTION)).toEqual([]);
    expect((await server.hub.store.kvList(WATERMARK_COLLECTION)).map((e) => e.value)).toEqual([43]);
  });

  it('survive a restart on LMDB, with streams and events', async () => {
    const dir = tempDir('herald-eb-restart-');
    cleanups.push(dir.cleanup);
    const first = await start({ store: { path: dir.path } });
    await first.conn.ask(req('create_stream', '{"stream_name": "keep"}'), req('create_stream', '{"stream_name": "other"}'));
    await writeN(first.conn, 'keep', 10);
    const ids = eventIds((await first.conn.ask(req('get_stream_events', '{"stream_name": "keep"}')))[0]!);
    const marks: Array<[number, number]> = [[0, 1], [1, 1], [2, 0], [4, 2], [5, 1], [7, 2], [1, 0]];
    await first.conn.ask(...marks.map(([i, s]) => req('mark_event', `{"event_id": "${ids[i]}", "status": ${s}}`)));
    const before = (await first.conn.ask(req('get_stream_info', '{"stream_name": "keep"}'), req('get_stream_events', '{"stream_name": "keep"}'), req('get_stream_info', '{"stream_name": "other"}')));
    expect(events(before[1]!).map((e) => e.status)).toEqual([1, 0, 0, 0, 2, 1, 0, 2, 0, 0]);
    first.conn.close();
    await first.server.close();

    const second = await start({ store: { path: dir.path } });
    const after = await second.conn.ask(req('get_stream_info', '{"stream_name": "keep"}'), req('get_stream_events', '{"stream_name": "keep"}'), req('get_stream_info', '{"stream_name": "other"}'));
    expect(after).toEqual(before);
    expect(eventIds((await second.conn.ask(req('process_events', '{"stream_name": "keep"}')))[0]!)).toEqual([1, 2, 3, 6, 8, 9].map((i) => ids[i]));
  });

  it('two clients marking the same events concurrently leave one consistent state, also after a restart', async () => {
    const dir = tempDir('herald-eb-concurrent-');
    cleanups.push(dir.cleanup);
    const { server, conn } = await start({ store: { path: dir.path } });
    await conn.ask(req('create_stream', '{"stream_name": "c"}'));
    await writeN(conn, 'c', 200);
    const ids = eventIds((await conn.ask(req('process_events', '{"stream_name": "c"}')))[0]!);
    const other = await server.open();
    const pick = (seed: number) => ids.map((id, i) => req('mark_event', `{"event_id": "${id}", "status": ${(i * seed) % 3}}`));
    const [a, b] = await Promise.all([conn.ask(...pick(7), ...pick(5)), other.ask(...pick(11), ...pick(1).reverse())]);
    expect([...a, ...b].every((r) => r === '{"operation":"mark_event","status":true}')).toBe(true);
    const final = await statuses(conn, 'c');
    const [pending, retry] = await conn.ask(req('process_events', '{"stream_name": "c"}'), req('retry_events', '{"stream_name": "c"}'));
    expect(eventIds(pending!)).toEqual(ids.filter((_, i) => final[i] === 0));
    expect(eventIds(retry!)).toEqual(ids.filter((_, i) => final[i] === 2));
    // Each event ends with the last status one of the two clients sent for it.
    final.forEach((s, i) => expect([(i * 5) % 3, i % 3]).toContain(s));
    other.close();
    conn.close();
    await server.close();
    const again = await start({ store: { path: dir.path } });
    expect(await statuses(again.conn, 'c')).toEqual(final);
  });

  it('a deleted and re-created stream starts with no statuses; stale state is swept at start', async () => {
    const dir = tempDir('herald-eb-recreate-');
    cleanups.push(dir.cleanup);
    const { server, conn } = await start({ store: { path: dir.path } });
    await conn.ask(req('create_stream', '{"stream_name": "r"}'));
    await writeN(conn, 'r', 3);
    const ids = eventIds((await conn.ask(req('process_events', '{"stream_name": "r"}')))[0]!);
    await conn.ask(req('mark_event', `{"event_id": "${ids[0]}", "status": 1}`), req('mark_event', `{"event_id": "${ids[2]}", "status": 2}`));
    await conn.ask(req('delete_stream', '{"stream_name": "r"}'), req('create_stream', '{"stream_name": "r"}'));
    expect(await server.hub.store.kvList(MARKS_COLLECTION)).toEqual([]);
    expect(await server.hub.store.kvList(WATERMARK_COLLECTION)).toEqual([]);
    await writeN(conn, 'r', 3);
    expect(await statuses(conn, 'r')).toEqual([0, 0, 0]);
    // Marks of a stream deleted by another protocol go at the next start.
    const fresh = eventIds((await conn.ask(req('process_events', '{"stream_name": "r"}')))[0]!);
    await conn.ask(req('mark_event', `{"event_id": "${fresh[2]}", "status": 2}`));
    await server.hub.deleteStream('r');
    conn.close();
    await server.close();
    const again = await start({ store: { path: dir.path } });
    await expect.poll(async () => (await again.server.hub.store.kvList(MARKS_COLLECTION)).length).toBe(0);
    expect(await again.server.hub.store.kvList(WATERMARK_COLLECTION)).toEqual([]);
  });
});

describe("Herald's log", () => {
  it('events published by other protocols appear in process_events and can be marked', async () => {
    const { server, conn } = await start();
    const hub = server.hub;
    await hub.publish({ stream: 'orders', contentType: 'application/json', data: Buffer.from('{ "id" : 1, "note": "<b>" }') });
    await hub.publish({ stream: 'orders', contentType: 'text/plain', data: Buffer.from('hello "you"') });
    await hub.publish({ stream: 'orders', contentType: 'application/octet-stream', data: Buffer.from([0xff, 0x00, 0x01]) });
    await hub.publish({ stream: 'orders', id: 'order-4', contentType: 'application/json', data: Buffer.from('not json') });
    const [reply] = await conn.ask(req('process_events', '{"stream_name": "orders"}'));
    expect([...reply!.matchAll(/"created_at":"[^"]*","body":(.*?)}(?=,\{"id"|]})/g)].map((m) => m[1])).toEqual(['{"id":1,"note":"\\u003cb\\u003e"}', '"hello \\"you\\""', '"/wAB"', '"not json"']);
    expect(events(reply!).map((e) => e.id).at(-1)).toBe('order-4');
    expect(await conn.ask(req('mark_event', '{"event_id": "order-4", "status": 2}'))).toEqual(['{"operation":"mark_event","status":true}']);
    expect(eventIds((await conn.ask(req('retry_events', '{"stream_name": "orders"}')))[0]!)).toEqual(['order-4']);
  });

  it('events written here are ordinary Herald events: live tails see them, in seq order', async () => {
    const { server, conn } = await start();
    await conn.ask(req('create_stream', '{"stream_name": "live"}'));
    const abort = new AbortController();
    const seen: string[] = [];
    const tail = (async () => {
      for await (const e of server.hub.tail('live', { signal: abort.signal })) {
        seen.push(Buffer.from(e.data).toString());
        if (seen.length === 20) abort.abort();
      }
    })();
    await writeN(conn, 'live', 20);
    await tail;
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `{"n":${i}}`));
    const stored = await server.hub.read('live');
    expect(eventIds((await conn.ask(req('get_stream_events', '{"stream_name": "live"}')))[0]!)).toEqual(stored.map((e) => e.id));
  });

  it('streams made by create_stream expire events after 30 days by default, or per stream; expired events vanish at once', async () => {
    const { server, conn } = await start({ eventbus: { streamExpiryMs: { short: 150, never: 0 } } });
    await conn.ask(req('create_stream', '{"stream_name": "default"}'), req('create_stream', '{"stream_name": "short"}'), req('create_stream', '{"stream_name": "never"}'));
    expect((await server.hub.getStream('default'))!.retention).toEqual({ maxAgeMs: 30 * 24 * 3600 * 1000 });
    expect((await server.hub.getStream('short'))!.retention).toEqual({ maxAgeMs: 150 });
    expect((await server.hub.getStream('never'))!.retention).toEqual({});
    await writeN(conn, 'short', 2);
    expect(eventIds((await conn.ask(req('process_events', '{"stream_name": "short"}')))[0]!)).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 200));
    expect(await conn.ask(req('process_events', '{"stream_name": "short"}'), req('get_stream_events', '{"stream_name": "short"}'))).toEqual([
      '{"operation":"process_events","status":true,"body":{"events":[]}}',
      '{"operation":"get_stream_events","status":true,"body":{"events":[]}}',
    ]);
  });

  it('a reply holds at most maxEventsPerReply events, the oldest first', async () => {
    const { conn } = await start({ eventbus: { maxEventsPerReply: 7 } });
    await conn.ask(req('create_stream', '{"stream_name": "big"}'));
    await writeN(conn, 'big', 20);
    const first = events((await conn.ask(req('process_events', '{"stream_name": "big"}')))[0]!);
    expect(first.map((e) => (e.body as { n: number }).n)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    await conn.ask(...first.map((e) => req('mark_event', `{"event_id": "${e.id}", "status": 1}`)));
    expect(events((await conn.ask(req('process_events', '{"stream_name": "big"}')))[0]!).map((e) => (e.body as { n: number }).n)).toEqual([7, 8, 9, 10, 11, 12, 13]);
  });

  it('pipelined requests of one connection see their own earlier writes', async () => {
    const { conn } = await start();
    const replies = await conn.ask(
      req('create_stream', '{"stream_name": "p"}'),
      ...Array.from({ length: 5 }, (_, i) => req('write_event', `{"stream_name": "p", "event": ${i}}`)),
      req('process_events', '{"stream_name": "p"}'),
      req('delete_stream', '{"stream_name": "p"}'),
      req('write_event', '{"stream_name": "p", "event": 5}'),
    );
    expect(replies[0]).toContain('"status":true');
    expect(events(replies[6]!).map((e) => e.body)).toEqual([0, 1, 2, 3, 4]);
    expect(replies.slice(7)).toEqual(['{"operation":"delete_stream","status":true}', `{"operation":"write_event","status":false,"reason":"stream 'p' not found"}`]);
  });
});
