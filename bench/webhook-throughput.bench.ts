/**
 * webhook-throughput: 100,000 signed events delivered to 1 endpoint (strict order, one request in
 * flight) and to 10 endpoints (one lane each), on local node:http receivers answering 200 with
 * keep-alive, next to those receivers' own ceiling measured with autocannon in the same run
 * (1 connection for the single strict-order lane, 10 connections for 10 lanes).
 * Goals: >= 5,000 deliveries/s to 1 endpoint in strict order; >= 0.6x the ceiling with 10.
 */
import autocannon from 'autocannon';
import { report, round } from './lib.js';
import { startHerald } from './servers.js';
import { publishMany, startReceivers, subscribe, timeUntil } from './webhooks.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ENDPOINTS = 10;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const sample = JSON.stringify({ type: 'order.created', order: 'A-1', total: 129.5, currency: 'EUR', note: 'x'.repeat(120) });
const signedHeaders = {
  'content-type': 'application/json',
  'webhook-id': '0190a8e4-3b7c-7d2e-9f10-1a2b3c4d5e6f',
  'webhook-timestamp': '1700000000',
  'webhook-signature': 'v1,' + 'A'.repeat(44),
};

async function ceiling(url: string, connections: number): Promise<number> {
  const run = (duration: number) => autocannon({ url, method: 'POST', headers: signedHeaders, body: sample, connections, duration });
  await run(1);
  return (await run(SECONDS)).requests.average;
}

const receivers = await startReceivers(ENDPOINTS);
const ceiling1 = await ceiling(receivers.urls[0]!, 1);
const ceiling10 = await ceiling(receivers.urls[0]!, ENDPOINTS);
await receivers.reset();

const herald = await startHerald('lmdb');
await publishMany(herald.url, 'wh', EVENTS);

await subscribe(herald.url, { stream: 'wh', url: receivers.urls[0], start: 'earliest' });
const one = await timeUntil(async () => (await receivers.counts()).counts[0]! >= EVENTS);
const oneOrder = (await receivers.counts()).outOfOrder[0]!;
await receivers.reset();

for (const url of receivers.urls) await subscribe(herald.url, { stream: 'wh', url: `${url}?lane=10`, start: 'earliest' });
const ten = await timeUntil(async () => (await receivers.counts()).counts.every((c) => c >= EVENTS));
const tenOrder = (await receivers.counts()).outOfOrder.reduce((a, b) => a + b, 0);
await herald.stop();
await receivers.stop();

const rate1 = EVENTS / one;
const rate10 = (EVENTS * ENDPOINTS) / ten;
report({
  name: 'webhook-throughput',
  title: `${EVENTS.toLocaleString('en')} signed events to 1 and to ${ENDPOINTS} local endpoints (durable lanes, one request in flight each)`,
  goal: '>= 5,000 deliveries/s to 1 endpoint in strict order; >= 0.6x the receivers\' ceiling with 10 endpoints',
  met: rate1 >= 5000 && rate10 / ceiling10 >= 0.6 && oneOrder === 0 && tenOrder === 0,
  rows: [
    { case: 'receiver ceiling, autocannon, 1 connection', 'req/s': round(ceiling1) },
    { case: `receiver ceiling, autocannon, ${ENDPOINTS} connections`, 'req/s': round(ceiling10) },
    { case: 'herald → 1 endpoint, strict order', 'req/s': round(rate1), seconds: round(one, 2), 'ratio to ceiling': round(rate1 / ceiling1, 2), 'out of order': oneOrder },
    { case: `herald → ${ENDPOINTS} endpoints, aggregate`, 'req/s': round(rate10), seconds: round(ten, 2), 'ratio to ceiling': round(rate10 / ceiling10, 2), 'out of order': tenOrder },
  ],
  notes: [
    'Events were stored before the subscriptions were created (start: earliest), so the figures are delivery alone: read from LMDB, sign (HMAC-SHA256), POST over a keep-alive connection (the webhook HTTP/1.1 client), wait for the 200, advance the position.',
    'Herald, the receivers and autocannon share the 2 cores; the ceiling rows are the receivers answering autocannon with the same body and headers.',
  ],
});
