/**
 * sse-fanout: 1,000 and 10,000 concurrent SSE connections on one stream, Herald (LMDB, durable)
 * next to a bare node:http SSE broadcaster (peers/bare-sse.mjs) in the same run. The connections
 * are held by a load generator in its own process (peers/sse-clients.mjs) on this machine.
 *
 * Per case: server RSS per connection (after the connections open, minus before), then a fixed
 * rate of 20 events/s for 10 s (publish-to-receive p50/p99), then a burst of 200 events published
 * as fast as the server takes them (deliveries/s = connections × events / time to the last
 * delivery). A third peer, the floor, is the bare broadcaster writing one pre-framed buffer
 * straight to each socket: the least work a fan-out can do, so its latency is what this machine
 * and load generator allow. Goals: 10,000 connections at < 40 KB RSS each; >= 0.8x the bare broadcaster's
 * deliveries/s; p99 < 100 ms at 20 events/s to all 10,000.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { benchDir, report, round, startProcess, stopProcess, type Row } from './lib.js';
import { cpuSince, statusBytes } from './proc.js';
import { startHerald } from './servers.js';

const COUNTS = (process.env.BENCH_CONNECTIONS ?? '1000,10000').split(',').map(Number);
const RATE = 20;
const FIXED_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const BURST = 200;
const PAD = 'x'.repeat(60);

interface Target {
  name: 'herald' | 'bare' | 'floor';
  url: string;
  pid: number;
  ssePath: string;
  publishPath: string;
  stop(): Promise<void>;
}

async function startTarget(name: Target['name']): Promise<Target> {
  if (name === 'herald') {
    process.env.HERALD_HTTP_MAX_CONNECTIONS = '30000';
    const t = await startHerald('lmdb');
    return { name, url: t.url, pid: t.child.pid!, ssePath: '/streams/fan/sse', publishPath: '/streams/fan/events', stop: t.stop };
  }
  const args = name === 'floor' ? ['direct'] : [];
  const { child, match } = await startProcess(process.execPath, [join(benchDir, 'peers', 'bare-sse.mjs'), ...args], /listening (http:\/\/[\d.:]+)/);
  return { name, url: match[1]!, pid: child.pid!, ssePath: '/sse', publishPath: '/publish', stop: () => stopProcess(child) };
}


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

interface Stats {
  deliveries: number;
  lastAt: number;
  samples: number;
  p50: number;
  p99: number;
  max: number;
  connected?: number;
  error?: string;
}

function ask(child: ChildProcess, message: object): Promise<Stats> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: Stats) => (m.error ? reject(new Error(m.error)) : resolve(m)));
    child.send(message);
  });
}

let publishErrors = 0;

/** One publish; a failure (a reused keep-alive socket closing under it) is retried once, then counted. */
async function publish(target: Target, retry = true): Promise<void> {
  try {
    await publishOnce(target);
  } catch (err) {
    if (retry) return publish(target, false);
    publishErrors++;
    console.error(`publish failed: ${String(err)}`);
  }
}

async function publishOnce(target: Target): Promise<void> {
  const res = await fetch(`${target.url}${target.publishPath}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"pad":"${PAD}","t":${now()}}` });
  if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
  await res.arrayBuffer();
}

