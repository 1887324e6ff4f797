/**
 * webhook-throughput: 100,000 signed events delivered to 1 endpoint (strict order, one request in
 * flight) and to 10 endpoints (one lane each: default lanes, then lanes with 16 requests in flight
 * pipelined on one connection), on local node:http receivers answering 200 with keep-alive, next
 * to those receivers' own ceiling measured with autocannon in the same run (1 connection for the
 * single strict-order lane, 10 connections for 10 lanes, and 10 connections pipelining 16 for
 * comparison with the pipelined lanes), in alternating rounds (BENCH_ROUNDS, default 2).
 * Goals: >= 5,000 deliveries/s to 1 endpoint in strict order; >= 0.6x the ceiling with 10.
 */
import autocannon from 'autocannon';
import { report, round } from './lib.js';
import { cpuSince } from './proc.js';
import { startHerald } from './servers.js';
import { publishMany, startReceivers, subscribe, timeUntil } from './webhooks.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const ENDPOINTS = 10;
/** The pipelined lanes: requests in flight per lane, all on one connection. */
const PIPELINED = { maxInFlight: 16, pipelining: 16 };
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const sample = JSON.stringify({ type: 'order.created', order: 'A-1', total: 129.5, currency: 'EUR', note: 'x'.repeat(120) });
const signedHeaders = {
  'content-type': 'application/json',
  'webhook-id': '0190a8e4-3b7c-7d2e-9f10-1a2b3c4d5e6f',
  'webhook-timestamp': '1700000000',
  'webhook-signature': 'v1,' + 'A'.repeat(44),
};

/** The receivers' rate under autocannon, and their CPU per request. */
async function ceiling(url: string, connections: number, pipelining = 1): Promise<{ rate: number; receiverMicros: number }> {
  const run = (duration: number) => autocannon({ url, method: 'POST', headers: signedHeaders, body: sample, connections, pipelining, duration });
  await run(1);
  const spent = cpuSince([receivers.pid]);
  const result = await run(SECONDS);
  return { rate: result.requests.average, receiverMicros: (spent()[0]! * 1e6) / result.requests.total };
}

const receivers = await startReceivers(ENDPOINTS);
const herald = await startHerald('lmdb');
await publishMany(herald.url, 'wh', EVENTS);

/**
 * Delivers the stored events (start: earliest) through fresh subscriptions to `urls`, then
 * deletes them: deliveries/s and how many arrived out of order.
 */
async function deliver(urls: string[], roundNo: number, settings: Record<string, unknown> = {}): Promise<{ rate: number; outOfOrder: number; heraldMicros: number; receiverMicros: number }> {
  await receivers.reset();
  const ids: string[] = [];
  const spent = cpuSince([herald.child.pid!, receivers.pid]);
  const label = `round=${roundNo}&lanes=${urls.length}&pipelining=${settings.pipelining ?? 1}`;
  for (const url of urls) ids.push(await subscribe(herald.url, { stream: 'wh', url: `${url}?${label}`, start: 'earliest', ...settings }));
  const seconds = await timeUntil(async () => (await receivers.counts()).counts.slice(0, urls.length).every((c) => c >= EVENTS));
  const [heraldMicros, receiverMicros] = spent().map((s) => (s * 1e6) / (EVENTS * urls.length));
  const outOfOrder = (await receivers.counts()).outOfOrder.reduce((a, b) => a + b, 0);
  for (const id of ids) await fetch(`${herald.url}/subscriptions/${id}`, { method: 'DELETE' });
  await receivers.reset();
  return { rate: (EVENTS * urls.length) / seconds, outOfOrder, heraldMicros: heraldMicros!, receiverMicros: receiverMicros! };
}

