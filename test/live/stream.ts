import { request, type IncomingMessage } from 'node:http';

/** A streaming HTTP response read as text as it arrives (SSE tests on real sockets). */
export interface OpenStream {
  status: number;
  headers: IncomingMessage['headers'];
  /** Everything received so far. */
  text(): string;
  /** Resolves once the text received matches (or the predicate holds); rejects after `timeoutMs`. */
  waitFor(match: RegExp | ((text: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Resolves when the server ends or cuts the response. */
  ended: Promise<void>;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      let text = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        for (const w of [...waiters]) w();
      });
      res.on('error', () => {});
      const ended = new Promise<void>((done) => {
        res.on('close', () => {
          done();
          for (const w of [...waiters]) w();
        });
      });
      resolve({
        status: res.statusCode!,
        headers: res.headers,
        text: () => text,
        ended,
        close: () => req.destroy(),
        waitFor(match, timeoutMs = 10_000) {
          const test = typeof match === 'function' ? match : (t: string) => match.test(t);
          return new Promise((ok, fail) => {
            const check = (): void => {
              if (test(text)) {
                waiters.delete(check);
                clearTimeout(timer);
                ok(text);
              }
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out waiting for ${String(match)}; received:\n${text.slice(-2000)}`));
            }, timeoutMs);
            waiters.add(check);
            check();
          });
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Cuts the sockets of every live (SSE) response the server has open, from the server side. */
export function liveSocketCutter(server: import('node:http').Server): () => number {
  const sockets = new Set<import('node:net').Socket>();
  server.on('request', (req: IncomingMessage) => {
    if (!req.url?.includes('/sse')) return;
    sockets.add(req.socket);
    req.socket.once('close', () => sockets.delete(req.socket));
  });
  return () => {
    const n = sockets.size;
    for (const s of sockets) s.destroy();
    sockets.clear();
    return n;
  };
}
