/**
 * eventbus-write: write_event requests, ~200-byte events, 50 connections each pipelining 16
 * requests (a window of 16, then the next), against `herald serve` on LMDB: every reply is sent
 * after the event's commit is synced to disk. In the same run, redis-benchmark XADD with the
 * same payload, 50 connections and -P 16 against a redis-server with appendonly and
 * appendfsync everysec. Goal: Herald >= 0.5x Redis.
 */
import { report, round } from './lib.js';
import { AUTH, startHeraldEventBus } from './eventbus/herald.js';
import { pipeline, type PipelineResult } from './eventbus/pipeline.js';
import { REDIS_HINT, redisBenchmark, startRedis } from './eventbus/redis.js';
import { metric } from './servers.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 1_000_000);
const CONNECTIONS = 50;
const DEPTH = 16;
const STREAM = 'bench';

// ~200 bytes of event JSON (and the same text as the Redis entry's value).
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });
const writeLine = `{"operation":"write_event",${AUTH},"body":{"stream_name":"${STREAM}","event":${event}}}`;
const writeOk = '{"operation":"write_event","status":true}\n';

async function measureHerald(store: 'lmdb' | 'memory'): Promise<{ result: PipelineResult; stored: number }> {
  const herald = await startHeraldEventBus(store);
  try {
    const created = await pipeline(herald.port, `{"operation":"create_stream",${AUTH},"body":{"stream_name":"${STREAM}"}}`, '', 1, 1, 1);
    if (created.requests !== 1) throw new Error('create_stream got no reply');
    await pipeline(herald.port, writeLine, writeOk, Math.min(100_000, REQUESTS), CONNECTIONS, DEPTH); // warm-up
    const result = await pipeline(herald.port, writeLine, writeOk, REQUESTS, CONNECTIONS, DEPTH);
    return { result, stored: await metric(herald.httpUrl, 'herald_events_appended_total') };
  } finally {
    await herald.stop();
  }
}

const { result: heraldResult, stored } = await measureHerald('lmdb');
// The same on the memory store: what the protocol and the hub cost without waiting for the disk.
const { result: memoryResult } = await measureHerald('memory');

const redis = await startRedis();
let redisRps: number | undefined;
if (redis) {
  const args = ['-c', String(CONNECTIONS), '-P', String(DEPTH), '-n', String(REQUESTS), 'XADD', STREAM, '*', 'event', event];
  await redisBenchmark(redis.port, [...args.slice(0, 4), '-n', String(Math.min(100_000, REQUESTS)), ...args.slice(6)]); // warm-up
  redisRps = await redisBenchmark(redis.port, args);
  await redis.stop();
}

const ratio = redisRps === undefined ? undefined : heraldResult.perSecond / redisRps;
report({
  name: 'eventbus-write',
  title: `event-bus write_event, ${event.length}-byte events, ${CONNECTIONS} connections pipelining ${DEPTH}, ${REQUESTS.toLocaleString('en')} requests, durable`,
  goal: 'Herald (every reply after its synced commit) >= 0.5x redis-server XADD (appendfsync everysec), redis-benchmark -c 50 -P 16',
  met: ratio !== undefined && ratio >= 0.5 && heraldResult.unexpected === 0 && memoryResult.unexpected === 0,
  rows: [
    { case: 'herald event-bus write_event, lmdb', 'req/s': round(heraldResult.perSecond), seconds: round(heraldResult.seconds, 2), 'bad replies': heraldResult.unexpected },
    { case: 'herald, memory store (no disk)', 'req/s': round(memoryResult.perSecond), seconds: round(memoryResult.seconds, 2), 'bad replies': memoryResult.unexpected },
    ...(redisRps !== undefined ? [{ case: `redis ${redis!.version} XADD, appendfsync everysec`, 'req/s': round(redisRps) }] : []),
    ...(ratio !== undefined ? [{ case: 'ratio herald / redis', 'req/s': round(ratio, 2) }] : []),
  ],
  notes: [
    `herald stored ${stored} events (warm-up included); every write_event reply was sent after the group commit holding its event was synced.`,
    ...(redis ? ['Redis with appendfsync everysec acknowledges before its fsync (up to a second of acknowledged writes can be lost in a crash); Herald acknowledges only synced writes.'] : [`Redis comparison skipped: ${REDIS_HINT}.`]),
  ],
});
