/**
 * dashboard-tail: the dashboard's stream page open in chromium while 1,000 events/s are
 * published to that stream for 60 s (BENCH_SECONDS). Every 5 s the page's main-thread busy time
 * (CDP Performance.getMetrics TaskDuration) and JS heap (JSHeapUsedSize) are sampled. The same
 * page on an idle stream, measured first in the same run, is the baseline. Goal: both stay flat
 * (the last third of the run within 1.25x of the first third) and the page keeps up (it
 * received every event).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { configSchema } from '../src/config/schema.js';
import { startServer } from '../src/server.js';
// @ts-expect-error: a plain ESM build script without types.
import { buildWeb } from '../web/build.mjs';
import { report, round } from './lib.js';

const RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const SAMPLE_MS = 5000;
const IDLE_MS = 10_000;

await (buildWeb as (o: { quiet: boolean }) => Promise<unknown>)({ quiet: true });
const dataDir = mkdtempSync(join(tmpdir(), 'herald-bench-ui-'));
const profile = mkdtempSync(join(tmpdir(), 'herald-bench-chromium-'));
const server = await startServer(configSchema.parse({ store: { type: 'lmdb', path: dataDir }, http: { port: 0 }, eventbus: { enabled: false }, followermaze: { enabled: false }, webhooks: { enabled: false } }));
const url = server.listener('http')!.url!;
const { hub } = server;
const payload = new TextEncoder().encode(JSON.stringify({ kind: 'bench', order: { id: 42, items: ['a', 'b'], note: 'x'.repeat(120) } }));
await hub.publish({ stream: 'tail', type: 'bench', contentType: 'application/json', data: payload });

const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  viewport: { width: 1280, height: 860 },
});
const page = await context.newPage();
const cdp = await page.context().newCDPSession(page);
await cdp.send('Performance.enable');
await page.goto(`${url}/ui/#/stream/tail`);
await page.getByTestId('tail-state').filter({ hasText: 'live' }).waitFor();

async function metrics(): Promise<{ busy: number; script: number; heap: number; at: number }> {
  const { metrics: list } = (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> };
  const get = (n: string): number => list.find((m) => m.name === n)?.value ?? 0;
  return { busy: get('TaskDuration'), script: get('ScriptDuration'), heap: get('JSHeapUsedSize'), at: performance.now() };
}
const received = async (): Promise<number> => Number(((await page.getByTestId('tail-received').textContent()) ?? '0').split(' ')[0]);

// Baseline: the same page, connected, no events.
const idle0 = await metrics();
await new Promise((r) => setTimeout(r, IDLE_MS));
const idle1 = await metrics();
const idleBusy = (idle1.busy - idle0.busy) / ((idle1.at - idle0.at) / 1000);

const before = await received();
const samples: Array<{ t: number; busyPct: number; scriptPct: number; heapMB: number }> = [];
let prev = await metrics();
const start = performance.now();
let sent = 0;
const total = RATE * SECONDS;
const publisher = new Promise<void>((done) => {
  const tick = (): void => {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * RATE));
    const batch = [];
    while (sent < due) {
      batch.push({ stream: 'tail', type: 'bench.event', contentType: 'application/json', data: payload });
      sent++;
    }
    if (batch.length > 0) void hub.publishBatch(batch);
    if (sent < total) setTimeout(tick, 10);
    else done();
  };
  tick();
});
const sampler = (async () => {
  while (performance.now() - start < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, SAMPLE_MS));
    const m = await metrics();
    const seconds = (m.at - prev.at) / 1000;
    samples.push({ t: round((m.at - start) / 1000), busyPct: round(((m.busy - prev.busy) / seconds) * 100, 1), scriptPct: round(((m.script - prev.script) / seconds) * 100, 1), heapMB: round(m.heap / 1e6, 1) });
    prev = m;
  }
})();
await publisher;
await sampler;
// Let the last events arrive.
const deadline = Date.now() + 10_000;
while ((await received()) - before < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
const got = (await received()) - before;

await context.close();
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
rmSync(profile, { recursive: true, force: true });

const third = Math.max(1, Math.floor(samples.length / 3));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const busyFirst = mean(samples.slice(0, third).map((s) => s.busyPct));
const busyLast = mean(samples.slice(-third).map((s) => s.busyPct));
const heapFirst = mean(samples.slice(0, third).map((s) => s.heapMB));
const heapLast = mean(samples.slice(-third).map((s) => s.heapMB));
const busyRatio = busyLast / Math.max(0.1, busyFirst);
const heapRatio = heapLast / Math.max(0.1, heapFirst);
const met = busyRatio <= 1.25 && heapRatio <= 1.25 && got >= total;

report({
  name: 'dashboard-tail',
  title: `dashboard stream page, ${RATE} events/s for ${SECONDS} s (chromium, CDP Performance.getMetrics)`,
  goal: 'main-thread busy time and JS heap flat (last third ≤ 1.25x first third); every event received',
  met,
  rows: [
    { case: 'idle page (baseline)', busyPct: round(idleBusy * 100, 1), heapMB: round(idle1.heap / 1e6, 1) },
    ...samples.map((s) => ({ case: `t=${s.t}s`, busyPct: s.busyPct, scriptPct: s.scriptPct, heapMB: s.heapMB })),
    { case: 'last third / first third', busyPct: round(busyRatio, 2), heapMB: round(heapRatio, 2) },
    { case: 'events received / published', busyPct: got, heapMB: total },
  ],
  notes: [
    'busyPct: main-thread task time per wall-clock second (100% = one core fully busy); the idle row is the same page connected to a quiet stream.',
    `The page keeps at most 5,000 events and renders only the rows in view; arrivals are drawn at most every 100 ms. Herald (LMDB) and the publisher run in the benchmark process; 2 shared cores.`,
  ],
});
