import { spawn } from 'node:child_process';
import fs from 'node:fs';
const flags = (process.env.NFLAGS ?? '').split(' ').filter(Boolean);
fs.rmSync('/tmp/hw', { recursive: true, force: true });
const rec = spawn(process.execPath, ['bench/peers/webhook-receiver.mjs', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
const m = await new Promise((r) => rec.stdout.on('data', (d) => { const x = String(d).match(/listening ports=([\d,]+) control=(\d+)/); if (x) r(x); }));
const urls = m[1].split(',').map((p) => `http://127.0.0.1:${p}/hook`); const control = `http://127.0.0.1:${m[2]}/`;
const child = spawn(process.execPath, [...flags, 'dist/cli/main.js', 'serve', '--port', '8714', '--data', '/tmp/hw'], { stdio: ['ignore', 'ignore', 'inherit'] });
await new Promise((r) => setTimeout(r, 1500));
const H = 'http://127.0.0.1:8714';
const EVENTS = Number(process.env.EVENTS ?? 50000);
for (let start = 0; start < EVENTS; start += 1000) {
  const body = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ type: 'order.created', order: `A-${start + i}`, total: 129.5, currency: 'EUR', note: 'x'.repeat(120) })).join('\n') + '\n';
  await fetch(`${H}/streams/wh/events`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body });
}
const t = performance.now();
for (const url of urls) await fetch(`${H}/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream: 'wh', url, start: 'earliest' }) });
for (;;) { const c = await (await fetch(control)).json(); if (c.counts.every((x) => x >= EVENTS)) break; await new Promise((r) => setTimeout(r, 100)); }
console.log('deliveries/s', (EVENTS * 10 / ((performance.now() - t) / 1000)).toFixed(0));
child.kill('SIGINT'); rec.kill(); await new Promise((r) => child.on('exit', r));
