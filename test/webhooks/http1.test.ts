import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Http1Client, type Http1ClientOptions, type Http1Request } from '../../src/delivery/webhooks/http1/client.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

const OPTIONS: Http1ClientOptions = { connectionsPerOrigin: 4, idleTimeoutMs: 30_000, maxHeaderBytes: 16 * 1024, maxBodyBytes: 64 * 1024, keepBodyBytes: 512 };

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function client(options: Partial<Http1ClientOptions> = {}): Http1Client {
  const c = new Http1Client({ ...OPTIONS, ...options });
  closers.push(() => c.close());
  return c;
}

const post = (url: string, body = '{"a":1}', extra: Partial<Http1Request> = {}): Http1Request => ({
  url,
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(body),
  timeoutMs: 2000,
  ...extra,
});

/** A node:http server counting the connections it accepts. */
async function httpServer(handler: Parameters<typeof createHttpServer>[1]): Promise<{ url: string; connections: () => number; server: Server }> {
  const server = createHttpServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => server.close(() => r()).closeAllConnections()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook?x=1`, connections: () => connections, server };
}

/** A raw TCP server: `onData` sees each socket's bytes and answers by hand. */
async function rawServer(onData: (socket: Socket, data: string, index: number) => void): Promise<{ url: string; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (d) => onData(socket, d.toString('latin1'), requests++));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, connections: () => connections, requests: () => requests };
}

describe('the webhook HTTP/1.1 client', () => {
  it('sends method, path, host, headers and body, and reuses one keep-alive connection', async () => {
    const seen: Array<{ method: string; url: string; host: string; type: string; body: string }> = [];
    const srv = await httpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, host: req.headers.host!, type: req.headers['content-type']!, body });
        res.writeHead(201, { 'content-type': 'text/plain' }).end('created');
      });
    });
    const c = client();
    for (let i = 0; i < 5; i++) {
      const res = await c.request(post(srv.url, `{"i":${i}}`));
      expect(res.status).toBe(201);
      expect(res.body.toString()).toBe('created');
    }
    expect(srv.connections()).toBe(1);
    expect(seen.map((s) => s.body)).toEqual([0, 1, 2, 3, 4].map((i) => `{"i":${i}}`));
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/hook?x=1', host: new URL(srv.url).host, type: 'application/json' });
  });

  it('reads chunked and close-delimited bodies, and skips interim 1xx answers', async () => {
    const chunked = await httpServer((req, res) => {
      req.resume();
      res.writeHead(200);
      res.write('hel');
      res.end('lo');
    });
    expect((await client().request(post(chunked.url))).body.toString()).toBe('hello');

    const raw = await rawServer((socket) => socket.end('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 503 Busy\r\nRetry-After: 7\r\n\r\nuntil close'));
    const res = await client().request(post(raw.url));
    expect(res).toMatchObject({ status: 503, reusable: false, complete: true });
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body.toString()).toBe('until close');
  });

  it('reads at most maxBodyBytes of an answer, keeps the start, and drops the connection', async () => {
    const srv = await httpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': 10_000_000 });
      res.end(Buffer.alloc(10_000_000, 120));
    });
    const c = client({ maxBodyBytes: 100_000 });
    const res = await c.request(post(srv.url));
    expect(res).toMatchObject({ status: 200, complete: false, reusable: false });
    expect(res.bodyBytes).toBeLessThan(1_000_000);
    expect(res.body.length).toBe(512);
    expect((await c.request(post(srv.url))).status).toBe(200);
    expect(srv.connections()).toBe(2);
  });

  it('fails a request past its deadline, and when aborted', async () => {
    const silent = await rawServer(() => {});
    const c = client();
    const started = performance.now();
    await expect(c.request(post(silent.url, '{}', { timeoutMs: 150 }))).rejects.toThrow('timed out after 150 ms');
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(c.request(post(silent.url), controller.signal)).rejects.toThrow('aborted');
  });

  it('sends again on a new connection when a reused one closes before any answer, but never on a fresh one', async () => {
    // First request on each connection answered; a second one on the same connection is dropped unanswered.
    const perSocket = new WeakMap<Socket, number>();
    const flaky = await rawServer((socket) => {
      const n = (perSocket.get(socket) ?? 0) + 1;
      perSocket.set(socket, n);
      if (n === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok');
      else socket.destroy();
    });
    const c = client();
    expect((await c.request(post(flaky.url))).status).toBe(200);
    expect((await c.request(post(flaky.url))).status).toBe(200);
    expect(flaky.connections()).toBe(2);
    expect(flaky.requests()).toBe(3);

    const dropper = await rawServer((socket) => socket.destroy());
    await expect(c.request(post(dropper.url))).rejects.toThrow(/closed|reset/i);
    expect(dropper.requests()).toBe(1);
  });

  it("closes an idle connection before the server's Keep-Alive timeout", async () => {
    const srv = await httpServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'keep-alive': 'timeout=1' }).end();
    });
    const c = client();
    await c.request(post(srv.url));
    await new Promise((r) => setTimeout(r, 50));
    await c.request(post(srv.url));
    expect(srv.connections()).toBe(2);
  });

  it('opens at most connectionsPerOrigin connections; the others wait their turn', async () => {
    let active = 0;
    let peak = 0;
    const srv = await httpServer((req, res) => {
      req.resume();
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => {
        active--;
        res.end('ok');
      }, 30);
    });
    const c = client({ connectionsPerOrigin: 2 });
    const answers = await Promise.all(Array.from({ length: 7 }, () => c.request(post(srv.url))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(peak).toBe(2);
    expect(srv.connections()).toBe(2);
  });

  it('speaks https, checking the certificate', async () => {
    const server = createHttpsServer({ key: fixture('tls-key.pem'), cert: fixture('tls-cert.pem') }, (req, res) => {
      req.resume();
      res.end(`secure ${req.method}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => server.close(() => r()).closeAllConnections()));
    const url = `https://localhost:${(server.address() as AddressInfo).port}/`;
    const trusting = client({ tls: { ca: fixture('tls-cert.pem') } });
    expect((await trusting.request(post(url))).body.toString()).toBe('secure POST');
    await expect(client().request(post(url))).rejects.toThrow(/certificate/i);
  });

  it('refuses headers that would break the framing, and reports a broken answer', async () => {
    const srv = await rawServer((socket) => socket.write('HTTP/1.1 200 OK\r\nbad header\r\n\r\n'));
    const c = client();
    await expect(c.request(post(srv.url, '{}', { headers: { 'x-evil': 'a\r\nx-injected: 1' } }))).rejects.toThrow('invalid value for header x-evil');
    await expect(c.request(post(srv.url, '{}', { headers: { 'bad name': 'v' } }))).rejects.toThrow('invalid header name');
    expect(srv.requests()).toBe(0);
    await expect(c.request(post(srv.url))).rejects.toThrow('malformed header line');
  });

  it('sends basic credentials from the URL and reports a refused connection', async () => {
    let auth: string | undefined;
    const srv = await httpServer((req, res) => {
      auth = req.headers.authorization;
      req.resume();
      res.end();
    });
    const url = srv.url.replace('http://', 'http://us%40er:p%3Ass@');
    await client().request(post(url));
    expect(Buffer.from(auth!.replace('Basic ', ''), 'base64').toString()).toBe('us@er:p:ss');
    const closed = await rawServer(() => {});
    const port = new URL(closed.url).port;
    await closers.pop()!();
    await expect(client().request(post(`http://127.0.0.1:${port}/`))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

/** The request bodies (`{"i":N}`) in what a raw server received so far. */
const bodiesIn = (text: string): string[] => [...text.matchAll(/\r\n\r\n(\{"i":\d+\})/g)].map((m) => m[1]!);
const ok = (body: string, extra = ''): string => `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n${extra}\r\n${body}`;

describe('HTTP/1.1 pipelining in the webhook client', () => {
  it('sends up to `pipelining` requests on one connection before the first answer, and matches the answers in order', async () => {
    const texts = new Map<Socket, string>();
    const srv = await rawServer((socket, data) => {
      const text = (texts.get(socket) ?? '') + data;
      texts.set(socket, text);
      const bodies = bodiesIn(text);
      // Nothing is answered before all eight are there: without pipelining this would hang.
      if (bodies.length === 8) socket.write(bodies.map((b) => ok(`echo ${b}`)).join(''));
    });
    const c = client();
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => c.request(post(srv.url, `{"i":${i}}`, { pipelining: 8 }))));
    expect(answers.map((a) => a.body.toString())).toEqual(Array.from({ length: 8 }, (_, i) => `echo {"i":${i}}`));
    expect(srv.connections()).toBe(1);
  });

  it('sends the requests behind an answer that closes the connection again, on a new one', async () => {
    let first = true;
    const texts = new Map<Socket, string>();
    const srv = await rawServer((socket, data) => {
      const text = (texts.get(socket) ?? '') + data;
      texts.set(socket, text);
      const bodies = bodiesIn(text);
      if (first && bodies.length === 3) {
        first = false;
        socket.end(ok('bye', 'connection: close\r\n')); // answers the first only
      } else if (!first) socket.write(bodiesIn(data).map((b) => ok(b)).join(''));
    });
    const c = client();
    const answers = await Promise.all([0, 1, 2].map((i) => c.request(post(srv.url, `{"i":${i}}`, { pipelining: 4 }))));
    expect(answers.map((a) => a.body.toString())).toEqual(['bye', '{"i":1}', '{"i":2}']);
    expect(srv.connections()).toBe(2);
  });

  it('fails a pipelined request past its deadline and sends the ones behind it again', async () => {
    let first = true;
    const srv = await rawServer((socket, data) => {
      if (first) {
        if (bodiesIn(data).length > 0) first = false; // the first connection never answers
        return;
      }
      socket.write(bodiesIn(data).map((b) => ok(b)).join(''));
    });
    const c = client();
    const slow = c.request(post(srv.url, '{"i":0}', { pipelining: 4, timeoutMs: 100 }));
    const behind = [1, 2].map((i) => c.request(post(srv.url, `{"i":${i}}`, { pipelining: 4 })));
    await expect(slow).rejects.toThrow('timed out after 100 ms');
    expect((await Promise.all(behind)).map((a) => a.body.toString())).toEqual(['{"i":1}', '{"i":2}']);
    expect(srv.connections()).toBe(2);
  });

  it('never queues a request without pipelining behind others', async () => {
    const held: Array<() => void> = [];
    const srv = await httpServer((req, res) => {
      req.resume();
      held.push(() => res.end('ok'));
    });
    const c = client();
    const pipelined = [0, 1, 2].map((i) => c.request(post(srv.url, `{"i":${i}}`, { pipelining: 4 })));
    await new Promise((r) => setTimeout(r, 50));
    const alone = c.request(post(srv.url, '{"i":9}'));
    await new Promise((r) => setTimeout(r, 50));
    expect(srv.connections()).toBe(2);
    while (held.length < 4) await new Promise((r) => setTimeout(r, 10));
    for (const answer of held) answer();
    await Promise.all([...pipelined, alone]);
  });
});

