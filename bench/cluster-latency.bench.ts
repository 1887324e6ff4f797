/**
 * cluster-latency: two `herald serve` nodes on one PostgreSQL (durable commits). Events are
 * published over HTTP to node A at a fixed 1,000 events/s; an SSE client on node B
 * (`GET /streams/:s/sse`) receives them. Node B learns of each commit through LISTEN/NOTIFY.
 * Goal: p99 < 50 ms from the publish on A to the event arriving on B.
 *
 * The peer, in the same run on the same database: bare PostgreSQL doing what the path cannot
 * avoid, one durable INSERT + NOTIFY per event at the same rate, received on a LISTEN
 * connection (no HTTP, no Herald). Herald and the peer take turns in slices of a few seconds,
 * so both meet the same noise of this shared machine (its disk flushes, other processes); a
 * first slice of each warms up (connections, JIT) and is not counted.
 *
 * BENCH_SECONDS (default 10) is the measured time of each; BENCH_CPU_PROF=<dir> makes node A
 * write a CPU profile (node --cpu-prof) there when it stops.
 */
import http from 'node:http';
import { loadavg } from 'node:os';
import postgres from 'postgres';
import { startPostgres } from '../test/helpers/postgres.js';
import { percentile, report, round } from './lib.js';
import { startHeraldOnPostgres } from './postgres.js';

const RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SLICES = 5;
const WARMUP = RATE; // one second of each, not counted
const PER_SLICE = Math.round((RATE * SECONDS) / SLICES);
const TOTAL = WARMUP + PER_SLICE * SLICES;
const TICK_MS = 5;
const STREAM = 'lat';
const PAD = 'x'.repeat(150);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Calls `send(i)` for i in [from, to) at RATE per second (catching up after timer jitter). */
async function paced(from: number, to: number, send: (i: number) => void): Promise<void> {
  const start = performance.now();
  let next = from;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const due = Math.min(to, from + Math.floor(((performance.now() - start) / 1000) * RATE) + 1);
      while (next < due) send(next++);
      if (next < to) setTimeout(tick, TICK_MS);
      else done();
    };
    tick();
  });
}

/** Waits until `count()` reaches `n` or `ms` pass (a slice's stragglers). */
async function settle(count: () => number, n: number, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (count() < n && performance.now() < deadline) await sleep(20);
}

/** Send and receive times per event index, NaN until it happens. */
class Timings {
  readonly sent = new Float64Array(TOTAL).fill(NaN);
  readonly acked = new Float64Array(TOTAL).fill(NaN);
  readonly received = new Float64Array(TOTAL).fill(NaN);
  receivedCount = 0;
  failures = 0;

  receive(i: number, at: number): void {
    if (!Number.isNaN(this.received[i]!)) return;
    this.received[i] = at;
    this.receivedCount++;
  }

  /** Latencies `to[i] - from[i]` of the measured (non-warm-up) events that have both, sorted. */
  between(from: Float64Array, to: Float64Array): number[] {
    const out: number[] = [];
    for (let i = WARMUP; i < TOTAL; i++) if (!Number.isNaN(from[i]!) && !Number.isNaN(to[i]!)) out.push(to[i]! - from[i]!);
    return out.sort((x, y) => x - y);
  }
}

const load = [loadavg()[0]!];
const pg = await startPostgres({ fsync: true });
const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
const [a, b] = [await startHeraldOnPostgres(pg.url, 'herald', {}, profile), await startHeraldOnPostgres(pg.url, 'herald')];
const herald = new Timings();
const peer = new Timings();

/** Reads node B's SSE stream; each event's data is `{"i":n,…}`. */
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
        if (data) herald.receive((JSON.parse(data.slice(6)) as { i: number }).i, now);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
}

