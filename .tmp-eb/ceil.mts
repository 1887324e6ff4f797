import { mkdtempSync } from 'node:fs';
import { Hub } from '../src/core/hub.js';
import { LmdbStore } from '../src/store/lmdb.js';
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });
for (const overlapping of [false, true, false, true]) {
  const hub = new Hub({ store: new LmdbStore({ path: mkdtempSync('/tmp/c-'), overlappingSync: overlapping }), retentionIntervalMs: 0 });
  await hub.start(); await hub.createStream('bench');
  const data = Buffer.from(event); const window = Array.from({ length: 16 }, () => ({ stream: 'bench', contentType: 'application/json', data }));
  let issued = 0; const total = 300000;
  let commits = 0; const prev = hub.store.onCommit!; hub.store.onCommit = (e, s) => { commits++; prev(e, s); };
  const t = performance.now();
  await Promise.all(Array.from({ length: 50 }, async () => { while (issued < total) { issued += 16; await hub.publishBatch(window, { createStreams: false }); } }));
  const secs = (performance.now() - t) / 1000;
  console.log({ overlapping, perSec: Math.round(issued / secs), commits, msPerCommit: (secs * 1000 / commits).toFixed(2), cpu: process.cpuUsage() });
  await hub.close();
}
