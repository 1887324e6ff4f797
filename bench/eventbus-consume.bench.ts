/**
 * eventbus-consume: a consumer drains 100,000 events end to end: process_events, then
 * mark_event(id, 1) for every event it got (all pipelined on one connection), again until
 * process_events comes back empty. Against `herald serve` on LMDB (each mark answered once
 * durable). In the same run the same consumer on Redis Streams: a consumer group read with
 * XREADGROUP (COUNT = Herald's maxEventsPerReply) and one XACK per entry, pipelined.
 */
import { report, round } from './lib.js';
import { AUTH, startHeraldEventBus } from './eventbus/herald.js';
import { LineConnection } from './eventbus/lines.js';
import { pipeline } from './eventbus/pipeline.js';
import { REDIS_HINT, startRedis } from './eventbus/redis.js';
import { RespConnection, type RespValue } from './eventbus/resp.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PER_READ = 10_000; // Herald's default eventbus.maxEventsPerReply
const STREAM = 'consume';
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });

interface Drain {
  events: number;
  seconds: number;
  rounds: number;
}

async function drainHerald(port: number): Promise<Drain> {
  const conn = await LineConnection.open(port);
  const process = `{"operation":"process_events",${AUTH},"body":{"stream_name":"${STREAM}"}}`;
  const ok = '{"operation":"mark_event","status":true}';
  let events = 0;
  let rounds = 0;
  const started = performance.now();
  for (;;) {
    const [reply] = await conn.ask([process]);
    const ids = [...reply!.toString('latin1').matchAll(/\{"id":"([^"]+)","stream_id"/g)].map((m) => m[1]!);
    if (ids.length === 0) break;
    rounds++;
    const marks = await conn.ask(ids.map((id) => `{"operation":"mark_event",${AUTH},"body":{"event_id":"${id}","status":1}}`));
    if (marks.some((m) => m.toString() !== ok)) throw new Error(`a mark failed: ${marks.find((m) => m.toString() !== ok)!.toString()}`);
    events += ids.length;
  }
  const seconds = (performance.now() - started) / 1000;
  conn.close();
  return { events, seconds, rounds };
}

async function drainRedis(port: number): Promise<Drain> {
  const redis = await RespConnection.open(port);
  for (let i = 0; i < EVENTS; i += 1000) {
    await redis.pipeline(Array.from({ length: Math.min(1000, EVENTS - i) }, () => ['XADD', STREAM, '*', 'event', event]));
  }
  await redis.pipeline([['XGROUP', 'CREATE', STREAM, 'g', '0']]);
  let events = 0;
  let rounds = 0;
  const started = performance.now();
  for (;;) {
    const [reply] = await redis.pipeline([['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', String(PER_READ), 'STREAMS', STREAM, '>']]);
    const entries = reply === null ? [] : (((reply as RespValue[])[0] as RespValue[])[1] as RespValue[]);
    if (entries.length === 0) break;
    rounds++;
    const acks = await redis.pipeline(entries.map((e) => ['XACK', STREAM, 'g', (e as RespValue[])[0] as string]));
    if (acks.some((a) => a !== 1)) throw new Error('an XACK failed');
    events += entries.length;
  }
  const seconds = (performance.now() - started) / 1000;
  redis.close();
  return { events, seconds, rounds };
}

const herald = await startHeraldEventBus();
await pipeline(herald.port, `{"operation":"create_stream",${AUTH},"body":{"stream_name":"${STREAM}"}}`, '', 1, 1, 1);
const write = await pipeline(herald.port, `{"operation":"write_event",${AUTH},"body":{"stream_name":"${STREAM}","event":${event}}}`, '{"operation":"write_event","status":true}\n', EVENTS, 50, 16);
if (write.unexpected > 0) throw new Error('writing the events failed');
const heraldDrain = await drainHerald(herald.port);
await herald.stop();

const redis = await startRedis();
const redisDrain = redis ? await drainRedis(redis.port) : undefined;
await redis?.stop();

const rate = (d: Drain): number => d.events / d.seconds;
const ratio = redisDrain ? rate(heraldDrain) / rate(redisDrain) : undefined;
report({
  name: 'eventbus-consume',
  title: `event-bus consumer: process_events + mark_event(1) of ${EVENTS.toLocaleString('en')} events end to end, one connection`,
  goal: 'every event drained (the issue sets no figure: events/s reported), next to a Redis Streams consumer group (XREADGROUP + XACK) in the same run',
  met: heraldDrain.events === EVENTS,
  rows: [
    { case: 'herald event-bus, lmdb (marks durable)', 'events/s': round(rate(heraldDrain)), seconds: round(heraldDrain.seconds, 2), rounds: heraldDrain.rounds, events: heraldDrain.events },
    ...(redisDrain ? [{ case: `redis ${redis!.version} streams, appendfsync everysec`, 'events/s': round(rate(redisDrain)), seconds: round(redisDrain.seconds, 2), rounds: redisDrain.rounds, events: redisDrain.events }] : []),
    ...(ratio !== undefined ? [{ case: 'ratio herald / redis', 'events/s': round(ratio, 2) }] : []),
  ],
  notes: [
    `Each round: one read of up to ${PER_READ.toLocaleString('en')} events, then one mark (ack) per event, pipelined on the same connection. Herald answers every mark after its durable commit; marks in order only move the stream's watermark.`,
    ...(redis ? [] : [`Redis comparison skipped: ${REDIS_HINT}.`]),
  ],
});
