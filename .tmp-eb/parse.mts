import { parseRequest, parseWriteBody } from '../src/protocols/eventbus/request.js';
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });
const line = Buffer.from(`{"operation":"write_event","auth":{"client_id":"bench","client_secret":"bench-secret"},"body":{"stream_name":"bench","event":${event}}}`);
const N = 200000;
for (let r = 0; r < 6; r++) {
  const t = performance.now();
  let n = 0;
  for (let i = 0; i < N; i++) { const q = parseRequest(line, 0, line.length)!; const b = parseWriteBody(line, q)!; n += b.event!.length; }
  const tj = performance.now();
  for (let i = 0; i < N; i++) { const q = JSON.parse(line.toString()); n += q.body.stream_name.length; }
  console.log('ours µs/line', ((tj - t) * 1000 / N).toFixed(2), 'JSON.parse µs/line', ((performance.now() - tj) * 1000 / N).toFixed(2), n > 0);
}
