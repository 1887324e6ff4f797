import { Hub } from '../src/core/hub.js';
import { LmdbStore } from '../src/store/lmdb.js';
import { Operations } from '../src/protocols/eventbus/operations.js';
import { StatusBook } from '../src/protocols/eventbus/statuses.js';
import { configSchema } from '../src/config/schema.js';
import { pino } from 'pino';
import { mkdtempSync } from 'node:fs';
const hub = new Hub({ store: new LmdbStore({ path: mkdtempSync('/tmp/m-') }), retentionIntervalMs: 0 });
await hub.start();
const config = configSchema.parse({});
const ops = new Operations(hub, config.eventbus, {}, new StatusBook(hub.store), pino({ level: 'silent' }));
await ops.createStream('c');
const event = Buffer.from(JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) }));
for (let i = 0; i < 10; i++) await ops.writeEvents(Array.from({ length: 10000 }, () => ({ streamName: 'c', event })));
for (let k = 0; k < 5; k++) {
  let t = performance.now();
  const r = await ops.processEvents('c');
  const tp = performance.now() - t;
  const ids = [...r.reply.matchAll(/\{"id":"([^"]+)","stream_id"/g)].map((m) => m[1]!);
  t = performance.now();
  await Promise.all(ids.map((id) => ops.markEvent(id, 1)));
  console.log('process ms', tp.toFixed(1), 'bytes', r.reply.length, 'marks ms', (performance.now() - t).toFixed(1));
}
await hub.close();
