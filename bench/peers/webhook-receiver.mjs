// Webhook endpoints for the webhook benchmarks: N node:http servers (argv[2], default 1) that
// read each request and answer 200 with keep-alive, counting what they receive, plus a control
// server answering GET with the counts as JSON. Plain JS, so nothing but node:http runs.
// Each endpoint also checks that `herald-seq` headers arrive in increasing order (strict order).
import { createServer } from 'node:http';

const n = Number(process.argv[2] ?? 1);
const counts = Array(n).fill(0);
const outOfOrder = Array(n).fill(0);
const lastSeq = Array(n).fill(0);
const ports = [];

for (let i = 0; i < n; i++) {
  const server = createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      counts[i]++;
      const seq = Number(req.headers['herald-seq']);
      if (seq) {
        if (seq <= lastSeq[i]) outOfOrder[i]++;
        lastSeq[i] = seq;
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
      res.end('ok');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  ports.push(server.address().port);
}
const control = createServer((req, res) => {
  if (req.method === 'POST') {
    counts.fill(0);
    outOfOrder.fill(0);
    lastSeq.fill(0);
  }
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ counts, outOfOrder }));
});
await new Promise((resolve) => control.listen(0, '127.0.0.1', resolve));
console.log(`listening ports=${ports.join(',')} control=${control.address().port}`);
process.on('SIGTERM', () => process.exit(0));
