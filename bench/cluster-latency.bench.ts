/**
 * cluster-latency: two `herald serve` nodes on one PostgreSQL (durable commits). Events are
 * published over HTTP to node A at a fixed 1,000 events/s; an SSE client on node B
 * (`GET /streams/:s/sse`) receives them. Node B learns of each commit through LISTEN/NOTIFY.
 * Goal: p99 < 50 ms from the publish on A to the event arriving on B.
 *
 * The peer, in the same run on the same database: bare PostgreSQL doing what the path cannot
 * avoid, one durable INSERT + NOTIFY per event at the same rate, received on a LISTEN
 * connection (no HTTP, no Herald).
 */
import http from 'node:http';
import postgres from 'postgres';
import { startPostgres } from '../test/helpers/postgres.js';
import { percentile, report, round } from './lib.js';
import { startHeraldOnPostgres } from './postgres.js';

const RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const TICK_MS = 5;
const TOTAL = RATE * SECONDS;
const STREAM = 'lat';

/** Calls `send(i)` for i in 0..TOTAL-1 at RATE per second (catching up after timer jitter). */
async function paced(send: (i: number) => void): Promise<void> {
  const start = performance.now();
  let next = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const due = Math.min(TOTAL, Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
      while (next < due) send(next++);
      if (next < TOTAL) setTimeout(tick, TICK_MS);
      else done();
    };
    tick();
  });
}

const pg = await startPostgres({ fsync: true });

/** The peer: INSERT + pg_notify in one autocommitted statement per event, 8 connections; LISTEN on another. */
async function barePeer(): Promise<number[]> {
  const sql = postgres(pg.url, { max: 8, onnotice: () => {} });
  const listener = postgres(pg.url, { max: 1 });
  const sentAt = new Float64Array(TOTAL).fill(NaN);
  const latency: number[] = [];
  try {
    await sql`CREATE TABLE peer_events (i int PRIMARY KEY, data text NOT NULL)`;
    await listener.listen('peer', (payload) => latency.push(performance.now() - sentAt[Number(payload)]!));
    const pad = 'x'.repeat(150);
    await paced((i) => {
      sentAt[i] = performance.now();
      void sql`WITH ins AS (INSERT INTO peer_events VALUES (${i}, ${pad})) SELECT pg_notify('peer', ${String(i)})`.catch(() => undefined);
    });
    const deadline = performance.now() + 10_000;
    while (latency.length < TOTAL && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await sql.end();
    await listener.end();
  }
  return latency.sort((x, y) => x - y);
}
const [a, b] = [await startHeraldOnPostgres(pg.url, 'herald'), await startHeraldOnPostgres(pg.url, 'herald')];

const sent = new Float64Array(TOTAL).fill(NaN);
const acked = new Float64Array(TOTAL).fill(NaN);
const received = new Float64Array(TOTAL).fill(NaN);
let receivedCount = 0;
let failures = 0;

/** Reads node B's SSE stream; each event's data is `{"i":n}`. */
async function subscribe(signal: AbortSignal, ready: () => void): Promise<void> {
  const res = await fetch(`${b.url}/streams/${STREAM}/sse?after=0`, { signal });
  if (!res.ok || !res.body) throw new Error(`SSE on node B answered ${res.status}`);
  ready();
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of res.body) {
      const now = performance.now();
      buffered += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const frame = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const data = frame.split('\n').find((l) => l.startsWith('data: '));
        if (!data) continue;
        const i = (JSON.parse(data.slice(6)) as { i: number }).i;
        if (Number.isNaN(received[i]!)) {
          received[i] = now;
          receivedCount++;
        }
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

const { port } = new URL(a.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
function publish(i: number): void {
  const body = `{"i":${i},"pad":"${'x'.repeat(150)}"}`;
  sent[i] = performance.now();
  const req = http.request({ host: '127.0.0.1', port, path: `/streams/${STREAM}/events`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    if ((res.statusCode ?? 500) >= 300) failures++;
    res.resume();
    res.on('end', () => (acked[i] = performance.now()));
  });
  req.on('error', () => failures++);
  req.end(body);
}

const ac = new AbortController();
let reading: Promise<void> = Promise.resolve();
try {
  // The stream exists before the subscriber starts (created by a first, unmeasured event).
  await fetch(`${a.url}/streams/${STREAM}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.body?.cancel());
  await new Promise<void>((ready, fail) => {
    reading = subscribe(ac.signal, ready);
    reading.catch(fail);
  });
  await paced(publish);
  const deadline = performance.now() + 10_000;
  while (receivedCount < TOTAL && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
} finally {
  ac.abort();
  await reading.catch(() => undefined);
  agent.destroy();
  await Promise.all([a.stop(), b.stop()]);
}
// The peer runs after Herald, so its backlog (it cannot keep up on a slow disk) disturbs nothing.
const peer = await barePeer().finally(() => pg.stop());

const fromPublish: number[] = [];
const fromAck: number[] = [];
const ackLatency: number[] = [];
for (let i = 0; i < TOTAL; i++) {
  if (Number.isNaN(received[i]!)) continue;
  fromPublish.push(received[i]! - sent[i]!);
  if (!Number.isNaN(acked[i]!)) {
    fromAck.push(received[i]! - acked[i]!);
    ackLatency.push(acked[i]! - sent[i]!);
  }
}
for (const xs of [fromPublish, fromAck, ackLatency]) xs.sort((x, y) => x - y);
const row = (label: string, xs: number[]): { case: string; p50_ms: number; p99_ms: number; max_ms: number } =>
  ({ case: label, p50_ms: round(percentile(xs, 50), 2), p99_ms: round(percentile(xs, 99), 2), max_ms: round(xs.at(-1) ?? NaN, 2) });
const p99 = percentile(fromPublish, 99);
report({
  name: 'cluster-latency',
  title: `cross-node latency at ${RATE} events/s for ${SECONDS} s: publish on node A (HTTP), SSE receive on node B, PostgreSQL durable`,
  goal: 'p99 < 50 ms from the publish on node A to the SSE client on node B',
  met: p99 < 50 && receivedCount === TOTAL && failures === 0,
  rows: [
    row('peer: bare INSERT + NOTIFY → LISTEN (durable commit per event)', peer),
    row('publish sent on A → SSE event on B', fromPublish),
    row('publish acknowledged by A (201)', ackLatency),
    row('A acknowledged → SSE event on B', fromAck),
  ],
  notes: [
    `${receivedCount} of ${TOTAL} events received on B; ${failures} publishes failed; the peer received ${peer.length} of ${TOTAL}.`,
    `p99 ratio Herald / peer: ${round(p99 / percentile(peer, 99), 2)}.`,
    'Both nodes, PostgreSQL (fsync on) and the load generator share one 2-core machine. B is woken by a NOTIFY (stream and head, no payload) sent in the commit, then reads the events from the database.',
    '"A acknowledged → B" is often negative: B can deliver the event before A\'s 201 reaches the client.',
  ],
});
