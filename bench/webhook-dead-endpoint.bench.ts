/**
 * webhook-dead-endpoint: 1,000,000 events published while 3 healthy endpoints receive them live,
 * once alone and once with a 4th endpoint that refuses connections. The dead endpoint's backlog
 * must stay on disk: Herald's RSS stays under 200 MB, and the healthy endpoints lose under 10%
 * of their delivery rate.
 */
import { readFileSync } from 'node:fs';
import { report, round } from './lib.js';
import { startHerald } from './servers.js';
import { publishMany, rssMb, startReceivers, subscribe, timeUntil } from './webhooks.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const HEALTHY = 3;
/** Nothing listens on port 1: every connection is refused at once. */
const DEAD_URL = 'http://127.0.0.1:1/refused';

interface Run {
  seconds: number;
  rate: number;
  peakRss: number;
  peakAnon: number;
  endRss: number;
  outOfOrder: number;
}

async function run(withDead: boolean): Promise<Run> {
  const receivers = await startReceivers(HEALTHY);
  const herald = await startHerald('lmdb');
  const pid = herald.child.pid!;
  for (const url of receivers.urls) await subscribe(herald.url, { stream: 'load', url });
  if (withDead) await subscribe(herald.url, { stream: 'load', url: DEAD_URL });
  let peakRss = 0;
  let peakAnon = 0;
  const read = (p: string): string => readFileSync(p, 'utf8');
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(pid, read));
    peakAnon = Math.max(peakAnon, rssMb(pid, read, 'RssAnon'));
  }, 250);
  const started = performance.now();
  await publishMany(herald.url, 'load', EVENTS);
  await timeUntil(async () => (await receivers.counts()).counts.every((c) => c >= EVENTS), 3_600_000, 200);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  const endRss = rssMb(pid, (p) => readFileSync(p, 'utf8'));
  const outOfOrder = (await receivers.counts()).outOfOrder.reduce((a, b) => a + b, 0);
  await herald.stop();
  await receivers.stop();
  return { seconds, rate: (EVENTS * HEALTHY) / seconds, peakRss: Math.max(peakRss, endRss), peakAnon, endRss, outOfOrder };
}

const alone = await run(false);
const withDead = await run(true);
const loss = 1 - withDead.rate / alone.rate;
const row = (name: string, r: Run) => ({ case: name, 'deliveries/s': round(r.rate), seconds: round(r.seconds, 1), 'peak RSS MB': round(r.peakRss), 'peak anon MB': round(r.peakAnon), 'end RSS MB': round(r.endRss), 'out of order': r.outOfOrder });
report({
  name: 'webhook-dead-endpoint',
  title: `${EVENTS.toLocaleString('en')} events published live to ${HEALTHY} healthy endpoints, without and with a 4th refusing connections`,
  goal: 'RSS under 200 MB and the healthy endpoints lose under 10% throughput with the dead endpoint',
  met: withDead.peakRss < 200 && loss < 0.1 && withDead.outOfOrder === 0,
  rows: [row(`${HEALTHY} healthy endpoints`, alone), row(`${HEALTHY} healthy + 1 refusing connections`, withDead), { case: 'throughput lost to the dead endpoint', 'deliveries/s': `${round(loss * 100, 1)}%` }],
  notes: [
    'Time runs from the first publish until every healthy endpoint has every event; publishing (NDJSON batches of 1,000, durable) overlaps delivery.',
    'The dead endpoint\'s lane holds one event in retry (default schedule, circuit breaker) and its backlog is the stream itself on disk: it reads nothing more until that event is settled.',
  ],
});
