/**
 * webhook-dead-endpoint: 1,000,000 events published while 3 healthy endpoints receive them live,
 * without and with a 4th endpoint that refuses connections. The dead endpoint's backlog must stay
 * on disk: Herald's RSS stays under 200 MB, and the healthy endpoints lose under 10% of their
 * delivery rate.
 *
 * Herald runs in a memory cgroup limited to 200 MB where one can be made (root, cgroup v1 or v2;
 * BENCH_CGROUP=0 runs it without): OOM kills and limit hits are reported. The runs go in the
 * order alone, dead, dead, alone, so drift of this shared machine falls on both cases alike.
 */
import { report, round } from './lib.js';
import { createMemoryCgroup } from './memoryCgroup.js';
import { startHerald } from './servers.js';
import { statusBytes } from './proc.js';
import { publishMany, startReceivers, subscribe, timeUntil } from './webhooks.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const HEALTHY = 3;
const LIMIT_MB = 200;
/** Nothing listens on port 1: every connection is refused at once. */
const DEAD_URL = 'http://127.0.0.1:1/refused';

interface Run {
  /** Whether Herald ran in the memory cgroup. */
  limited: boolean;
  seconds: number;
  peakRss: number;
  peakAnon: number;
  /** Highest cgroup charge (anonymous plus page cache), MB; NaN without a cgroup. */
  peakCharged: number;
  limitHits: number;
  oomKills: number;
  outOfOrder: number;
}

async function run(withDead: boolean): Promise<Run> {
  const cgroup = process.env.BENCH_CGROUP === '0' ? undefined : createMemoryCgroup(`herald-bench-${process.pid}`, LIMIT_MB * 1024 * 1024);
  const receivers = await startReceivers(HEALTHY);
  const herald = await startHerald('lmdb', {}, cgroup);
  const pid = herald.child.pid!;
  for (const url of receivers.urls) await subscribe(herald.url, { stream: 'load', url });
  if (withDead) await subscribe(herald.url, { stream: 'load', url: DEAD_URL });
  let peakRss = 0;
  let peakAnon = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, statusBytes(pid, 'VmRSS') / 1024 / 1024);
    peakAnon = Math.max(peakAnon, statusBytes(pid, 'RssAnon') / 1024 / 1024);
  }, 250);
  const started = performance.now();
  await publishMany(herald.url, 'load', EVENTS);
  await timeUntil(async () => (await receivers.counts()).counts.every((c) => c >= EVENTS), 3_600_000, 200);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peakRss = Math.max(peakRss, statusBytes(pid, 'VmRSS') / 1024 / 1024);
  const outOfOrder = (await receivers.counts()).outOfOrder.reduce((a, b) => a + b, 0);
  await herald.stop();
  await receivers.stop();
  const result = {
    limited: cgroup !== undefined, seconds, peakRss, peakAnon, outOfOrder,
    peakCharged: (cgroup?.peakBytes() ?? NaN) / 1024 / 1024,
    limitHits: cgroup?.limitHits() ?? 0,
    oomKills: cgroup?.oomKills() ?? 0,
  };
  cgroup?.remove();
  return result;
}

const order = [false, true, true, false];
const runs: Array<{ withDead: boolean; run: Run }> = [];
for (const withDead of order) runs.push({ withDead, run: await run(withDead) });
const pick = (withDead: boolean): Run[] => runs.filter((r) => r.withDead === withDead).map((r) => r.run);
const rateOf = (rs: Run[]): number => (EVENTS * HEALTHY * rs.length) / rs.reduce((t, r) => t + r.seconds, 0);
const alone = pick(false);
const withDead = pick(true);
const loss = 1 - rateOf(withDead) / rateOf(alone);
const max = (rs: Run[], f: (r: Run) => number): number => Math.max(...rs.map(f));
const sum = (rs: Run[], f: (r: Run) => number): number => rs.reduce((t, r) => t + f(r), 0);
const row = (name: string, rs: Run[]) => ({
  case: name,
  'deliveries/s': round(rateOf(rs)),
  'runs (deliveries/s)': rs.map((r) => round((EVENTS * HEALTHY) / r.seconds)).join(' / '),
  'peak RSS MB': round(max(rs, (r) => r.peakRss)),
  'peak anon MB': round(max(rs, (r) => r.peakAnon)),
  'peak charged MB': round(max(rs, (r) => r.peakCharged)),
  'limit hits': sum(rs, (r) => r.limitHits),
  'OOM kills': sum(rs, (r) => r.oomKills),
  'out of order': sum(rs, (r) => r.outOfOrder),
});
const all = [...alone, ...withDead];
const limited = all.every((r) => r.limited);
report({
  name: 'webhook-dead-endpoint',
  title: `${EVENTS.toLocaleString('en')} events published live to ${HEALTHY} healthy endpoints, without and with a 4th refusing connections${limited ? `, Herald in a ${LIMIT_MB} MB memory cgroup` : ''}`,
  goal: 'RSS under 200 MB and the healthy endpoints lose under 10% throughput with the dead endpoint',
  met: max(all, (r) => r.peakRss) < LIMIT_MB && loss < 0.1 && sum(all, (r) => r.outOfOrder) === 0 && sum(all, (r) => r.oomKills) === 0,
  rows: [row(`${HEALTHY} healthy endpoints`, alone), row(`${HEALTHY} healthy + 1 refusing connections`, withDead), { case: 'throughput lost to the dead endpoint', 'deliveries/s': `${round(loss * 100, 1)}%` }],
  notes: [
    'Time runs from the first publish until every healthy endpoint has every event; publishing (NDJSON batches of 1,000, durable) overlaps delivery. Runs in the order alone, dead, dead, alone; each row\'s rate is its two runs\' deliveries over their time.',
    'The dead endpoint\'s lane holds one event in retry (default schedule, circuit breaker) and its backlog is the stream itself on disk: it reads nothing more until that event is settled.',
    limited
      ? `Herald ran in a memory cgroup of ${LIMIT_MB} MB (anonymous memory and all the page cache it touches, written or read, are charged; the kernel reclaims clean pages at the limit). "limit hits" counts reclaims at the limit; "OOM kills" must be 0.`
      : 'Herald ran without a memory cgroup (BENCH_CGROUP=0, or none could be made: it needs root and the memory controller).',
    'RSS counts the LMDB pages the lanes read while they stay mapped; the store reopens its environment after every 64 MiB of events read (store.unmapAfterReadMiB, docs/store.md), which unmaps them.',
  ],
});
