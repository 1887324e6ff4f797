// The load generator of the sse-fanout benchmark, in its own process: holds N SSE connections
// on raw TCP sockets and, for every event received, takes the publish time the payload carries
// ("t", performance.timeOrigin + performance.now() in ms) to measure publish-to-receive latency.
// Driven over IPC: {cmd:'connect', url, n} → {connected}; {cmd:'reset'}; {cmd:'stats'} → figures.
import { connect } from 'node:net';

const sockets = [];
let deliveries = 0;
let latencies = new Float64Array(4_000_000);
let samples = 0;
let lastAt = 0;
const now = () => performance.timeOrigin + performance.now();

function open(url, path, localAddress) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const s = connect({ host: u.hostname, port: Number(u.port), localAddress });
    let head = true;
    let rest = '';
    s.setEncoding('latin1');
    s.on('connect', () => s.write(`GET ${path} HTTP/1.1\r\nhost: ${u.host}\r\naccept: text/event-stream\r\n\r\n`));
    s.on('error', reject);
    s.on('data', (chunk) => {
      if (head) {
        const end = chunk.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!chunk.startsWith('HTTP/1.1 200')) return reject(new Error(chunk.slice(0, 200)));
        head = false;
        chunk = chunk.slice(end + 4);
        resolve(s);
      }
      const t = now();
      const text = rest + chunk;
      let i = text.indexOf('"t":');
      let last = 0;
      while (i >= 0) {
        const stop = text.indexOf('}', i);
        if (stop < 0) break;
        const sent = Number(text.slice(i + 4, stop));
        deliveries++;
        lastAt = t;
        if (samples < latencies.length) latencies[samples++] = t - sent;
        last = stop;
        i = text.indexOf('"t":', stop);
      }
      rest = text.slice(last).slice(-200);
    });
  });
}

process.on('message', async (m) => {
  if (m.cmd === 'connect') {
    const batch = 200;
    try {
      for (let i = 0; i < m.n; i += batch) {
        const count = Math.min(batch, m.n - i);
        const opened = await Promise.all(Array.from({ length: count }, (_, j) => open(m.url, m.path, `127.0.0.${2 + ((i + j) % 8)}`)));
        sockets.push(...opened);
      }
      process.send({ connected: sockets.length });
    } catch (err) {
      process.send({ error: String(err) });
    }
  } else if (m.cmd === 'reset') {
    deliveries = 0;
    samples = 0;
    lastAt = 0;
    process.send({ ok: true });
  } else if (m.cmd === 'stats') {
    const sorted = latencies.slice(0, samples).sort();
    const pct = (p) => (samples === 0 ? NaN : sorted[Math.min(samples - 1, Math.floor((p / 100) * samples))]);
    process.send({ deliveries, lastAt, samples, p50: pct(50), p99: pct(99), max: samples ? sorted[samples - 1] : NaN });
  } else if (m.cmd === 'close') {
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    process.send({ ok: true });
  }
});