async function runCase(name: Target['name'], n: number): Promise<Row & { deliveriesPerSec: number; p99_ms: number; rssPerConnKB: number }> {
  console.error(`sse-fanout: ${name}, ${n} connections…`);
  const target = await startTarget(name);
  const client = fork(join(benchDir, 'peers', 'sse-clients.mjs'), [], { stdio: 'inherit' });
  try {
    await publish(target); // warm up, and create the stream
    await sleep(1000);
    const before = statusBytes(target.pid, 'VmRSS');
    await ask(client, { cmd: 'connect', url: target.url, path: target.ssePath, n });
    await sleep(2000);
    const rssPerConn = (statusBytes(target.pid, 'VmRSS') - before) / n;

    // Fixed rate.
    await ask(client, { cmd: 'reset' });
    const total = RATE * FIXED_SECONDS;
    const spent = cpuSince([target.pid, client.pid!]);
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      void publish(target);
    }
    const fixedSeconds = (performance.now() - start) / 1000;
    const cpu = spent().map((c) => `${Math.round((100 * c) / fixedSeconds)}%`);
    // Let the backlog drain (up to 30 s) so it does not spill into the burst.
    let fixed = await ask(client, { cmd: 'stats' });
    for (let waited = 0, stable = 0; fixed.deliveries < total * n && stable < 3 && waited < 30_000; waited += 500) {
      await sleep(500);
      const next = await ask(client, { cmd: 'stats' });
      stable = next.deliveries === fixed.deliveries ? stable + 1 : 0;
      fixed = next;
    }

    // Burst: as fast as the server takes publishes, 8 in flight.
    await ask(client, { cmd: 'reset' });
    const burstStart = now();
    let sent = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (sent < BURST) {
          sent++;
          await publish(target);
        }
      }),
    );
    const expected = BURST * n;
    let burst = await ask(client, { cmd: 'stats' });
    for (let waited = 0; burst.deliveries < expected && waited < 60_000; waited += 200) {
      await sleep(200);
      burst = await ask(client, { cmd: 'stats' });
    }
    const rssAfter = statusBytes(target.pid, 'VmRSS');
    const deliveriesPerSec = burst.deliveries / ((burst.lastAt - burstStart) / 1000);
    return {
      case: `${name}, ${n} connections`,
      rssPerConnKB: round(rssPerConn / 1024, 1),
      fixedDelivered: `${fixed.deliveries}/${total * n}`,
      p50_ms: round(fixed.p50, 2),
      p99_ms: round(fixed.p99, 2),
      max_ms: round(fixed.max, 1),
      cpuServerClient: cpu.join(' / '),
      burstDelivered: `${burst.deliveries}/${expected}`,
      deliveriesPerSec: round(deliveriesPerSec),
      rssAfterMB: round(rssAfter / 2 ** 20, 1),
    };
  } finally {
    await ask(client, { cmd: 'close' }).catch(() => {});
    client.kill();
    await target.stop();
    await sleep(1000);
  }
}

const loadAtStart = loadavg()[0]!;
const rows: Array<Awaited<ReturnType<typeof runCase>>> = [];
for (const n of COUNTS) {
  rows.push(await runCase('herald', n));
  rows.push(await runCase('bare', n));
  rows.push(await runCase('floor', n));
}
const at = (name: string, n: number) => rows.find((r) => r.case === `${name}, ${n} connections`);
const notes: string[] = [];
let met = COUNTS.includes(10_000);
for (const n of COUNTS) {
  const h = at('herald', n)!;
  const b = at('bare', n)!;
  const ratio = h.deliveriesPerSec / b.deliveriesPerSec;
  const f = at('floor', n)!;
  notes.push(`${n} connections: Herald/bare deliveries/s ${round(ratio, 2)}x; Herald p99 ${h.p99_ms} ms at ${RATE} events/s (floor ${f.p99_ms} ms); ${h.rssPerConnKB} KB RSS per connection (bare ${b.rssPerConnKB} KB).`);
  if (n === 10_000) met = ratio >= 0.8 && h.p99_ms < 100 && h.rssPerConnKB < 40;
}
notes.push(`Publish errors: ${publishErrors}. Machine load average (1 min) at start ${round(loadAtStart, 1)}, at end ${round(loadavg()[0]!, 1)} (other work on this shared machine competes for its 2 cores).`);
notes.push(`Fixed phase: ${RATE} events/s for ${FIXED_SECONDS} s; burst: ${BURST} events, 8 publishes in flight. Herald stores each event durably (LMDB) before it fans out; the bare broadcaster and the floor store nothing. Latency: payload carries the publish time; receive time in the load generator (same clock). cpuServerClient: CPU used by the server and by the load generator during the fixed phase (100% = one core).`);
report({
  name: 'sse-fanout',
  title: 'SSE fan-out to 1,000 and 10,000 connections on one stream',
  goal: '10,000 connections: < 40 KB RSS each, >= 0.8x bare deliveries/s, p99 < 100 ms at 20 events/s',
  met,
  rows,
  notes,
});
