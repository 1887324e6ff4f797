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
/** A second load, to show what bounds the durable rate at 64: each request waits for a commit. */
const MORE_CONNECTIONS = 256;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const body = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(40) });

function load(url: string, seconds: number, connections: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/streams/bench/events`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: seconds,
  });
}

type Target = { name: string; server: RunningTarget; connections: number; results: autocannon.Result[]; cpuSeconds: number };
const target = (name: string, server: RunningTarget, connections = CONNECTIONS): Target => ({ name, server, connections, results: [], cpuSeconds: 0 });
const [bareServer, lmdbServer] = [await startBareHttp(), await startHerald('lmdb')];
const bare = target('bare node:http (ceiling)', bareServer);
const lmdb = target('herald, lmdb, durable', lmdbServer);
const memory = target('herald, memory store (no disk)', await startHerald('memory'));
const bareMore = target(`bare node:http, ${MORE_CONNECTIONS} connections`, bareServer, MORE_CONNECTIONS);
const lmdbMore = target(`herald, lmdb, durable, ${MORE_CONNECTIONS} connections`, lmdbServer, MORE_CONNECTIONS);
const targets = [bare, lmdb, memory, bareMore, lmdbMore];
for (const t of targets) await load(t.server.url, 2, t.connections); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const t of targets) {
    const spent = cpuSince([t.server.child.pid!]);
    t.results.push(await load(t.server.url, SECONDS, t.connections));
    t.cpuSeconds += spent()[0]!;
  }
}
const stored = await metric(lmdb.server.url, 'herald_events_appended_total');
for (const server of [bareServer, lmdbServer, memory.server]) await server.stop();

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const rate = (t: Target): number => mean(t.results.map((r) => r.requests.average));
const sum = (t: Target, key: '2xx' | 'non2xx' | 'errors'): number => t.results.reduce((a, r) => a + r[key], 0);
/** Per round, a target's rate over a peer's in the same round. */
const roundRatios = (t: Target, peer = bare): string => t.results.map((r, i) => round(r.requests.average / peer.results[i]!.requests.average, 2)).join(' / ');
const ratio = rate(lmdb) / rate(bare);
const row = (t: Target) => ({
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
    row(bareMore),
    row(lmdbMore),
    { case: `ratio herald lmdb / bare, ${MORE_CONNECTIONS} connections`, 'req/s': round(rate(lmdbMore) / rate(bareMore), 2), rounds: roundRatios(lmdbMore, bareMore) },
  ],
  notes: [
    `herald stored ${stored} events (warm-up included) for ${sum(lmdb, '2xx') + sum(lmdbMore, '2xx')} measured 201s; every 201 was sent after the durable commit.`,
    `The three servers run side by side and are measured in turn, ${ROUNDS} rounds of ${SECONDS} s after 2 s of warm-up each; a row's rate is the mean of its rounds, the ratios are of those means (per round in "rounds").`,
    `The goal is at ${CONNECTIONS} connections. Every durable answer waits for its group commit (one flush of the write-ahead log), so ${CONNECTIONS} connections keep only so many requests in flight; the ${MORE_CONNECTIONS}-connection rows show the rate when more are (same servers, measured in the same rounds).`,
    'server cpu µs/req: CPU time of the server process (all its threads) per request answered. Small commits are made durable on the main thread by one flush of the write-ahead log, and the event loop waits for the disk meanwhile (docs/store.md); the idle CPU that leaves is what the bare server does not pay. The memory row shows the HTTP and hub cost without the disk.',
  ],
});
