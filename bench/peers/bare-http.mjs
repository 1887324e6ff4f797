// The ceiling for ingest benchmarks: a bare node:http server that reads each request body and
// answers 201 with a small JSON body, storing nothing. Plain JS, so nothing but node:http runs.
import { createServer } from 'node:http';

let seq = 0;
const server = createServer((req, res) => {
  let bytes = 0;
  req.on('data', (chunk) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    const body = `{"id":"00000000-0000-7000-8000-000000000000","stream":"bench","seq":${++seq},"bytes":${bytes}}`;
    res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`listening http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
