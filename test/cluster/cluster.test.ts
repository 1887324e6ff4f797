import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { EventBusConsumer, EventBusLink, eventBusView, eventBusWriteLoop, EVENTBUS_ENV, type EventBusWriterStats } from './eventbus.js';
import { committedRows, EventPiperSession, insertLoop } from './eventpiper.js';
import {
  Cluster, PollingConsumer, publishLoop, readAll, readyStatus, SseConsumer, until, WebhookConsumer, WsConsumer, type Consumer, type PublisherStats,
} from './harness.js';

/**
 * Three `herald serve` processes on one embedded PostgreSQL. Every node publishes to every
 * stream and every node reads every stream (paging, SSE and WebSocket); each stream also has a
 * webhook subscription, whose lane runs on one node at a time. Alongside: an event-bus writer
 * on node 0 with a processor on node 1 and a retrier on node 2 (statuses made on one node must
 * steer the others), and an application inserting EventPiper rows, read by `GET /events`
 * sessions on every node and mirrored into the Herald stream `eventpiper` by one node at a time
 * (SSE on node 2 reads it). Meanwhile node 0 (driving the webhook lanes, the EventPiper mirror
 * and the event-bus writer's connection) is SIGKILLed and restarted, and the database is stopped
 * and started again. At the end: no acknowledged event lost, each stream gap-free 1..n, each
 * publisher's events in its order, every reader saw every seq exactly once in order, every
 * webhook endpoint got every event in order, duplicates only as redeliveries (at least once);
 * every event-bus event processed, with the same statuses on every node; every EventPiper row
 * exactly once, in order, on every session and in the mirror stream.
 *
 * A new way to consume is one more `Consumer` in harness.ts; the checks at the end apply to
 * every consumer. CLUSTER_DEBUG=1 prints a timeline and the nodes' warnings.
 */

const NODES = 3;
const STREAMS = ['orders', 'audit'];
const DEBUG = Boolean(process.env.CLUSTER_DEBUG);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let pg: TestPostgres;
let cluster: Cluster;

beforeAll(async () => {
  pg = await startPostgres();
  // Webhook lanes fail over within a second and re-read subscriptions often, to fit a short test.
  // So does the EventPiper mirror; the EventPiper table lives in the same database.
  cluster = new Cluster(pg, 'cluster', {
    HERALD_WEBHOOKS_LEASE_MS: '1000', HERALD_WEBHOOKS_SYNC_INTERVAL_MS: '200', HERALD_WEBHOOKS_RETRY_SCHEDULE: '[100,200,400,800]',
    HERALD_EVENTPIPER_DATABASE: pg.url, HERALD_EVENTPIPER_MIRROR_LEASE_MS: '1000', HERALD_EVENTPIPER_RECONNECT_MAX_MS: '200',
    ...EVENTBUS_ENV,
  });
  // The first node creates the schema; the others start in the test.
  await cluster.start(0);
});

afterAll(async () => {
  await cluster?.stopAll();
  await pg?.stop();
});

const readyStatuses = (): Promise<number[]> => Promise.all([0, 1, 2].map((n) => readyStatus(cluster.url(n))));
/** Waits until every node answers /ready with `status`; a timeout says what each one answers. */
const untilAllReady = (status: number, timeoutMs: number, what: string): Promise<void> =>
  until(async () => (await readyStatuses()).every((s) => s === status), timeoutMs, what).catch(async (err: Error) => {
    throw new Error(`${err.message}: /ready answers ${(await readyStatuses()).join(', ')} (0: no answer within 2 s)\n${cluster.describe()}`);
  });

