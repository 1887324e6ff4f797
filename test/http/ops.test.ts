import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/core/errors.js';
import { toHttpError } from '../../src/protocols/http/errors.js';
import { HttpMetrics } from '../../src/protocols/http/metrics.js';
import { HeraldMetrics } from '../../src/observability/metrics.js';
import { post, startServer, type Server } from './helpers.js';

describe.each([{ fastPath: true }, { fastPath: false }])('health, readiness, metrics (fastPath $fastPath)', ({ fastPath }) => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ store: 'lmdb', fastPath });
  });
  afterAll(() => s.close());

  it('/health and /ready answer 200', async () => {
    const health = await s.request('/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    const ready = await s.request('/ready');
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: 'ready' });
  });

  it('/metrics is Prometheus text with request counts by route pattern and appended events', async () => {
    await post(s, '/streams/m1/events', '{"a":1}', { 'content-type': 'application/json' });
    await post(s, '/streams/m1/events', '{"a":', { 'content-type': 'application/json' });
    await s.request('/no/such/route/12345');
    const r = await s.request('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(s.hub.metrics.registry.contentType);
    expect(r.text).toContain('herald_events_appended_total{stream="m1"} 1');
    expect(r.text).toContain('herald_http_requests_total{route="/streams/:stream/events",method="POST",status="201"} 1');
    expect(r.text).toContain('herald_http_requests_total{route="/streams/:stream/events",method="POST",status="400"} 1');
    expect(r.text).toContain('herald_http_requests_total{route="unmatched",method="GET",status="404"} 1');
    expect(r.text).toContain('herald_http_request_duration_seconds_count{route="/streams/:stream/events"} 2');
    expect(r.text).not.toContain('12345');
  });
});

describe('HttpMetrics', () => {
  it('buffers samples and hands them to prom-client exactly, when full and on flush', async () => {
    const metrics = new HeraldMetrics({ processMetrics: false });
    const http = new HttpMetrics(metrics);
    const value = async (name: string, labels: Record<string, string>) => {
      const m = await metrics.registry.getSingleMetric(name)!.get();
      return m.values.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
    };
    for (let i = 0; i < 1500; i++) http.record('/r', 'GET', i % 3 === 0 ? 404 : 200, i % 2 === 0 ? 0.002 : 0.2);
    // The 1024th sample filled the buffer and flushed everything up to it.
    expect(await value('herald_http_requests_total', { status: '404' })).toBe(342);
    expect(await value('herald_http_requests_total', { status: '200' })).toBe(682);
    http.close();
    expect(await value('herald_http_requests_total', { route: '/r', method: 'GET', status: '404' })).toBe(500);
    expect(await value('herald_http_requests_total', { route: '/r', method: 'GET', status: '200' })).toBe(1000);
    const text = await metrics.registry.metrics();
    expect(text).toContain('herald_http_request_duration_seconds_count{route="/r"} 1500');
    expect(text).toContain('herald_http_request_duration_seconds_bucket{le="0.0025",route="/r"} 750');
    expect(text).toContain('herald_http_request_duration_seconds_bucket{le="0.25",route="/r"} 1500');
    const sum = Number(/herald_http_request_duration_seconds_sum\{route="\/r"\} (\S+)/.exec(text)![1]);
    expect(sum).toBeCloseTo(151.5, 9);
  });
});

describe('errors', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ config: { http: { bodyLimit: 1000 } } });
  });
  afterAll(() => s.close());

  it('fastify errors come out in the Herald shape', async () => {
    const big = await s.request('/streams/x', { method: 'PUT', body: 'x'.repeat(1001), headers: { 'content-type': 'application/json' } });
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ error: { code: 'payload_too_large', message: 'the request body is larger than the limit of 1000 bytes' } });
    const method = await s.request('/streams/x/events', { method: 'PATCH', body: '1' });
    expect(method.status).toBe(404);
    expect(method.json.error.code).toBe('not_found');
    const bad = await rawRequest(s.url, 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(bad.split('\r\n\r\n')[1]!)).toEqual({ error: { code: 'bad_request', message: 'malformed HTTP request' } });
  });

  it('maps every HeraldError code to its status in one place', () => {
    const cases: Array<[ConstructorParameters<typeof HeraldError>[0], number]> = [
      ['bad_request', 400], ['invalid_stream_name', 400], ['invalid_event', 400], ['invalid_json', 400], ['unauthorized', 401], ['forbidden', 403],
      ['stream_not_found', 404], ['not_found', 404], ['stream_exists', 409], ['payload_too_large', 413], ['unsupported_media_type', 415],
      ['store_closed', 503], ['unavailable', 503], ['invalid_config', 500],
    ];
    for (const [code, status] of cases) expect(toHttpError(new HeraldError(code, 'm'), 1).status, code).toBe(status);
    expect(toHttpError(new Error('boom'), 1)).toEqual({ status: 500, code: 'internal', message: 'internal server error' });
    expect(toHttpError(new HeraldError('unauthorized', 'm'), 1).headers).toEqual({ 'www-authenticate': 'Bearer realm="herald"' });
  });

  it('logs 5xx answers with the http component logger', async () => {
    const failing = await startServer();
    failing.hub.store.append = () => Promise.reject(new Error('disk on fire'));
    const r = await post(failing, '/streams/x/events', '1', { 'content-type': 'application/json' });
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ error: { code: 'internal', message: 'internal server error' } });
    const logged = failing.lines.find((l) => l.level === 50);
    expect(logged?.component).toBe('http');
    expect(logged?.msg).toBe('request failed');
    expect((logged?.err as { message: string }).message).toBe('disk on fire');
    await failing.close();
  });
});

describe.each([{ fastPath: true }, { fastPath: false }])('life cycle (fastPath $fastPath)', ({ fastPath }) => {
  it('stop() lets an in-flight publish finish, then refuses connections', async () => {
    const s = await startServer({ store: 'lmdb', fastPath });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const append = s.hub.store.append.bind(s.hub.store);
    s.hub.store.append = async (events, options) => {
      await gate;
      return append(events, options);
    };
    const inflight = post(s, '/streams/slow/events', '1', { 'content-type': 'application/json' });
    await new Promise((r) => setTimeout(r, 50));
    let stopped = false;
    const stopping = s.listener.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    const r = await inflight;
    expect(r.status).toBe(201);
    await stopping;
    expect(s.listener.url).toBeUndefined();
    await expect(fetch(`${s.url}/health`)).rejects.toThrow();
    await s.hub.close();
  });
});

describe.each([{ fastPath: true }, { fastPath: false }])('clients that go away (fastPath $fastPath)', ({ fastPath }) => {
  it('a client closing mid-body stores nothing and harms nothing', async () => {
    const s = await startServer({ fastPath });
    const { hostname, port } = new URL(s.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), hostname, () => {
        socket.write('POST /streams/cut/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":');
        setTimeout(() => socket.destroy(), 30);
      });
      socket.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 30));
    expect(await s.hub.listStreams()).toEqual([]);
    expect((await post(s, '/streams/cut/events', '1', { 'content-type': 'application/json' })).status).toBe(201);
    await s.close();
  });
});

function rawRequest(url: string, raw: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(raw));
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}
