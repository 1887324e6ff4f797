import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../observability/logger.js';

/** Request bodies the demo receiver logs at most (it is a demo, not a sink for anything). */
const MAX_LOGGED_BODY = 64 * 1024;

/**
 * go-sep's demo receiver (compat.md §1): every path and method answers 200 `Thanks!` and logs
 * `got event` with the body (`content`), the `X-Wsq-Id` header (`id`, empty when absent) and the
 * request's Content-Length (`len`, -1 when unknown). Resolves with the bound port once listening.
 */
export async function startDemoReceiver(port: number, host: string, log: Logger): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_LOGGED_BODY) chunks.push(chunk);
    });
    req.on('end', () => {
      const length = req.headers['content-length'];
      log.info({ content: Buffer.concat(chunks).toString('utf8'), id: req.headers['x-wsq-id'] ?? '', len: length === undefined ? -1 : Number(length) }, 'got event');
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('Thanks!');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