describe('a cluster of three nodes on one PostgreSQL', () => {
  it('loses no acknowledged event and keeps order through a SIGKILLed node and a database restart', async () => {
    const c = cluster;
    const started = performance.now();
    const mark = (what: string): void => {
      if (DEBUG) console.log(`${Math.round(performance.now() - started)} ms: ${what}`);
    };
    const stats: PublisherStats = { acked: [], attempted: new Set(), failures: new Map() };
    const publishing = new AbortController();
    const consuming = new AbortController();
    const consumers: Consumer[] = [];
    for (let n = 0; n < NODES; n++) {
      for (const stream of STREAMS) consumers.push(new PollingConsumer(`poll@${n}/${stream}`, stream, c, n), new SseConsumer(`sse@${n}/${stream}`, stream, c, n), new WsConsumer(`ws@${n}/${stream}`, stream, c, n));
    }
    consumers.push(new SseConsumer('sse@2/eventpiper', 'eventpiper', c, 2));
    // Subscribed while node 0 is alone, so node 0 drives both webhook lanes: it is the one killed.
    const hooks = STREAMS.map((stream) => new WebhookConsumer(`webhook/${stream}`, stream, c, 0));
    for (const hook of hooks) await hook.subscribe(0);
    consumers.push(...hooks);
    await Promise.all(Array.from({ length: NODES - 1 }, (_, i) => c.start(i + 1)));
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    const mirrorHolder = async (): Promise<string> => (await admin.unsafe<Array<{ holder: string }>>(`SELECT holder FROM cluster.leases WHERE name = 'eventpiper-source'`))[0]?.holder ?? '';
    const laneHolders = async (): Promise<string[]> => (await admin.unsafe<Array<{ holder: string }>>(`SELECT holder FROM cluster.leases WHERE name NOT IN ('herald.retention', 'eventpiper-source') ORDER BY name`)).map((r) => r.holder);
    // Event-bus: the stream exists before its clients start; the writer's home is node 0.
    const links = [0, 1, 2].map((n) => new EventBusLink(c, n));
    await links[1]!.use((client) => client.createStream('jobs'));
    const ebStats: EventBusWriterStats = { acked: [], uncertain: new Set(), attempted: 0 };
    const ebConsumers = [new EventBusConsumer('eventbus processor@1', links[1]!, 'jobs', 'processor'), new EventBusConsumer('eventbus retrier@2', links[2]!, 'jobs', 'retrier')];
    // EventPiper: sessions open before the first row (the table is created by the nodes' sources).
    await until(() => committedRows(pg.url).then(() => true, () => false), 10_000, 'the EventPiper table');
    const sessions = [0, 1, 2].map((n) => new EventPiperSession(`eventpiper session@${n}`, c, n));
    const piperStats = { inserted: 0, failures: 0 };

    const reading = [...consumers.map((consumer) => consumer.run(consuming.signal)), ...ebConsumers.map((k) => k.run(consuming.signal)), ...sessions.map((s) => s.run(consuming.signal))];
    await Promise.all(sessions.map((s) => s.open));
    const publishers = [
      ...Array.from({ length: NODES }, (_, n) => STREAMS.map((s) => publishLoop(c, n, s, publishing.signal, stats))).flat(),
      eventBusWriteLoop(links[0]!, 'jobs', publishing.signal, ebStats),
      insertLoop(pg.url, publishing.signal, piperStats),
    ];
    const stored = new Map<string, Array<{ seq: number; id: string; data: unknown }>>();
    let rows: number[] = [];
    let ackedBeforeKill = 0;
    let refused = 0;
    try {
      await sleep(1000);
      // The node driving the webhook lanes dies mid-delivery, with publishes and reads in
      // flight; another node takes the lanes over once their leases lapse; the dead one returns.
      const holdersBefore = await laneHolders();
      expect(holdersBefore).toHaveLength(STREAMS.length);
      // Node 0, the first to start, also holds the EventPiper mirror.
      expect(await mirrorHolder()).toContain(`:${c.node(0)!.child.pid}:`);
      ackedBeforeKill = stats.acked.length;
      await c.kill(0);
      expect(c.node(0)!.child.signalCode).toBe('SIGKILL');
      await until(async () => (await laneHolders()).every((h, i) => h !== holdersBefore[i]), 10_000, 'the webhook lanes to fail over');
      mark('lanes failed over');
      await until(async () => !(await mirrorHolder()).includes(`:${c.node(0)!.child.pid}:`), 10_000, 'the EventPiper mirror to fail over');
      await c.start(0);
      await sleep(500);
      mark('node 0 back');

      // The database goes away: every node turns unready and refuses publishes with 503 …
      await pg.halt();
      try {
        // Generous: each node notices at once (its LISTEN connection closes), but under the whole
        // suite's load a /ready answer itself can take seconds.
        await untilAllReady(503, 20_000, 'every node to answer /ready with 503');
        mark('every node unready');
        const res = await fetch(`${c.url(1)}/streams/orders/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"during":"outage"}' });
        refused = res.status;
        await res.body?.cancel();
        // Metrics still answer during the outage, and say the store is not ready.
        const metrics = await fetch(`${c.url(1)}/metrics`);
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toMatch(/^herald_store_ready 0$/m);
      } finally {
        await pg.start();
      }
      mark('database back');
      // … and recovers by itself once it is back.
      // Generous: under the whole suite's load PostgreSQL's own restart can take seconds.
      await untilAllReady(200, 30_000, 'every node to be ready again');
      mark('every node ready');
      expect(await (await fetch(`${c.url(1)}/metrics`)).text()).toMatch(/^herald_store_ready 1$/m);
      await sleep(800);
      publishing.abort();
      await Promise.all(publishers);

      // Every consumer catches up with the final head; the mirror, the EventPiper sessions and
      // the event-bus consumers with every row and event.
      rows = await committedRows(pg.url);
      await until(async () => (await readAll(c.url(0)!, 'eventpiper').catch(() => [])).length >= rows.length, 15_000, 'the mirror to append every row');
      for (const stream of [...STREAMS, 'eventpiper']) stored.set(stream, await readAll(c.url(0)!, stream));
      await until(() => consumers.every((k) => k.seqs.length >= stored.get(k.stream)!.length), 15_000, 'every consumer to reach the head');
      await until(() => sessions.every((s) => s.ids.length >= rows.length), 15_000, 'every EventPiper session to get every row');
      const drained = async (): Promise<boolean> => (await Promise.all([0, 1, 2].map((n) => eventBusView(c, n, 'jobs')))).every((v) => v.pending === 0 && v.retry === 0);
      await until(() => drained().catch(() => false), 15_000, 'the event-bus consumers to process every event');
      mark('every consumer caught up');
    } finally {
      publishing.abort();
      consuming.abort();
      await Promise.allSettled([...publishers, ...reading]);
      await admin.end();
      for (const link of links) link.close();
      if (DEBUG) {
        console.log(consumers.map((k) => `${k.name}: ${k.seqs.length} (+${k.redeliveries} again)`).join('\n'));
        console.log(`event-bus: ${ebStats.acked.length} acked of ${ebStats.attempted}, ${ebStats.uncertain.size} uncertain; ${ebConsumers.map((k) => `${k.name}: ${k.handled.size} handled, ${k.errors} errors`).join('; ')}`);
        console.log(`eventpiper: ${rows.length} rows (${piperStats.failures} failed inserts); ${sessions.map((s) => `${s.name}: ${s.ids.length} (${s.reconnects} reconnects)`).join('; ')}`);
        for (let n = 0; n < NODES; n++) for (const l of c.node(n)?.logs ?? []) if (Number(l.level) >= 50) console.log(`node ${n}:`, JSON.stringify(l).slice(0, 300));
      }
    }

    expect(refused).toBe(503);
    expect(stats.acked.length).toBeGreaterThan(ackedBeforeKill);
    expect(stats.failures.get(503) ?? 0).toBeGreaterThan(0); // publishers did hit the outage
    for (const stream of STREAMS) {
      const events = stored.get(stream)!;
      // Gap-free 1..n, every id unique and one that a publisher really sent.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      for (const e of events) expect(stats.attempted.has(e.id)).toBe(true);
      // Every acknowledged event is stored where its acknowledgement said, with its payload.
      for (const a of stats.acked.filter((x) => x.stream === stream)) {
        const e = events[a.seq - 1];
        expect(e?.id).toBe(a.id);
        expect(JSON.stringify(e?.data)).toBe(a.payload);
      }
      // Each publisher's events are stored in the order it published them.
      for (let n = 0; n < NODES; n++) {
        const mine = events.filter((e) => e.id.startsWith(`${stream}.n${n}.`)).map((e) => Number(e.id.split('.').at(-1)));
        expect(mine).toEqual([...mine].sort((x, y) => x - y));
      }
    }
    for (const k of consumers) {
      expect(k.violations, k.name).toEqual([]);
      const events = stored.get(k.stream)!;
      expect(k.seqs.slice(0, events.length), k.name).toEqual(events.map((e) => e.seq));
      for (const e of events) expect(k.payloads.get(e.seq), k.name).toBe(JSON.stringify(e.data));
    }

    // EventPiper: rows were inserted across the outage; every session (on the surviving nodes,
    // and on node 0 resuming with Last-Event-ID after its restart) got each exactly once, in
    // order, and the mirror appended each once, in order, through the handover of its lease.
    expect(piperStats.failures).toBeGreaterThan(0);
    expect(rows.length).toBeGreaterThan(50);
    for (const s of sessions) {
      expect(s.violations, s.name).toEqual([]);
      expect(s.ids, s.name).toEqual(rows);
    }
    expect(stored.get('eventpiper')!.map((e) => e.id)).toEqual(rows.map((id) => `eventpiper:${id}`));

    // Event-bus: every acknowledged write stored, in the writer's order, twice only after a
    // failed attempt; every event processed (the retrier on node 2 turned the processor's
    // retries on node 1 into processed), and every node answers the same statuses.
    const views = await Promise.all([0, 1, 2].map((n) => eventBusView(c, n, 'jobs')));
    const ks = views[0]!.all.map((e) => (e.body as { k: number }).k);
    expect(ks).toEqual([...ks].sort((x, y) => x - y));
    for (const k of ebStats.acked) expect(ks).toContain(k);
    for (const k of new Set(ks)) if (ks.indexOf(k) !== ks.lastIndexOf(k)) expect(ebStats.uncertain.has(k), `k ${k} stored twice`).toBe(true);
    expect(views[0]!.all.every((e) => e.status === 1)).toBe(true);
    for (const v of views) expect(v.all.map((e) => [e.id, e.status])).toEqual(views[0]!.all.map((e) => [e.id, e.status]));
    for (const k of ebConsumers) {
      expect(k.violations, k.name).toEqual([]);
      expect(k.handled.size, `${k.name} handled retries`).toBeGreaterThan(5);
    }
  }, 120_000); // alone it takes about 20 s; under the whole suite it has run past 30 s
});
