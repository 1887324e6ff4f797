import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { AUTH, CLIENT } from '../bench/eventbus/herald.js';
import { pipeline } from '../bench/eventbus/pipeline.js';
import { LineConnection } from '../bench/eventbus/lines.js';
const data = mkdtempSync('/tmp/hp-');
const child = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir', '/tmp/ebprof'] : []), 'dist/cli/main.js', 'serve', '--port', '0', '--data', data], { env: { ...process.env, HERALD_EVENTBUS_PORT: '0', HERALD_EVENTBUS_CLIENTS: JSON.stringify([CLIENT]), HERALD_FOLLOWERMAZE_ENABLED: 'false' }, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
const port = await new Promise<number>((r) => child.stdout!.on('data', (d) => { out += d; const m = out.match(/"listener":"eventbus","url":"tcp:\/\/[\d.]+:(\d+)"/); if (m) r(Number(m[1])); }));
const event = JSON.stringify({ type: 'order.created', order: 'A-1042', customer: 'c-77', total: 129.5, currency: 'EUR', items: [{ sku: 'SKU-1', qty: 2 }, { sku: 'SKU-9', qty: 1 }], note: 'x'.repeat(46) });
await pipeline(port, `{"operation":"create_stream",${AUTH},"body":{"stream_name":"c"}}`, '', 1, 1, 1);
await pipeline(port, `{"operation":"write_event",${AUTH},"body":{"stream_name":"c","event":${event}}}`, '', 100000, 50, 16);
const conn = await LineConnection.open(port);
let t = performance.now(); let tp = 0, tm = 0;
for (;;) {
  const a = performance.now();
  const [reply] = await conn.ask([`{"operation":"process_events",${AUTH},"body":{"stream_name":"c"}}`]);
  const ids = [...reply!.toString('latin1').matchAll(/\{"id":"([^"]+)","stream_id"/g)].map((m) => m[1]!);
  const b = performance.now(); tp += b - a;
  if (!ids.length) break;
  await conn.ask(ids.map((id) => `{"operation":"mark_event",${AUTH},"body":{"event_id":"${id}","status":1}}`));
  tm += performance.now() - b;
}
console.log('total', performance.now() - t, 'process', tp, 'marks', tm);
conn.close();
child.kill('SIGTERM');
await new Promise((r) => child.on('exit', r));
