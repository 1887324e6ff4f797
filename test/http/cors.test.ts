import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type Server } from './helpers.js';

const APP = 'http://app.test:3000';

/** One request with node:http (fetch would not let a test set Origin); the SSE body is not awaited. */
function raw(server: Server, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(server.url + path, { method, headers }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        resolve({ status: res.statusCode!, headers: res.headers, body: '' });
        res.destroy();
        return;
      }
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const token = 'cors-test-token-0123456789';

describe.each([{ fastPath: true }, { fastPath: false }])('CORS (fastPath $fastPath)', ({ fastPath }) => {
  let s: Server;
  afterEach(async () => s.close());

  it('answers a preflight from an allowed origin with 204, before any token check', async () => {
    s = await startServer({ fastPath, config: { http: { cors: { origins: [APP], maxAgeSeconds: 120 } }, auth: { tokens: [{ token, scopes: ['admin'] }] } } });
    const r = await raw(s, 'OPTIONS', '/streams/orders/events', { origin: APP, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, authorization, idempotency-key' });
    expect(r.status).toBe(204);
    expect(r.headers['access-control-allow-origin']).toBe(APP);
    expect(r.headers['access-control-allow-methods']).toContain('POST');
    expect(r.headers['access-control-allow-headers']).toBe('content-type, authorization, idempotency-key');
    expect(r.headers['access-control-max-age']).toBe('120');
    expect(r.headers.vary).toContain('origin');
    // The request itself still needs its token, and carries the CORS headers either way.
    const refused = await raw(s, 'POST', '/streams/orders/events', { origin: APP, 'content-type': 'application/json' }, '{"a":1}');
    expect(refused.status).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(APP);
    const ok = await raw(s, 'POST', '/streams/orders/events', { origin: APP, 'content-type': 'application/json', authorization: `Bearer ${token}` }, '{"a":1}');
    expect(ok.status).toBe(201);
    expect(ok.headers['access-control-allow-origin']).toBe(APP);
    expect(ok.headers['access-control-expose-headers']).toContain('retry-after');
  });

  it('adds the headers to reads, batches and SSE streams from an allowed origin, and to nothing else', async () => {
    s = await startServer({ fastPath, config: { http: { cors: { origins: [APP] } } } });
    const published = await raw(s, 'POST', '/streams/orders/events', { origin: APP, 'content-type': 'application/x-ndjson' }, '{"a":1}\n{"a":2}\n');
    expect(published.status).toBe(201);
    expect(published.headers['access-control-allow-origin']).toBe(APP);
    const read = await raw(s, 'GET', '/streams/orders/events?after=0', { origin: APP });
    expect(read.status).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBe(APP);
    const sse = await raw(s, 'GET', '/streams/orders/sse', { origin: APP, accept: 'text/event-stream' });
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toContain('text/event-stream');
    expect(sse.headers['access-control-allow-origin']).toBe(APP);
    expect(sse.headers['access-control-expose-headers']).toContain('herald-events-missed');

    const other = await raw(s, 'GET', '/streams/orders/events?after=0', { origin: 'http://evil.test' });
    expect(other.status).toBe(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const otherPreflight = await raw(s, 'OPTIONS', '/streams/orders/events', { origin: 'http://evil.test', 'access-control-request-method': 'POST' });
    expect(otherPreflight.headers['access-control-allow-origin']).toBeUndefined();
    const noOrigin = await raw(s, 'POST', '/streams/orders/events', { 'content-type': 'application/json' }, '1');
    expect(noOrigin.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('"*" allows any origin; with no origins configured CORS is off', async () => {
    s = await startServer({ fastPath, config: { http: { cors: { origins: ['*'] } } } });
    const any = await raw(s, 'POST', '/streams/x/events', { origin: 'https://anywhere.example', 'content-type': 'application/json' }, '1');
    expect(any.headers['access-control-allow-origin']).toBe('https://anywhere.example');
    await s.close();
    s = await startServer({ fastPath });
    const off = await raw(s, 'OPTIONS', '/streams/x/events', { origin: APP, 'access-control-request-method': 'POST' });
    expect(off.status).toBe(404);
    expect(off.headers['access-control-allow-origin']).toBeUndefined();
  });
});
