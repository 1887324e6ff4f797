/**
 * gosep-ingest: `POST /<queue>` with two targets (the go-sep way), requests/s with autocannon,
 * next to a bare node:http server answering without storing, in the same run. The targets are
 * local receivers answering 200; forwarding runs while ingest is measured.
 */
import autocannon from 'autocannon';
import { report, round } from './lib.js';
import { startBareHttp, startHerald, type RunningTarget } from './servers.js';
import { startReceivers, timeUntil } from './webhooks.js';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const body = JSON.stringify({ type: 'clicked-ad', ad: 'ad-1042', user: 'u-77', at: '2026-11-23T10:00:00Z', note: 'x'.repeat(120) });

async function measure(url: string): Promise<autocannon.Result> {
  const run = (duration: number) => autocannon({ url, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: CONNECTIONS, duration });
  await run(2);
  return run(SECONDS);
}

const bare: RunningTarget = await startBareHttp();
const ceiling = await measure(`${bare.url}/demo`);
await bare.stop();

const receivers = await startReceivers(2);
const queues = { demo: receivers.urls.map((url) => ({ url, buffer: 1_000_000 })) };
const herald = await startHerald('lmdb', { HERALD_GOSEP_QUEUES: JSON.stringify(queues) });
const result = await measure(`${herald.url}/demo`);
const accepted = result['2xx'];
const drain = await timeUntil(async () => (await receivers.counts()).counts.every((c) => c >= accepted), 600_000, 100).catch(() => NaN);
const forwarded = (await receivers.counts()).counts;
await herald.stop();
await receivers.stop();

const ratio = result.requests.average / ceiling.requests.average;
report({
  name: 'gosep-ingest',
  title: `go-sep ingest: POST /demo with two targets, ${CONNECTIONS} connections, ${SECONDS} s, durable`,
  goal: 'requests/s next to the bare node:http ceiling (no numeric goal in the issue)',
  met: result.non2xx === 0 && result.errors === 0,
  rows: [
    { case: 'bare node:http (ceiling)', 'req/s': round(ceiling.requests.average), 'p99 ms': ceiling.latency.p99 },
    { case: 'herald /demo, lmdb, durable, 2 targets', 'req/s': round(result.requests.average), 'p99 ms': result.latency.p99, non2xx: result.non2xx },
    { case: 'ratio herald / bare', 'req/s': round(ratio, 2) },
  ],
  notes: [
    `Herald answered each request after the durable commit; the two targets then received ${forwarded.join(' and ')} requests (all accepted ones, warm-up included: ${forwarded.every((c) => c >= accepted) ? 'yes' : 'no'}), ${Number.isNaN(drain) ? 'not drained' : `drained ${round(drain, 1)} s after the load ended`}.`,
    'go-sep answered before queueing and lost events on overflow; here the buffer is large, so nothing is dropped.',
  ],
});
