// The ceiling for the sse-fanout benchmark: a bare node:http SSE broadcaster. GET /sse holds a
// text/event-stream response open; POST /publish frames the body once and writes it to every
// open response (one res.write per connection per event), then answers 201. No storage, no
// replay, no backpressure policy: the least work an SSE broadcast can be on node:http.
//
// With argument `direct` it is the floor instead: each event is framed once, chunk framing
// included, and that one buffer is written straight to every socket (what Herald does), so a
// delivery costs one socket write and nothing else.
import { createServer } from 'node:http';

const direct = process.argv[2] === 'direct';

const clients = new Set();
let seq = 0;
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/sse')) {
    req.socket.setNoDelay(true);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.write('retry: 3000\n\n');
    clients.add(res);
    res.on('close', () => clients.delete(res));
    return;
  }
  if (req.method === 'POST') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const frame = Buffer.from(`id: ${++seq}\nevent: message\ndata: ${Buffer.concat(chunks).toString('utf8')}\n\n`);
      if (direct) {
        const chunk = Buffer.concat([Buffer.from(`${frame.length.toString(16)}\r\n`), frame, Buffer.from('\r\n')]);
        for (const client of clients) client.socket?.write(chunk);
      } else for (const client of clients) client.write(frame);
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(`{"seq":${seq}}`);
    });
    return;
  }
  res.writeHead(404).end();
});
server.maxConnections = 30000;
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => {
  for (const c of clients) c.destroy();
  server.close(() => process.exit(0));
});
