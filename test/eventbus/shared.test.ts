import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MARKS_COLLECTION, StatusBook, VERSION_COLLECTION, WATERMARK_COLLECTION } from '../../src/protocols/eventbus/statuses.js';
import { streamUuid } from '../../src/protocols/eventbus/names.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { eventIds, req, startEventBus, type Conn, type EbServer } from './helpers.js';

/**
 * Event-bus statuses on a store shared by several nodes: two hubs, each with its own postgres
 * store and event-bus listener, on one embedded PostgreSQL schema (what two `herald serve`
 * processes are). A mark made through one node must be what the other one reports, and marks
 * made through both at once must leave one consistent state.
 */

let pg: TestPostgres;
let schemas = 0;
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

let servers: EbServer[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});

/** Two nodes on a fresh schema, a connection to each. */
async function twoNodes(): Promise<{ nodes: EbServer[]; a: Conn; b: Conn }> {
  const schema = `eb_shared_${++schemas}`;
  const first = await startEventBus({ store: { postgres: pg.url, schema } }); // creates the schema
  const second = await startEventBus({ store: { postgres: pg.url, schema } });
  servers.push(first, second);
  return { nodes: [first, second], a: await first.open(), b: await second.open() };
}

const OK_MARK = '{"operation":"mark_event","status":true}';
const mark = (id: string, status: number): string => req('mark_event', `{"event_id": "${id}", "status": ${status}}`);

async function writeN(conn: Conn, stream: string, n: number): Promise<string[]> {
  await conn.ask(req('create_stream', `{"stream_name": "${stream}"}`));
  const replies = await conn.ask(...Array.from({ length: n }, (_, i) => req('write_event', `{"stream_name": "${stream}", "event": {"n": ${i}}}`)));
  expect(replies.every((r) => r === '{"operation":"write_event","status":true}')).toBe(true);
  return eventIds((await conn.ask(req('get_stream_events', `{"stream_name": "${stream}"}`)))[0]!);
}

async function statuses(conn: Conn, stream: string): Promise<number[]> {
  const [reply] = await conn.ask(req('get_stream_events', `{"stream_name": "${stream}"}`));
  return (JSON.parse(reply!) as { body: { events: Array<{ status: number }> } }).body.events.map((e) => e.status);
}

/** The stored state breaks none of the layout's rules (statusState.ts). */
async function expectWellFormed(server: EbServer, stream: string): Promise<void> {
  const info = (await server.hub.getStream(stream))!;
  const id = streamUuid(info.name, info.created);
  const store = server.hub.store;
  const w = (await store.kvGet<number>(WATERMARK_COLLECTION, id)) ?? 0;
  for (const { key, value } of await store.kvList<number>(MARKS_COLLECTION, { prefix: `${id}:`, limit: 10_000 })) {
    const seq = Number(key.slice(id.length + 1));
    expect(seq <= w ? [0, 2] : [1, 2], `mark of seq ${seq} with watermark ${w}`).toContain(value);
  }
  // What a reader that loads the stored state afresh sees is what both nodes answer.
  const fresh = await new StatusBook(store).load(id, info.firstSeq);
  const stored = Array.from({ length: info.lastSeq }, (_, i) => fresh.status(i + 1));
  expect(stored).toEqual(await statuses(await server.open(), stream));
}

