/**
 * followermaze: the original harness's defaults — 10,000,000 events, 100 connected clients of
 * 1,000 users, batches of random size up to 100 shuffled within — against `herald serve`, every
 * notification checked. Goal: under 30 s (over 330,000 events/s). In the same run, the harness
 * alone against a server that discards everything (bench/peers/followermaze-discard.mjs), to
 * show the harness is not the limit; then smaller runs with persistence and the stream mirror.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runHarness, type HarnessReport } from './followermaze/harness.js';
import { SERVE_ENV, benchDir, repoDir, report, round, startProcess, stopProcess, type Row } from './lib.js';
import { cpuSince, statusBytes } from './proc.js';
import { metric } from './servers.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const EXTRA_EVENTS = Number(process.env.BENCH_EXTRA_EVENTS ?? 1_000_000);
const CONCURRENCY = 100;
const USERS = 1000;
const MAX_BATCH = 100;

interface Target {
  eventPort: number;
  clientPort: number;
  pid: number;
  httpUrl?: string;
  stop(): Promise<void>;
}

/** CPU seconds a process has used so far (user + system), from /proc. */

async function startDiscard(): Promise<Target> {
  const { child, match } = await startProcess(process.execPath, [join(benchDir, 'peers', 'followermaze-discard.mjs')], /listening events (\d+) clients (\d+)/);
  return { eventPort: Number(match[1]), clientPort: Number(match[2]), pid: child.pid!, stop: () => stopProcess(child) };
}

async function startHerald(env: Record<string, string> = {}, store: 'memory' | 'lmdb' = 'memory'): Promise<Target> {
  const data = mkdtempSync(join(tmpdir(), 'herald-bench-fm-'));
  const { child, match } = await startProcess(
    process.execPath,
    [join(repoDir, 'dist', 'cli', 'main.js'), 'serve', '--port', '0', ...(store === 'memory' ? ['--memory'] : ['--data', data])],
    /http listening on (http:\/\/[\d.:]+)[\s\S]*followermaze-events listening on tcp:\/\/[\d.]+:(\d+)[\s\S]*followermaze-clients listening on tcp:\/\/[\d.]+:(\d+)/,
    { ...SERVE_ENV, HERALD_FOLLOWERMAZE_EVENT_PORT: '0', HERALD_FOLLOWERMAZE_CLIENT_PORT: '0', HERALD_EVENTBUS_PORT: '0', HERALD_EVENTPIPER_PORT: '0', ...env },
  );
  return {
    httpUrl: match[1]!,
    eventPort: Number(match[2]),
    clientPort: Number(match[3]),
    pid: child.pid!,
    stop: async () => {
      await stopProcess(child);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Waits until the server has processed `n` client registrations (read from /metrics). */
function registrations(url: string): (n: number) => Promise<void> {
  return async (n) => {
    const deadline = Date.now() + 10_000;
    while ((await metric(url, 'herald_followermaze_client_registrations_total')) < n) {
      if (Date.now() > deadline) throw new Error(`the server registered fewer than ${n} clients in 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
}

interface Measured {
  run: HarnessReport;
  /** Load average (1 min) when the run ended: other work on these shared machines. */
  load: number;
  serverCpu: number;
  harnessCpu: number;
  rss: number;
}

async function measure(target: Target, events: number, verify: boolean, avgFollowers = 10): Promise<Measured> {
  const spent = cpuSince([target.pid]);
  const own0 = process.cpuUsage();
  const run = await runHarness({
    eventPort: target.eventPort,
    clientPort: target.clientPort,
    totalEvents: events,
    concurrency: CONCURRENCY,
    users: USERS,
    maxBatch: MAX_BATCH,
    seed: 666,
    verify,
    avgFollowers,
    ...(target.httpUrl !== undefined ? { ready: registrations(target.httpUrl) } : {}),
  });
  const own = process.cpuUsage(own0);
  return { run, load: loadavg()[0]!, serverCpu: spent()[0]!, harnessCpu: (own.user + own.system) / 1e6, rss: round(statusBytes(target.pid, 'VmRSS') / 1024 / 1024, 1) };
}

function row(label: string, m: Measured): Row {
  const s = m.run.seconds;
  return {
    case: label,
    seconds: round(s, 2),
    'events/s': round(m.run.events / s),
    notifications: m.run.verified > 0 ? m.run.verified : `(${m.run.notifications} computed)`,
    'server cpu s': round(m.serverCpu, 1),
    'server µs/event': round((m.serverCpu * 1e6) / m.run.events, 2),
    'server cores': round(m.serverCpu / s, 2),
    'harness cpu s': round(m.harnessCpu, 1),
    'harness cores': round(m.harnessCpu / s, 2),
    'server rss MB': m.rss,
    verified: m.run.ok ? 'all' : `FAILED: ${m.run.failures[0]}`,
    'load avg': round(m.load, 1),
  };
}

const discard = await startDiscard();
const ceiling = await measure(discard, EVENTS, false);
await discard.stop();

const fresh = await startHerald();
const main = await measure(fresh, EVENTS, true);
await fresh.stop();

const heavy = await startHerald();
const withFanOut = await measure(heavy, EXTRA_EVENTS * 3, true, 100);
await heavy.stop();

const persisted = await startHerald({ HERALD_FOLLOWERMAZE_PERSIST: 'true' }, 'lmdb');
const withPersist = await measure(persisted, EXTRA_EVENTS, true);
await persisted.stop();
const mirrored = await startHerald({ HERALD_FOLLOWERMAZE_STREAM: 'maze' }, 'lmdb');
const withMirror = await measure(mirrored, EXTRA_EVENTS, true);
const stored = await metric(mirrored.httpUrl!, 'herald_events_appended_total');
await mirrored.stop();

const rate = EVENTS / main.run.seconds;
const harnessRate = EVENTS / ceiling.run.seconds;
report({
  name: 'followermaze',
  title: `follower maze, ${EVENTS} events, ${CONCURRENCY} clients of ${USERS} users, batches up to ${MAX_BATCH}`,
  goal: `${EVENTS} events in under 30 s (> 330,000 events/s), every notification verified`,
  met: main.run.ok && main.run.seconds < (30 * EVENTS) / 10_000_000,
  rows: [
    row('harness alone → discarding server (ceiling)', ceiling),
    row('herald (memory store)', main),
    { case: 'ratio herald / harness ceiling', 'events/s': round(rate / harnessRate, 2) },
    row(`herald, 10x fan-out (about 100 followers per user), ${EXTRA_EVENTS * 3} events`, withFanOut),
    row(`herald, persist: true (lmdb), ${EXTRA_EVENTS} events`, withPersist),
    row(`herald, stream mirror (lmdb), ${EXTRA_EVENTS} events`, withMirror),
  ],
  notes: [
    'harness (bench/followermaze/): seeded (666) events, 50% status updates, 20% private messages, 0.01% broadcasts, the rest follows and unfollows holding about 10 followers per user; shuffled within batches of random size 1..100; 64 KiB writes; every client checks every line.',
    'server and harness run on the same 2-core machine, shared with other work (load avg: the 1-minute load average at the end of each run; above 2 the two processes wait for CPU). cores = CPU seconds / wall seconds of each process; server µs/event is the figure least disturbed by that load.',
    `the mirror run stored ${stored} events in stream "maze" (durable LMDB appends via publishBatch).`,
  ],
});
