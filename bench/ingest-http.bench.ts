/**
 * ingest-http: one ~200-byte JSON event per request, 64 connections, autocannon; Herald (durable,
 * LMDB) against a bare node:http server that answers 201 without storing, and Herald on the
 * memory store, in the same run. The three run side by side and are measured in turn, in
 * BENCH_ROUNDS rounds of BENCH_SECONDS each, so a noisy stretch of this shared machine weighs
 * on all of them alike.
 * Goal: Herald >= 0.7x the bare server.
 */
import autocannon from 'autocannon';
import { report, round } from './lib.js';
import { cpuSince } from './proc.js';
import { metric, startBareHttp, startHerald, type RunningTarget } from './servers.js';

const CONNECTIONS = 64;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const body = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(40) });

function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/streams/bench/events`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
}

const targets: Array<{ name: string; server: RunningTarget; results: autocannon.Result[]; cpuSeconds: number }> = [
  { name: 'bare node:http (ceiling)', server: await startBareHttp(), results: [], cpuSeconds: 0 },
  { name: 'herald, lmdb, durable', server: await startHerald('lmdb'), results: [], cpuSeconds: 0 },
  { name: 'herald, memory store (no disk)', server: await startHerald('memory'), results: [], cpuSeconds: 0 },
];
for (const t of targets) await load(t.server.url, 2); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const t of targets) {
    const spent = cpuSince([t.server.child.pid!]);
    t.results.push(await load(t.server.url, SECONDS));
    t.cpuSeconds += spent()[0]!;
  }
}
const [bare, lmdb, memory] = targets as [(typeof targets)[number], (typeof targets)[number], (typeof targets)[number]];
const stored = await metric(lmdb.server.url, 'herald_events_appended_total');
for (const t of targets) await t.server.stop();

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const rate = (t: (typeof targets)[number]): number => mean(t.results.map((r) => r.requests.average));
const sum = (t: (typeof targets)[number], key: '2xx' | 'non2xx' | 'errors'): number => t.results.reduce((a, r) => a + r[key], 0);
/** Per round, a target's rate over the bare server's in the same round. */
const roundRatios = (t: (typeof targets)[number]): string => t.results.map((r, i) => round(r.requests.average / bare.results[i]!.requests.average, 2)).join(' / ');
const ratio = rate(lmdb) / rate(bare);
const row = (t: (typeof targets)[number]) => ({
  case: t.name,
  'req/s': round(rate(t)),
  rounds: t.results.map((r) => round(r.requests.average)).join(' / '),
  'p50 ms': round(mean(t.results.map((r) => r.latency.p50)), 1),
  'p99 ms': round(mean(t.results.map((r) => r.latency.p99)), 1),
  'server cpu µs/req': round((t.cpuSeconds * 1e6) / t.results.reduce((a, r) => a + r.requests.total, 0), 1),
  '2xx': sum(t, '2xx'),
  non2xx: sum(t, 'non2xx'),
  errors: sum(t, 'errors'),
});
report({
  name: 'ingest-http',
  title: `HTTP ingest, one ${body.length}-byte JSON event per request, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${SECONDS} s`,
  goal: 'Herald (durable) >= 0.7x a bare node:http server answering 201 without storing',
  met: ratio >= 0.7 && sum(lmdb, 'non2xx') === 0 && sum(lmdb, 'errors') === 0,
  rows: [
    row(bare),
    row(lmdb),
    row(memory),
    { case: 'ratio herald lmdb / bare', 'req/s': round(ratio, 2), rounds: roundRatios(lmdb) },
    { case: 'ratio herald memory / bare', 'req/s': round(rate(memory) / rate(bare), 2), rounds: roundRatios(memory) },
  ],
  notes: [
    `herald stored ${stored} events (warm-up included) for ${sum(lmdb, '2xx')} measured 201s; every 201 was sent after the durable commit.`,
    `The three servers run side by side and are measured in turn, ${ROUNDS} rounds of ${SECONDS} s after 2 s of warm-up each; a row's rate is the mean of its rounds, the ratios are of those means (per round in "rounds").`,
    'server cpu µs/req: CPU time of the server process (all its threads: LMDB commits run on the libuv pool) per request answered. The load generator needs the other core, so the server\'s CPU per request sets the rate; the memory row shows the HTTP and hub cost without the disk.',
  ],
});
