import { Hub } from '../src/core/hub.js';
import { LmdbStore } from '../src/store/lmdb.js';
import { MemoryStore } from '../src/store/memory.js';
import { Operations } from '../src/protocols/eventbus/operations.js';
import { StatusBook } from '../src/protocols/eventbus/statuses.js';
import { Router } from '../src/protocols/eventbus/router.js';
import { ClientCredentials } from '../src/protocols/eventbus/auth.js';
import { EventBusMetrics } from '../src/protocols/eventbus/metrics.js';
import { configSchema } from '../src/config/schema.js';
import { pino } from 'pino';
import { mkdtempSync } from 'node:fs';
const store = process.env.MEM ? new MemoryStore({ maxEventsPerStream: 5_000_000 }) : new LmdbStore({ path: mkdtempSync('/tmp/m-') });
const hub = new Hub({ store, retentionIntervalMs: 0 });
await hub.start();
const config = configSchema.parse({ eventbus: { clients: [{ client_id: 'bench', client_secret: 'bench-secret' }] } });
const ops = new Operations(hub, config.eventbus, {}, new StatusBook(hub.store), pino({ level: 'silent' }));
const router = new Router(ops, ClientCredentials.fromConfig(config.eventbus.clients), EventBusMetrics.for(hub.metrics.registry));
await ops.createStream('bench');
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });
const line = `{"operation":"write_event","auth":{"client_id":"bench","client_secret":"bench-secret"},"body":{"stream_name":"bench","event":${event}}}\n`;
const chunk = Buffer.from(line.repeat(16));
const N = 20000; // windows of 16
for (let r = 0; r < 4; r++) {
  const memo = {};
  let t = performance.now();
  const all = [];
  for (let w = 0; w < N; w++) {
    const items = [];
    let s = 0;
    for (let k = 0; k < 16; k++) { const nl = chunk.indexOf(10, s); const job = router.route(chunk, s, nl, memo); items.push((job as any).item); s = nl + 1; }
    all.push(items);
  }
  const tr = performance.now() - t;
  t = performance.now();
  // 50 windows per turn, like 50 connections
  for (let w = 0; w < N; w += 50) { await Promise.all(all.slice(w, w + 50).map((items) => ops.writeEvents(items))); }
  const ts = performance.now() - t;
  console.log('route µs/ev', (tr * 1000 / (N * 16)).toFixed(2), 'store µs/ev (wall)', (ts * 1000 / (N * 16)).toFixed(2));
}
await hub.close();