describe('event-bus statuses on a store shared by two nodes', () => {
  it('a mark made on one node is what process, retry and get_stream_events answer on the other', async () => {
    const { nodes, a, b } = await twoNodes();
    const ids = await writeN(a, 'orders', 6);
    expect(eventIds((await b.ask(req('process_events', '{"stream_name": "orders"}')))[0]!)).toEqual(ids);
    expect(await a.ask(mark(ids[0]!, 1), mark(ids[1]!, 1), mark(ids[3]!, 2))).toEqual([OK_MARK, OK_MARK, OK_MARK]);
    const [pending, retry] = await b.ask(req('process_events', '{"stream_name": "orders"}'), req('retry_events', '{"stream_name": "orders"}'));
    expect(eventIds(pending!)).toEqual([ids[2], ids[4], ids[5]]);
    expect(eventIds(retry!)).toEqual([ids[3]]);
    // Node B had its own copy loaded: a change made on A afterwards still shows on B, and the
    // other way round, including a mark that only makes sense on top of the other node's
    // (re-opening an event A moved the watermark over).
    await b.ask(mark(ids[0]!, 0), mark(ids[2]!, 1));
    expect(await statuses(a, 'orders')).toEqual([0, 1, 1, 2, 0, 0]);
    await a.ask(mark(ids[3]!, 1), mark(ids[0]!, 1));
    expect(await statuses(b, 'orders')).toEqual([1, 1, 1, 1, 0, 0]);
    expect(eventIds((await b.ask(req('process_events', '{"stream_name": "orders"}')))[0]!)).toEqual([ids[4], ids[5]]);
    await expectWellFormed(nodes[0]!, 'orders');
  });

  it('follow any sequence of marks made through either node, as a single state would', async () => {
    const { nodes, a, b } = await twoNodes();
    const ids = await writeN(a, 'seq', 12);
    const model = new Array<number>(12).fill(0);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 11 }), fc.constantFrom(0, 1, 1, 2)), { minLength: 1, maxLength: 12 }), async (marks) => {
        // One node at a time, each mark answered before the next: every answer must see every earlier mark.
        for (const [onA, i, s] of marks) {
          expect(await (onA ? a : b).ask(mark(ids[i]!, s))).toEqual([OK_MARK]);
          model[i] = s;
        }
        expect(await statuses(a, 'seq')).toEqual(model);
        expect(await statuses(b, 'seq')).toEqual(model);
        expect(eventIds((await b.ask(req('process_events', '{"stream_name": "seq"}')))[0]!)).toEqual(ids.filter((_, i) => model[i] === 0));
      }),
      { numRuns: 25 },
    );
    await expectWellFormed(nodes[1]!, 'seq');
  });

  it('two clients on two nodes marking the same events concurrently leave one consistent state', async () => {
    const { nodes, a, b } = await twoNodes();
    const ids = await writeN(a, 'c', 200);
    const pick = (seed: number): string[] => ids.map((id, i) => mark(id, (i * seed) % 3));
    const [fromA, fromB] = await Promise.all([a.ask(...pick(7), ...pick(5)), b.ask(...pick(11), ...pick(1).reverse())]);
    expect([...fromA, ...fromB].every((r) => r === OK_MARK)).toBe(true);
    const final = await statuses(a, 'c');
    expect(await statuses(b, 'c')).toEqual(final);
    // Each event ends with the last status one of the two clients sent for it.
    final.forEach((s, i) => expect([(i * 5) % 3, i % 3]).toContain(s));
    const [pending, retry] = await b.ask(req('process_events', '{"stream_name": "c"}'), req('retry_events', '{"stream_name": "c"}'));
    expect(eventIds(pending!)).toEqual(ids.filter((_, i) => final[i] === 0));
    expect(eventIds(retry!)).toEqual(ids.filter((_, i) => final[i] === 2));
    await expectWellFormed(nodes[0]!, 'c');
  });

  it('two consumers on two nodes processing in order leave everything processed: the watermark never moves back', async () => {
    const { nodes, a, b } = await twoNodes();
    const ids = await writeN(a, 'w', 300);
    // Both mark every event processed, in order, in pipelined bursts, at the same time.
    const consume = async (conn: Conn, from: number): Promise<void> => {
      for (let i = from; i < from + ids.length; i += 25) {
        const burst = Array.from({ length: 25 }, (_, k) => ids[(i + k) % ids.length]!);
        expect(new Set(await conn.ask(...burst.map((id) => mark(id, 1))))).toEqual(new Set([OK_MARK]));
      }
    };
    await Promise.all([consume(a, 0), consume(b, 150)]);
    expect(await statuses(b, 'w')).toEqual(new Array<number>(300).fill(1));
    // A late acknowledgement through a node whose last look is old: node B read the statuses
    // (nothing processed), then A's consumer processed everything, then B's consumer acknowledges
    // the first event (redelivered to it). Computed from B's old copy, that mark would store the
    // watermark as 1, un-processing everything after it.
    const late = await writeN(a, 'late', 50);
    expect(eventIds((await b.ask(req('process_events', '{"stream_name": "late"}')))[0]!)).toEqual(late);
    await a.ask(...late.map((id) => mark(id, 1)));
    expect(await b.ask(mark(late[0]!, 1))).toEqual([OK_MARK]);
    expect(await statuses(a, 'late')).toEqual(new Array<number>(50).fill(1));
    expect(eventIds((await a.ask(req('process_events', '{"stream_name": "w"}')))[0]!)).toEqual([]);
    const store = nodes[0]!.hub.store;
    const info = (await nodes[0]!.hub.getStream('w'))!;
    const id = streamUuid(info.name, info.created);
    expect(await store.kvGet(WATERMARK_COLLECTION, id)).toBe(300);
    expect(await store.kvList(MARKS_COLLECTION, { prefix: `${id}:` })).toEqual([]);
    expect(await store.kvGet<number>(VERSION_COLLECTION, id)).toBeGreaterThan(1);
  });
});
