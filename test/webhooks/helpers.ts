import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server as NodeServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configSchema, type HeraldConfigInput } from '../../src/config/schema.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { captureLogger, send, type Reply } from '../http/helpers.js';

/** One request a receiver got. */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/** What the receiver answers: a status (default 200), or a custom handler. */
export type Behaviour = (req: Received, res: ServerResponse, index: number) => void | Promise<void>;

/** A local webhook endpoint recording what it receives; its behaviour can change mid-test. */
export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  /** TCP connections accepted so far. */
  connections(): number;
  behave(b: Behaviour): void;
  /** Resolves once `n` requests have arrived (all of them, failures included). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const answer = (status: number, body = '', headers: Record<string, string> = {}): Behaviour => (_req, res) => {
  res.writeHead(status, headers).end(body);
};

export async function startReceiver(behaviour: Behaviour = answer(200), port = 0): Promise<Receiver> {
  const received: Received[] = [];
  let current = behaviour;
  let waiters: Array<{ n: number; resolve: () => void }> = [];
  const server: NodeServer = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks), at: Date.now() };
      received.push(r);
      const index = received.length - 1;
      void Promise.resolve(current(r, res, index)).catch(() => res.destroy());
      waiters = waiters.filter((w) => (received.length >= w.n ? (w.resolve(), false) : true));
    });
  });
  server.keepAliveTimeout = 60_000;
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/hook`,
    port: actual,
    received,
    connections: () => connections,
    behave: (b) => (current = b),
    waitFor(n, timeoutMs = 10_000) {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${received.length} of ${n} requests within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TestHerald {
  server: RunningServer;
  url: string;
  lines: Array<Record<string, unknown>>;
  request(path: string, init?: RequestInit): Promise<Reply>;
  json(method: string, path: string, body?: unknown): Promise<Reply>;
  publish(stream: string, data: unknown, headers?: Record<string, string>): Promise<Reply>;
  close(): Promise<void>;
}

/** A whole Herald (store, hub, webhooks, HTTP on port 0) from a config. */
export async function startHub(input: HeraldConfigInput = {}, options: { lmdbPath?: string } = {}): Promise<TestHerald> {
  let store: HeraldConfigInput['store'] = input.store ?? { type: 'memory' };
  if (options.lmdbPath !== undefined) store = { type: 'lmdb', path: options.lmdbPath };
  else if (input.store === undefined) store = { type: 'memory' };
  const config = configSchema.parse({
    ...input,
    store,
    http: { port: 0, ...input.http },
    eventbus: { enabled: false },
    followermaze: { enabled: false },
    retention: { intervalMs: 0, ...input.retention },
  });
  const { logger, lines } = captureLogger();
  const server = await startServer(config, logger);
  const url = server.listener('http')!.url!;
  const request = (path: string, init?: RequestInit): Promise<Reply> => send(url + path, init);
  return {
    server,
    url,
    lines,
    request,
    json: (method, path, body) => request(path, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) }),
    publish: (stream, data, headers = {}) => request(`/streams/${stream}/events`, { method: 'POST', body: JSON.stringify(data), headers: { 'content-type': 'application/json', ...headers } }),
    async close() {
      await server.stop();
    },
  };
}

/** Polls `check` until it returns true (or throws after the timeout). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
