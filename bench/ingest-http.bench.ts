/**
 * ingest-http: one ~200-byte JSON event per request, 64 connections, autocannon; Herald (durable,
 * LMDB) against a bare node:http server that answers 201 without storing, in the same run.
 * Goal: Herald >= 0.7x the bare server.
 */
import autocannon from 'autocannon';
import { report, round } from './lib.js';
import { metric, startBareHttp, startHerald, type RunningTarget } from './servers.js';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const body = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(40) });

async function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/streams/bench/events`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
}

async function measure(target: RunningTarget): Promise<autocannon.Result> {
  await load(target.url, 2); // warm-up
  return load(target.url, SECONDS);
}

const bare = await startBareHttp();
const bareResult = await measure(bare);
await bare.stop();

const herald = await startHerald();
const heraldResult = await measure(herald);
const stored = await metric(herald.url, 'herald_events_appended_total');
await herald.stop();

// The same hub on the memory store: what HTTP and the hub cost without waiting for the disk.
const memory = await startHerald('memory');
const memoryResult = await measure(memory);
await memory.stop();

const ratio = heraldResult.requests.average / bareResult.requests.average;
const row = (name: string, r: autocannon.Result) => ({
  case: name,
  'req/s': round(r.requests.average),
  'p50 ms': r.latency.p50,
  'p99 ms': r.latency.p99,
  '2xx': r['2xx'],
  non2xx: r.non2xx,
  errors: r.errors,
});
report({
  name: 'ingest-http',
  title: `HTTP ingest, one ${body.length}-byte JSON event per request, ${CONNECTIONS} connections, ${SECONDS} s`,
  goal: 'Herald (durable) >= 0.7x a bare node:http server answering 201 without storing',
  met: ratio >= 0.7 && heraldResult.non2xx === 0,
  rows: [
    row('bare node:http (ceiling)', bareResult),
    row('herald, lmdb, durable', heraldResult),
    row('herald, memory store (no disk)', memoryResult),
    { case: 'ratio herald lmdb / bare', 'req/s': round(ratio, 2) },
    { case: 'ratio herald memory / bare', 'req/s': round(memoryResult.requests.average / bareResult.requests.average, 2) },
  ],
  notes: [
    `herald stored ${stored} events (warm-up included) for ${heraldResult['2xx']} measured 201s; every 201 was sent after the durable commit.`,
    'With 64 connections each waiting for its answer, throughput is 64 / latency: the durable rows are bound by the time of one synced LMDB commit on this disk, not by CPU (the memory row shows the HTTP and hub cost alone).',
  ],
});