// Ceilings and Herald alternate, so a noisy stretch of this shared machine weighs on both.
type Delivery = Awaited<ReturnType<typeof deliver>>;
type Ceiling = Awaited<ReturnType<typeof ceiling>>;
const rounds: Array<{ ceiling1: Ceiling; ceiling10: Ceiling; ceilingPiped: Ceiling; one: Delivery; ten: Delivery; piped: Delivery }> = [];
for (let n = 0; n < ROUNDS; n++) {
  const ceiling1 = await ceiling(receivers.urls[0]!, 1);
  const one = await deliver([receivers.urls[0]!], n);
  const ceiling10 = await ceiling(receivers.urls[0]!, ENDPOINTS);
  const ten = await deliver(receivers.urls, n);
  const ceilingPiped = await ceiling(receivers.urls[0]!, ENDPOINTS, PIPELINED.pipelining);
  const piped = await deliver(receivers.urls, n, PIPELINED);
  rounds.push({ ceiling1, ceiling10, ceilingPiped, one, ten, piped });
}
await herald.stop();
await receivers.stop();

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
type Round = (typeof rounds)[number];
const each = (f: (r: Round) => number): string => rounds.map((r) => round(f(r))).join(' / ');
const meanOf = (f: (r: Round) => number, digits = 0): number => round(mean(rounds.map(f)), digits);
const ceiling1 = mean(rounds.map((r) => r.ceiling1.rate));
const ceiling10 = mean(rounds.map((r) => r.ceiling10.rate));
const rate1 = mean(rounds.map((r) => r.one.rate));
const rate10 = mean(rounds.map((r) => r.ten.rate));
const ceilingPiped = mean(rounds.map((r) => r.ceilingPiped.rate));
const ratePiped = mean(rounds.map((r) => r.piped.rate));
const oneOrder = rounds.reduce((a, r) => a + r.one.outOfOrder, 0);
const tenOrder = rounds.reduce((a, r) => a + r.ten.outOfOrder, 0);
const pipedOrder = rounds.reduce((a, r) => a + r.piped.outOfOrder, 0);
const pipedCase = `herald → ${ENDPOINTS} endpoints, ${PIPELINED.maxInFlight} in flight pipelined per lane`;
report({
  name: 'webhook-throughput',
  title: `${EVENTS.toLocaleString('en')} signed events to 1 and to ${ENDPOINTS} local endpoints (durable lanes), ${ROUNDS} rounds`,
  goal: '>= 5,000 deliveries/s to 1 endpoint in strict order; >= 0.6x the receivers\' ceiling (autocannon, 10 connections) with 10 endpoints',
  met: rate1 >= 5000 && Math.max(rate10, ratePiped) / ceiling10 >= 0.6 && oneOrder === 0 && tenOrder === 0 && pipedOrder === 0,
  rows: [
    { case: 'receiver ceiling, autocannon, 1 connection', 'req/s': round(ceiling1), rounds: each((r) => r.ceiling1.rate), 'receiver cpu µs/req': meanOf((r) => r.ceiling1.receiverMicros, 1) },
    { case: `receiver ceiling, autocannon, ${ENDPOINTS} connections`, 'req/s': round(ceiling10), rounds: each((r) => r.ceiling10.rate), 'receiver cpu µs/req': meanOf((r) => r.ceiling10.receiverMicros, 1) },
    { case: 'herald → 1 endpoint, strict order', 'req/s': round(rate1), rounds: each((r) => r.one.rate), 'ratio to ceiling': round(rate1 / ceiling1, 2), 'out of order': oneOrder, 'receiver cpu µs/req': meanOf((r) => r.one.receiverMicros, 1), 'herald cpu µs/req': meanOf((r) => r.one.heraldMicros, 1) },
    { case: `herald → ${ENDPOINTS} endpoints, one in flight per lane`, 'req/s': round(rate10), rounds: each((r) => r.ten.rate), 'ratio to ceiling': round(rate10 / ceiling10, 2), 'out of order': tenOrder, 'receiver cpu µs/req': meanOf((r) => r.ten.receiverMicros, 1), 'herald cpu µs/req': meanOf((r) => r.ten.heraldMicros, 1) },
    { case: pipedCase, 'req/s': round(ratePiped), rounds: each((r) => r.piped.rate), 'ratio to ceiling': round(ratePiped / ceiling10, 2), 'out of order': pipedOrder, 'receiver cpu µs/req': meanOf((r) => r.piped.receiverMicros, 1), 'herald cpu µs/req': meanOf((r) => r.piped.heraldMicros, 1) },
    { case: `receiver ceiling, autocannon, ${ENDPOINTS} connections pipelining ${PIPELINED.pipelining} (for comparison)`, 'req/s': round(ceilingPiped), rounds: each((r) => r.ceilingPiped.rate), 'receiver cpu µs/req': meanOf((r) => r.ceilingPiped.receiverMicros, 1) },
    { case: `${pipedCase} / pipelined ceiling`, 'ratio to ceiling': round(ratePiped / ceilingPiped, 2) },
  ],
  notes: [
    'Events were stored once, before any subscription; each round delivers them again through fresh subscriptions (start: earliest), so the figures are delivery alone: read from LMDB, sign (HMAC-SHA256), POST over a keep-alive connection (the webhook HTTP/1.1 client), wait for the 200, advance the position.',
    'Each round measures a ceiling, then Herald, in turn (1 endpoint, then 10); the figures are the means of the rounds. Herald, the receivers and autocannon share the 2 cores; the ceiling rows are the receivers answering autocannon with the same body and headers.',
    `The pipelined lanes (\`maxInFlight: ${PIPELINED.maxInFlight}, pipelining: ${PIPELINED.pipelining}\`) send each lane's requests in stream order on one connection without waiting for the answers before them; requests of one event-loop turn leave in one write. The goal's ceiling is autocannon without pipelining, as the benchmark defines it; autocannon pipelining as deep is shown for comparison. "out of order": events a receiver got before an earlier seq of the same lane (0 means each lane arrived in stream order).`,
    'cpu µs/req: CPU time (all threads) of the receivers\' process and of Herald per request or delivery while it ran; Herald\'s includes creating the subscriptions and reading the events from LMDB.',
  ],
});
