import { Hub } from '../src/core/hub.js';
import { LmdbStore } from '../src/store/lmdb.js';
import { renderEvent } from '../src/protocols/eventbus/render.js';
import { mkdtempSync } from 'node:fs';
const hub = new Hub({ store: new LmdbStore({ path: mkdtempSync('/tmp/m-') }), retentionIntervalMs: 0 });
await hub.start();
const event = Buffer.from(JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) }));
await hub.publishBatch(Array.from({ length: 10000 }, () => ({ stream: 'c', contentType: 'application/json', data: event })));
for (let k = 0; k < 5; k++) {
  let t = performance.now();
  const all = [];
  for (let after = 0; after < 10000; after += 1000) all.push(...(await hub.read('c', { after, limit: 1000 })));
  const tr = performance.now() - t;
  t = performance.now();
  const parts = all.map((e) => renderEvent(e, 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 0));
  const trender = performance.now() - t;
  t = performance.now();
  const s = `{"events":[${parts.join(',')}]}`;
  const tj = performance.now() - t;
  t = performance.now();
  const b = Buffer.from(s);
  console.log('read', tr.toFixed(1), 'render', trender.toFixed(1), 'join', tj.toFixed(1), 'encode', (performance.now() - t).toFixed(1), b.length);
}
await hub.close();
