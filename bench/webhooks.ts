import { join } from 'node:path';
import { benchDir, startProcess, stopProcess } from './lib.js';

/** Local webhook endpoints in their own process (bench/peers/webhook-receiver.mjs). */
export interface Receivers {
  urls: string[];
  pid: number;
  /** Requests received per endpoint, and how many arrived out of seq order. */
  counts(): Promise<{ counts: number[]; outOfOrder: number[] }>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startReceivers(n: number): Promise<Receivers> {
  const { child, match } = await startProcess(process.execPath, [join(benchDir, 'peers', 'webhook-receiver.mjs'), String(n)], /listening ports=([\d,]+) control=(\d+)/);
  const urls = match[1]!.split(',').map((p) => `http://127.0.0.1:${p}/hook`);
  const control = `http://127.0.0.1:${match[2]}/`;
  return {
    urls,
    pid: child.pid!,
    counts: async () => (await (await fetch(control)).json()) as { counts: number[]; outOfOrder: number[] },
    reset: async () => void (await fetch(control, { method: 'POST' })),
    stop: () => stopProcess(child),
  };
}

/** Creates a subscription on a running Herald; returns its id. */
export async function subscribe(heraldUrl: string, body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${heraldUrl}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 201) throw new Error(`subscribe failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { subscription: { id: string } }).subscription.id;
}

/** Publishes `count` ~200-byte JSON events to `stream` in NDJSON batches of 1,000. */
export async function publishMany(heraldUrl: string, stream: string, count: number, from = 0): Promise<void> {
  for (let start = from; start < from + count; start += 1000) {
    const n = Math.min(1000, from + count - start);
    const body = Array.from({ length: n }, (_, i) => JSON.stringify({ type: 'order.created', order: `A-${start + i}`, total: 129.5, currency: 'EUR', note: 'x'.repeat(120) })).join('\n') + '\n';
    const res = await fetch(`${heraldUrl}/streams/${stream}/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
    if (res.status !== 201) throw new Error(`publish failed: ${res.status} ${await res.text()}`);
  }
}

/** Polls until `done()` holds; resolves with the seconds it took. */
export async function timeUntil(done: () => Promise<boolean>, timeoutMs = 600_000, pollMs = 50): Promise<number> {
  const started = performance.now();
  while (!(await done())) {
    if (performance.now() - started > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return (performance.now() - started) / 1000;
}

