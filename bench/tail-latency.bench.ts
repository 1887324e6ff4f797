/**
 * tail-latency: from an append resolving to a live-tail reader receiving that event, at a fixed
 * publish rate of 10,000 events/s, on the durable LMDB store. Goal: p99 < 5 ms.
 */
import { Hub } from '../src/core/hub.js';
import { LmdbStore } from '../src/store/lmdb.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, report, round } from './lib.js';

const RATE = 10_000;
const SECONDS = 10;
const TICK_MS = 5; // publish RATE/200 events every 5 ms
const dir = mkdtempSync(join(tmpdir(), 'herald-bench-tail-'));
const hub = new Hub({ store: new LmdbStore({ path: dir }), retentionIntervalMs: 0 });
await hub.start();
const payload = new TextEncoder().encode(JSON.stringify({ kind: 'bench', pad: 'x'.repeat(160) }));

const called = new Map<number, number>();
const resolved = new Map<number, number>();
const received = new Map<number, number>();
const total = RATE * SECONDS;
const ac = new AbortController();

const reader = (async () => {
  for await (const e of hub.tail('lat', { signal: ac.signal })) {
    received.set(e.seq, performance.now());
    if (received.size === total) ac.abort();
  }
})();

let sent = 0;
const start = performance.now();
await new Promise<void>((done) => {
  const perTick = (RATE * TICK_MS) / 1000;
  const tick = (): void => {
    // Catch up to the schedule, so timer jitter does not lower the rate.
    const due = Math.min(total, Math.floor(((performance.now() - start) / TICK_MS + 1) * perTick));
    while (sent < due) {
      const t = performance.now();
      sent++;
      void hub.publish({ stream: 'lat', data: payload, contentType: 'application/json' }).then((r) => {
        called.set(r.seq, t);
        resolved.set(r.seq, performance.now());
      });
    }
    if (sent < total) setTimeout(tick, TICK_MS);
    else done();
  };
  tick();
});
await reader;
const elapsed = (performance.now() - start) / 1000;
await hub.close();
rmSync(dir, { recursive: true, force: true });

const fromResolve: number[] = [];
const fromCall: number[] = [];
for (const [seq, t] of received) {
  fromResolve.push(Math.max(0, t - resolved.get(seq)!));
  fromCall.push(t - called.get(seq)!);
}
fromResolve.sort((a, b) => a - b);
fromCall.sort((a, b) => a - b);
const p99 = percentile(fromResolve, 99);
report({
  name: 'tail-latency',
  title: `live-tail latency at ${RATE} events/s for ${SECONDS} s (LMDB, durable)`,
  goal: 'p99 < 5 ms from append resolved to the tail receiving it',
  met: p99 < 5,
  rows: [
    { case: 'append resolved → tail receives', p50_ms: round(percentile(fromResolve, 50), 3), p99_ms: round(p99, 3), max_ms: round(fromResolve.at(-1)!, 3) },
    { case: 'publish called → tail receives (incl. durable commit)', p50_ms: round(percentile(fromCall, 50), 3), p99_ms: round(percentile(fromCall, 99), 3), max_ms: round(fromCall.at(-1)!, 3) },
  ],
  notes: [`${received.size} events in ${round(elapsed, 2)} s (${round(received.size / elapsed)} events/s achieved). The reader is woken by the commit that makes an event durable, so it often receives an event before the publisher's promise callback runs (counted as 0).`],
});
