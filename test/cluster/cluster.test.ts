import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import {
  Cluster, PollingConsumer, publishLoop, readAll, readyStatus, SseConsumer, until, WebhookConsumer, type Consumer, type PublisherStats,
} from './harness.js';

/**
 * Three `herald serve` processes on one embedded PostgreSQL. Every node publishes to every
 * stream and every node reads every stream (paging and SSE); each stream also has a webhook
 * subscription, whose lane runs on one node at a time. Meanwhile the node driving the lanes is
 * SIGKILLed and restarted, and the database is stopped and started again. At the end: no
 * acknowledged event lost, each stream gap-free 1..n, each publisher's events in its order,
 * every reader saw every seq exactly once in order, every webhook endpoint got every event in
 * order, duplicates only as redeliveries (at least once).
 *
 * A new way to consume (event-bus, WebSocket) is one more `Consumer` in harness.ts; the checks
 * at the end apply to every consumer. CLUSTER_DEBUG=1 prints a timeline and the nodes' warnings.
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
  cluster = new Cluster(pg, 'cluster', { HERALD_WEBHOOKS_LEASE_MS: '1000', HERALD_WEBHOOKS_SYNC_INTERVAL_MS: '200', HERALD_WEBHOOKS_RETRY_SCHEDULE: '[100,200,400,800]' });
  // The first node creates the schema; the others start in the test.
  await cluster.start(0);
});

afterAll(async () => {
  await cluster?.stopAll();
  await pg?.stop();
});

const allReady = async (status: number): Promise<boolean> => (await Promise.all([0, 1, 2].map((n) => readyStatus(cluster.url(n))))).every((s) => s === status);

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
      for (const stream of STREAMS) consumers.push(new PollingConsumer(`poll@${n}/${stream}`, stream, c, n), new SseConsumer(`sse@${n}/${stream}`, stream, c, n));
    }
    // Subscribed while node 0 is alone, so node 0 drives both webhook lanes: it is the one killed.
    const hooks = STREAMS.map((stream) => new WebhookConsumer(`webhook/${stream}`, stream, c, 0));
    for (const hook of hooks) await hook.subscribe(0);
    consumers.push(...hooks);
    await Promise.all(Array.from({ length: NODES - 1 }, (_, i) => c.start(i + 1)));
    const admin = postgres(pg.url, { max: 1, onnotice: () => {} });
    const laneHolders = async (): Promise<string[]> => (await admin.unsafe<Array<{ holder: string }>>(`SELECT holder FROM cluster.leases WHERE name <> 'herald.retention' ORDER BY name`)).map((r) => r.holder);
    const reading = consumers.map((consumer) => consumer.run(consuming.signal));
    const publishers = Array.from({ length: NODES }, (_, n) => STREAMS.map((s) => publishLoop(c, n, s, publishing.signal, stats))).flat();
    const stored = new Map<string, Array<{ seq: number; id: string; data: unknown }>>();
    let ackedBeforeKill = 0;
    let refused = 0;
    try {
      await sleep(1000);
      // The node driving the webhook lanes dies mid-delivery, with publishes and reads in
      // flight; another node takes the lanes over once their leases lapse; the dead one returns.
      const holdersBefore = await laneHolders();
      expect(holdersBefore).toHaveLength(STREAMS.length);
      ackedBeforeKill = stats.acked.length;
      await c.kill(0);
      expect(c.node(0)!.child.signalCode).toBe('SIGKILL');
      await until(async () => (await laneHolders()).every((h, i) => h !== holdersBefore[i]), 10_000, 'the webhook lanes to fail over');
      mark('lanes failed over');
      await c.start(0);
      await sleep(500);
      mark('node 0 back');

      // The database goes away: every node turns unready and refuses publishes with 503 …
      await pg.halt();
      try {
        await until(() => allReady(503), 5000, 'every node to answer /ready with 503');
        const res = await fetch(`${c.url(1)}/streams/orders/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"during":"outage"}' });
        refused = res.status;
        await res.body?.cancel();
      } finally {
        await pg.start();
      }
      mark('database back');
      // … and recovers by itself once it is back.
      await until(() => allReady(200), 15_000, 'every node to be ready again');
      mark('every node ready');
      await sleep(800);
      publishing.abort();
      await Promise.all(publishers);

      // Every consumer catches up with the final head.
      for (const stream of STREAMS) stored.set(stream, await readAll(c.url(0)!, stream));
      await until(() => consumers.every((k) => k.seqs.length >= stored.get(k.stream)!.length), 15_000, 'every consumer to reach the head');
      mark('every consumer caught up');
    } finally {
      publishing.abort();
      consuming.abort();
      await Promise.allSettled([...publishers, ...reading]);
      await admin.end();
      if (DEBUG) {
        console.log(consumers.map((k) => `${k.name}: ${k.seqs.length} (+${k.redeliveries} again)`).join('\n'));
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
  });
});
