/**
 * eventbus-write: write_event requests, ~200-byte events, 50 connections each pipelining 16
 * requests (a window of 16, then the next), against `herald serve` on LMDB: every reply is sent
 * after the event's commit is synced to disk. In the same run, redis-benchmark XADD with the
 * same payload, 50 connections and -P 16 against a redis-server with appendonly and
 * appendfsync everysec. The two alternate for a few rounds on servers kept running, and the
 * median of the rounds' ratios is reported, because this shared machine's load changes from
 * second to second. Goal: Herald >= 0.5x Redis.
 */
import { report, round } from './lib.js';
import { AUTH, startHeraldEventBus, type HeraldTarget } from './eventbus/herald.js';
import { pipeline, type PipelineResult } from './eventbus/pipeline.js';
import { REDIS_HINT, redisBenchmark, startRedis } from './eventbus/redis.js';
import { storeCeiling } from './eventbus/storeCeiling.js';
import { metric } from './servers.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 500_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 50;
const DEPTH = 16;
const STREAM = 'bench';

// ~200 bytes of event JSON (and the same text as the Redis entry's value).
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });
const writeLine = `{"operation":"write_event",${AUTH},"body":{"stream_name":"${STREAM}","event":${event}}}`;
const writeOk = '{"operation":"write_event","status":true}\n';
const redisArgs = (n: number): string[] => ['-c', String(CONNECTIONS), '-P', String(DEPTH), '-n', String(n), 'XADD', STREAM, '*', 'event', event];

async function prepare(store: 'lmdb' | 'memory'): Promise<HeraldTarget> {
  const herald = await startHeraldEventBus(store);
  const created = await pipeline(herald.port, `{"operation":"create_stream",${AUTH},"body":{"stream_name":"${STREAM}"}}`, '', 1, 1, 1);
  if (created.requests !== 1) throw new Error('create_stream got no reply');
  await pipeline(herald.port, writeLine, writeOk, Math.min(100_000, REQUESTS), CONNECTIONS, DEPTH); // warm-up
  return herald;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const herald = await prepare('lmdb');
const redis = await startRedis();
if (redis) await redisBenchmark(redis.port, redisArgs(Math.min(100_000, REQUESTS))); // warm-up
const heraldRuns: PipelineResult[] = [];
const redisRuns: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  heraldRuns.push(await pipeline(herald.port, writeLine, writeOk, REQUESTS, CONNECTIONS, DEPTH));
  if (redis) redisRuns.push(await redisBenchmark(redis.port, redisArgs(REQUESTS)));
}
const stored = await metric(herald.httpUrl, 'herald_events_appended_total');
await herald.stop();
await redis?.stop();

// The same on the memory store: what the protocol and the hub cost without waiting for the disk.
const memory = await prepare('memory');
const memoryRun = await pipeline(memory.port, writeLine, writeOk, REQUESTS, CONNECTIONS, DEPTH);
await memory.stop();

// The store alone, in this process (the load generator is idle meanwhile).
const ceiling = await storeCeiling(event, REQUESTS, CONNECTIONS, DEPTH);

const ratios = redisRuns.map((r, i) => heraldRuns[i]!.perSecond / r);
const ratio = ratios.length > 0 ? median(ratios) : undefined;
const bad = heraldRuns.reduce((n, r) => n + r.unexpected, 0) + memoryRun.unexpected;
const rates = (xs: number[]): string => xs.map((x) => round(x / 1000)).join(' / ') + 'k';
report({
  name: 'eventbus-write',
  title: `event-bus write_event, ${event.length}-byte events, ${CONNECTIONS} connections pipelining ${DEPTH}, ${REQUESTS.toLocaleString('en')} requests a round, durable`,
  goal: 'Herald (every reply after its synced commit) >= 0.5x redis-server XADD (appendfsync everysec), redis-benchmark -c 50 -P 16; median of alternating rounds',
  met: ratio !== undefined && ratio >= 0.5 && bad === 0,
  rows: [
    { case: 'herald event-bus write_event, lmdb (median)', 'req/s': round(median(heraldRuns.map((r) => r.perSecond))), rounds: rates(heraldRuns.map((r) => r.perSecond)), 'bad replies': bad },
    ...(redis ? [{ case: `redis ${redis.version} XADD, appendfsync everysec (median)`, 'req/s': round(median(redisRuns)), rounds: rates(redisRuns) }] : []),
    ...(ratio !== undefined ? [{ case: 'ratio herald / redis (median of rounds)', 'req/s': round(ratio, 2), rounds: ratios.map((r) => round(r, 2)).join(' / ') }] : []),
    { case: 'herald, memory store (no disk)', 'req/s': round(memoryRun.perSecond) },
    { case: 'ceiling: hub.publishBatch on LMDB in-process, same load shape, no protocol', 'req/s': round(ceiling) },
  ],
  notes: [
    `herald stored ${stored} events (warm-up included); every write_event reply was sent after the group commit holding its event was synced.`,
    ...(redis ? ['Redis with appendfsync everysec acknowledges before its fsync (up to a second of acknowledged writes can be lost in a crash); Herald acknowledges only synced writes.'] : [`Redis comparison skipped: ${REDIS_HINT}.`]),
    'The load generator (bench/eventbus/pipeline.ts, Node) and redis-benchmark (C) run on the same 2 cores as the server they drive.',
  ],
});
