import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import {
  Cluster, PollingConsumer, publishLoop, readAll, readyStatus, SseConsumer, until, WebhookConsumer, type Consumer, type PublisherStats,
} from './harness.js';

/**
 * Three `herald serve` processes on one embedded PostgreSQL. Every node publishes to every
 * stream and every node reads every stream (paging and SSE); each stream also has a webhook
 * subscription, whose lane runs on one node at a time. Meanwhile one node is SIGKILLed and
 * restarted and the database is stopped and started again. At the end: no acknowledged event
 * lost, each stream gap-free 1..n, each publisher's events in its order, every reader saw every
 * seq exactly once in order, every webhook endpoint got every event, in order, duplicates only
 * as redeliveries (at least once).
 */

const NODES = 3;
const STREAMS = ['orders', 'audit'];
function dumpNodeWarnings(c: Cluster): void {
  if (!process.env.CLUSTER_DEBUG) return;
  for (let n = 0; n < NODES; n++) for (const l of c.node(n)!.logs) if (Number(l.level) >= 40) console.log('NODE', n, JSON.stringify(l).slice(0, 300));
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let pg: TestPostgres;
const cluster = (): Cluster => state.cluster!;
const state: { cluster?: Cluster } = {};

beforeAll(async () => {
  pg = await startPostgres();
  // Webhook lanes fail over within a second and re-read subscriptions often, to fit a short test.
  state.cluster = new Cluster(pg, 'cluster', { HERALD_WEBHOOKS_LEASE_MS: '1000', HERALD_WEBHOOKS_SYNC_INTERVAL_MS: '200', HERALD_WEBHOOKS_RETRY_SCHEDULE: '[100,200,400,800]' });
  // The first node migrates the schema; the others start in the test, together.
  await cluster().start(0);
});

afterAll(async () => {
  await state.cluster?.stopAll();
  await pg?.stop();
});

describe('a cluster of three nodes on one PostgreSQL', () => {
  it('loses no acknowledged event and keeps order through a SIGKILLed node and a database restart', async () => {
    const c = cluster();
    const stats: PublisherStats = { acked: [], attempted: new Set(), failures: new Map() };
    const publishing = new AbortController();
    const consuming = new AbortController();
    const consumers: Consumer[] = [];
    for (let n = 0; n < NODES; n++) {
      for (const stream of STREAMS) {
        consumers.push(new PollingConsumer(`poll@${n}/${stream}`, stream, c, n));
        consumers.push(new SseConsumer(`sse@${n}/${stream}`, stream, c, n));
      }
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

    const t0 = performance.now();
    const mark = (what: string): void => { if (process.env.CLUSTER_DEBUG) console.log(what, Math.round(performance.now() - t0), Date.now()); };
    await sleep(1000);
    // The node driving the webhook lanes dies mid-delivery, with publishes and reads in flight;
    // another node takes the lanes over once their leases lapse, and the dead one comes back.
    const holdersBefore = await laneHolders();
    expect(holdersBefore).toHaveLength(STREAMS.length);
    const ackedBeforeKill = stats.acked.length;
    await c.kill(0);
    expect(c.node(0)!.child.signalCode).toBe('SIGKILL');
    await until(async () => (await laneHolders()).every((h, i) => h !== holdersBefore[i]), 10_000, 'the webhook lanes to fail over');
    await c.start(0);
    await sleep(500);

    // The database goes away: every node turns unready and refuses publishes with 503 …
    mark('restarted node 0');
    await pg.halt();
    let refused = 0;
    try {
      await until(async () => (await Promise.all([0, 1, 2].map((n) => readyStatus(c.url(n))))).every((s) => s === 503), 5000, 'every node to answer /ready with 503');
      const res = await fetch(`${c.url(1)}/streams/orders/events`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"during":"outage"}' });
      refused = res.status;
      await res.body?.cancel();
    } finally {
      await pg.start();
    }
    expect(refused).toBe(503);
    mark('database back');
    // … and recovers by itself once it is back.
    await until(async () => (await Promise.all([0, 1, 2].map((n) => readyStatus(c.url(n))))).every((s) => s === 200), 15_000, 'every node to be ready again').catch((e) => { dumpNodeWarnings(c); throw e; });
    mark('all ready');
    await sleep(800);
    publishing.abort();
    await Promise.all(publishers);

    // Every consumer catches up with the final head.
    const stored = new Map<string, Array<{ seq: number; id: string; data: unknown }>>();
    for (const stream of STREAMS) stored.set(stream, await readAll(c.url(0)!, stream));
    const dumpWarnings = (): void => dumpNodeWarnings(c);
    const lagging = setInterval(() => mark(`lagging: ${consumers.filter((k) => k.seqs.length < stored.get(k.stream)!.length).map((k) => `${k.name}=${k.seqs.length}`).join(' ')}`), 500);
    await until(() => consumers.every((k) => k.seqs.length >= stored.get(k.stream)!.length), 15_000, 'every consumer to reach the head').finally(() => clearInterval(lagging));
    mark('consumers caught up');
    dumpWarnings();
    consuming.abort();
    await Promise.allSettled(reading);
    await admin.end();

    if (process.env.CLUSTER_DEBUG) console.log({ acked: stats.acked.length, failures: [...stats.failures], stored: [...stored].map(([k, v]) => [k, v.length]), t: Math.round(performance.now() - t0) });
    expect(stats.acked.length).toBeGreaterThan(ackedBeforeKill);
    expect(stats.failures.get(503) ?? 0).toBeGreaterThan(0); // publishers did hit the outage
    for (const stream of STREAMS) {
      const events = stored.get(stream)!;
      // Gap-free 1..n, every id unique and one that a publisher really sent.
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
      for (const e of events) expect(stats.attempted.has(e.id)).toBe(true);
      // Every acknowledged event is stored where its acknowledgement said, with its payload.
      const acked = stats.acked.filter((a) => a.stream === stream);
      for (const a of acked) {
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
    if (process.env.CLUSTER_DEBUG) console.log(consumers.map((k) => `${k.name}: ${k.seqs.length} (+${k.redeliveries} again)`).join('\n'));
    for (const k of consumers) {
      expect(k.violations, k.name).toEqual([]);
      const events = stored.get(k.stream)!;
      expect(k.seqs.slice(0, events.length), k.name).toEqual(events.map((e) => e.seq));
      for (const e of events) expect(k.payloads.get(e.seq), k.name).toBe(JSON.stringify(e.data));
    }
  });
});