const { port } = new URL(a.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
function publish(i: number): void {
  const body = `{"i":${i},"pad":"${PAD}"}`;
  herald.sent[i] = performance.now();
  const req = http.request({ host: '127.0.0.1', port, path: `/streams/${STREAM}/events`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
    if ((res.statusCode ?? 500) >= 300) herald.failures++;
    res.resume();
    res.on('end', () => (herald.acked[i] = performance.now()));
  });
  req.on('error', () => herald.failures++);
  req.end(body);
}

/** The peer: INSERT + pg_notify in one autocommitted statement per event, 8 connections; LISTEN on another. */
const peerSql = postgres(pg.url, { max: 8, onnotice: () => {} });
const peerListener = postgres(pg.url, { max: 1 });
function insert(i: number): void {
  peer.sent[i] = performance.now();
  peerSql`WITH ins AS (INSERT INTO peer_events VALUES (${i}, ${PAD})) SELECT pg_notify('peer', ${String(i)})`.then(
    () => (peer.acked[i] = performance.now()),
    () => peer.failures++,
  );
}

const ac = new AbortController();
let reading: Promise<void> = Promise.resolve();
let commitP99 = NaN;
let appendP99 = NaN;
try {
  await peerSql`CREATE TABLE peer_events (i int PRIMARY KEY, data text NOT NULL)`;
  await peerListener.listen('peer', (payload) => peer.receive(Number(payload), performance.now()));
  // The stream exists before the subscriber starts.
  await fetch(`${a.url}/streams/${STREAM}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' }).then((r) => r.body?.cancel());
  await new Promise<void>((ready, fail) => {
    reading = subscribe(ac.signal, ready);
    reading.catch(fail);
  });
  // Warm-up, then the measured slices, Herald and the peer in turn.
  const slices: Array<[number, number]> = [[0, WARMUP], ...Array.from({ length: SLICES }, (_, s): [number, number] => [WARMUP + s * PER_SLICE, WARMUP + (s + 1) * PER_SLICE])];
  let warm: Buckets | undefined;
  for (const [from, to] of slices) {
    warm ??= from === 0 ? undefined : await histograms(a.url);
    await paced(from, to, publish);
    await settle(() => herald.receivedCount, to, 5000);
    await paced(from, to, insert);
    await settle(() => peer.receivedCount, to, 5000);
  }
  await settle(() => Math.min(herald.receivedCount, peer.receivedCount), TOTAL, 10_000);
  const end = await histograms(a.url);
  commitP99 = p99Of(end, warm!, 'herald_commit_duration_seconds');
  appendP99 = p99Of(end, warm!, 'herald_append_duration_seconds');
} finally {
  ac.abort();
  await reading.catch(() => undefined);
  agent.destroy();
  await Promise.all([a.stop(), b.stop(), peerSql.end(), peerListener.end()]);
  await pg.stop();
}
load.push(loadavg()[0]!);

/** Cumulative histogram buckets of node A's metrics: metric → [upper bound, count]. */
type Buckets = Map<string, Array<[number, number]>>;

async function histograms(base: string): Promise<Buckets> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const out: Buckets = new Map();
  for (const m of text.matchAll(/^(\w+)_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm)) {
    const list = out.get(m[1]!) ?? [];
    list.push([Number(m[2]), Number(m[3])]);
    out.set(m[1]!, list);
  }
  return out;
}

/** The p99 of a histogram between two snapshots, in ms: the upper bound of its bucket. */
function p99Of(end: Buckets, start: Buckets, metric: string): number {
  const before = start.get(metric) ?? [];
  const counts = (end.get(metric) ?? []).map(([le, n], k): [number, number] => [le, n - (before[k]?.[1] ?? 0)]);
  const total = counts.at(-1)?.[1] ?? 0;
  const bucket = counts.find(([, n]) => n >= total * 0.99);
  return bucket ? bucket[0] * 1000 : NaN;
}

const fromPublish = herald.between(herald.sent, herald.received);
const ackLatency = herald.between(herald.sent, herald.acked);
const fromAck = herald.between(herald.acked, herald.received);
const peerLatency = peer.between(peer.sent, peer.received);
const peerCommit = peer.between(peer.sent, peer.acked);
const row = (label: string, xs: number[]): { case: string; p50_ms: number; p99_ms: number; max_ms: number } =>
  ({ case: label, p50_ms: round(percentile(xs, 50), 2), p99_ms: round(percentile(xs, 99), 2), max_ms: round(xs.at(-1) ?? NaN, 2) });
const p99 = percentile(fromPublish, 99);
const measured = TOTAL - WARMUP;
report({
  name: 'cluster-latency',
  title: `cross-node latency at ${RATE} events/s for ${SECONDS} s: publish on node A (HTTP), SSE receive on node B, PostgreSQL durable`,
  goal: 'p99 < 50 ms from the publish on node A to the SSE client on node B',
  met: p99 < 50 && fromPublish.length === measured && herald.failures === 0,
  rows: [
    row('peer: bare INSERT + NOTIFY → LISTEN (durable commit per event)', peerLatency),
    row('peer: INSERT + NOTIFY acknowledged', peerCommit),
    row('publish sent on A → SSE event on B', fromPublish),
    row('publish acknowledged by A (201)', ackLatency),
    row('A acknowledged → SSE event on B', fromAck),
  ],
  notes: [
    `${fromPublish.length} of ${measured} measured events received on B; ${herald.failures} publishes failed; the peer received ${peerLatency.length} of ${measured}.`,
    `p99 ratio Herald / peer: ${round(p99 / percentile(peerLatency, 99), 2)}. Node A's own metrics over the measured slices (p99 as a histogram bucket bound): group commit ${commitP99} ms per batch, publish call to durable ${appendP99} ms per event.`,
    `Herald and the peer alternate in ${SLICES} slices of ${PER_SLICE / RATE} s each, after 1 s of warm-up each (not counted). Load average (1 min) at start and end: ${load.map((x) => x.toFixed(2)).join(' → ')}.`,
    'Both nodes, PostgreSQL (fsync on) and the load generator share one 2-core machine. B is woken by a NOTIFY (stream and head, no payload) sent in the commit, then reads the events from the database.',
    '"A acknowledged → B" is often negative: B can deliver the event before A\'s 201 reaches the client.',
  ],
});
