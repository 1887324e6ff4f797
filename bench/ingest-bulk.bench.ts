/**
 * ingest-bulk: 1,000,000 events of ~200 bytes over HTTP in NDJSON batches of 1,000, durable.
 * Goal: >= 300,000 events/s. Also reports the server's memory after storing them
 * (goal: RSS under 150 MB), and the same batches against a bare node:http server as a ceiling.
 */
import http from 'node:http';
import { report, round } from './lib.js';
import { statusBytes } from './proc.js';
import { metric, startBareHttp, startHerald, type RunningTarget } from './servers.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const BATCH = 1000;
const CONNECTIONS = 8;
const line = (i: number): string => JSON.stringify({ type: 'reading', sensor: `s-${i % 97}`, seq: i, value: 21.5, unit: 'C', tags: ['bench', 'bulk'], pad: 'x'.repeat(100) });
const body = Array.from({ length: BATCH }, (_, i) => line(i)).join('\n') + '\n';

/**
 * Sends `events / BATCH` requests over CONNECTIONS keep-alive connections and times them with
 * the clock (autocannon's `amount` mode ends on its 1-second sampling tick, which quantised the
 * figures).
 */
async function send(target: RunningTarget, events: number): Promise<{ seconds: number; failures: number }> {
  const { port } = new URL(target.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const payload = Buffer.from(body);
  let failures = 0;
  const post = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { host: '127.0.0.1', port, path: '/streams/bulk/events', method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson', 'content-length': payload.length } },
        (res) => {
          if ((res.statusCode ?? 500) >= 300) failures++;
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  let left = events / BATCH;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) await post();
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return { seconds, failures };
}

const bare = await startBareHttp();
await send(bare, 50 * BATCH);
const ceiling = await send(bare, EVENTS);
await bare.stop();

const herald = await startHerald();
await send(herald, 50 * BATCH); // warm-up
const run = await send(herald, EVENTS);
const stored = await metric(herald.url, 'herald_events_appended_total');
const heap = await metric(herald.url, 'herald_nodejs_heap_size_used_bytes');
const memory = Object.fromEntries((['VmHWM', 'VmRSS', 'RssAnon', 'RssFile'] as const).map((f) => [f, statusBytes(herald.child.pid!, f)]));
await herald.stop();

const rate = EVENTS / run.seconds;
const mb = (n: number): number => round(n / 1024 / 1024, 1);
report({
  name: 'ingest-bulk',
  title: `bulk HTTP ingest, ${EVENTS} events of ${line(0).length} bytes in NDJSON batches of ${BATCH}, ${CONNECTIONS} connections`,
  goal: '>= 300,000 events/s durable; server RSS stays < 150 MB while storing 1,000,000 events',
  met: rate >= 300_000 && memory.VmHWM! < 150 * 1024 * 1024 && run.failures === 0,
  rows: [
    { case: 'bare node:http reading the same batches (ceiling)', 'events/s': round(EVENTS / ceiling.seconds), seconds: round(ceiling.seconds, 2), failed: ceiling.failures },
    { case: 'herald, lmdb, durable', 'events/s': round(rate), seconds: round(run.seconds, 2), failed: run.failures },
    { case: 'ratio herald / ceiling', 'events/s': round(rate / (EVENTS / ceiling.seconds), 2) },
    { case: 'herald memory after storing', 'peak rss MB': mb(memory.VmHWM!), 'rss MB': mb(memory.VmRSS!), 'rss anon MB': mb(memory.RssAnon!), 'rss file MB': mb(memory.RssFile!), 'heap used MB': mb(heap) },
  ],
  notes: [
    `herald stored ${stored} events (incl. ${50 * BATCH} warm-up).`,
    'peak rss is the process high-water mark (VmHWM) over its whole life, warm-up included. rss file is mostly the node binary (about 40 MB in any node process) plus the LMDB pages Herald touched; rss anon is the JS heap, buffers and native allocations.',
    `The server sets V8's heap growth factor to 1.5x (src/cli/heapGrowth.ts); V8's own choice let the heap fill with up to 75 MB of garbage between full GCs.`,
  ],
});
