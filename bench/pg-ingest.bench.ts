/**
 * pg-ingest: bulk durable ingest through Herald on the postgres store (HTTP, NDJSON batches of
 * 1,000 over 8 connections), next to a bare multi-row INSERT of the same rows into a table of
 * the same shape (same columns, primary key and id index) in the same database, in the same run.
 * Goal: Herald >= 0.7x the bare insert. The database commits durably (fsync and synchronous
 * commit on) in both cases.
 */
import http from 'node:http';
import autocannon from 'autocannon';
import postgres from 'postgres';
import { newEventId } from '../src/core/ids.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { report, round } from './lib.js';
import { startHeraldOnPostgres } from './postgres.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const BATCH = 1000;
const CONNECTIONS = 8;
const line = (i: number): string => JSON.stringify({ type: 'reading', sensor: `s-${i % 97}`, seq: i, value: 21.5, unit: 'C', tags: ['bench', 'bulk'], pad: 'x'.repeat(100) });
const lines = Array.from({ length: BATCH }, (_, i) => line(i));
const body = Buffer.from(lines.join('\n') + '\n');
const payloads = lines.map((l) => Buffer.from(l));

/** Runs `batches` jobs on CONNECTIONS workers; seconds taken. */
async function timed(batches: number, job: () => Promise<void>): Promise<number> {
  let left = batches;
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    while (left-- > 0) await job();
  }));
  return (performance.now() - started) / 1000;
}

/** Herald: NDJSON batches over HTTP keep-alive connections. */
async function viaHerald(url: string, events: number): Promise<number> {
  const { port } = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let failures = 0;
  const post = (): Promise<void> => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/streams/bulk/events', method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length } }, (res) => {
      if ((res.statusCode ?? 500) >= 300) failures++;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end(body);
  });
  const seconds = await timed(events / BATCH, post);
  agent.destroy();
  if (failures > 0) throw new Error(`${failures} herald batches failed`);
  return seconds;
}

/** Bare: the rows Herald would store, as one multi-row INSERT per batch, on CONNECTIONS connections. */
let seq = 0;
async function viaInsert(sql: postgres.Sql, events: number): Promise<number> {
  return timed(events / BATCH, async () => {
    const time = new Date().toISOString();
    const rows = payloads.map((data) => ({ sid: 1, seq: ++seq, id: newEventId(), type: 'message', time, content_type: 'application/json', data }));
    await sql`INSERT INTO bare.events ${sql(rows)}`;
  });
}

/** Single-event POSTs on `connections` connections spread over the nodes, for `seconds`: total requests/s and p99. */
async function singleEvents(urls: string[], connections: number, seconds: number): Promise<{ rate: number; p99: number; bad: number }> {
  const one = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, note: 'x'.repeat(100) });
  const results = await Promise.all(urls.map((url) => autocannon({
    url: `${url}/streams/single/events`, method: 'POST', headers: { 'content-type': 'application/json' }, body: one,
    connections: connections / urls.length, duration: seconds,
  })));
  return {
    rate: results.reduce((sum, r) => sum + r.requests.average, 0),
    p99: Math.max(...results.map((r) => r.latency.p99)),
    bad: results.reduce((sum, r) => sum + r.non2xx + r.errors, 0),
  };
}

const SINGLE_SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const pg = await startPostgres({ fsync: true });
const sql = postgres(pg.url, { max: CONNECTIONS, onnotice: () => {} });
const herald = await startHeraldOnPostgres(pg.url, 'herald');
const figures = { herald: [] as number[], bare: [] as number[] };
let single: { one: { rate: number; p99: number; bad: number }; two: { rate: number; p99: number; bad: number } } | undefined;
try {
  await sql.unsafe('CREATE SCHEMA bare');
  await sql.unsafe('CREATE TABLE bare.events (LIKE herald.events INCLUDING ALL)');
  await viaHerald(herald.url, 20 * BATCH); // warm-up
  await viaInsert(sql, 20 * BATCH);
  // Alternate, so both see the same machine and a table of about the same size.
  for (let round = 0; round < 2; round++) {
    figures.bare.push(EVENTS / 2 / (await viaInsert(sql, EVENTS / 2)));
    figures.herald.push(EVENTS / 2 / (await viaHerald(herald.url, EVENTS / 2)));
  }
  // One event per request: the group commit gathers concurrent publishers. Then the same load
  // spread over two nodes of one cluster.
  const second = await startHeraldOnPostgres(pg.url, 'herald');
  try {
    await singleEvents([herald.url], 64, 2);
    const one = await singleEvents([herald.url], 64, SINGLE_SECONDS);
    const two = await singleEvents([herald.url, second.url], 64, SINGLE_SECONDS);
    single = { one, two };
  } finally {
    await second.stop();
  }
} finally {
  await herald.stop();
  await sql.end();
  await pg.stop();
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const ratio = mean(figures.herald) / mean(figures.bare);
report({
  name: 'pg-ingest',
  title: `bulk durable ingest on PostgreSQL, ${EVENTS} events of ${line(0).length} bytes in batches of ${BATCH}, ${CONNECTIONS} connections`,
  goal: 'Herald (HTTP, postgres store) >= 0.7x a bare multi-row INSERT of the same rows',
  met: ratio >= 0.7,
  rows: [
    { case: 'bare multi-row INSERT (postgres.js, same rows, same table shape)', 'events/s': round(mean(figures.bare)), runs: figures.bare.map((x) => round(x)).join(' / ') },
    { case: 'herald: HTTP NDJSON → postgres store', 'events/s': round(mean(figures.herald)), runs: figures.herald.map((x) => round(x)).join(' / ') },
    { case: 'ratio herald / bare', 'events/s': round(ratio, 2) },
    ...(single ? [
      { case: `single-event POSTs, 64 connections, 1 node`, 'events/s': round(single.one.rate), 'p99 ms': single.one.p99, failed: single.one.bad },
      { case: `single-event POSTs, 64 connections, 2 nodes`, 'events/s': round(single.two.rate), 'p99 ms': single.two.p99, failed: single.two.bad },
    ] : []),
  ],
  notes: [
    'One embedded PostgreSQL 18 on the same 2-core machine as Herald and the load generator, fsync and synchronous_commit on.',
    'Herald sends each group-commit batch as one call of its append function (one round trip, one transaction) on one writer connection; the bare INSERT uses 8 connections.',
  ],
});
