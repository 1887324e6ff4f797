import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub } from '../../src/core/hub.js';
import { HeraldError } from '../../src/core/errors.js';
import { configSchema } from '../../src/config/schema.js';
import { MemoryStore } from '../../src/store/memory.js';
import { assertSafeBind, createHttpListener, isLoopbackHost } from '../../src/protocols/http/index.js';
import { compilePattern } from '../../src/core/patterns.js';
import { captureLogger, post, startServer, type Server } from './helpers.js';

const ADMIN = 'admin-token-0123456789';
const PUB_ORDERS = 'publish-orders-0123456789';
const READ_ALL = 'read-all-0123456789abcd';
const READ_ORDERS = 'read-orders-0123456789';
const FROM_ENV = 'from-env-token-0123456789';
const ENV_NAME = 'HERALD_TEST_TOKEN_HTTP_AUTH';

const tokens = [
  { name: 'admin', token: ADMIN, scopes: ['admin'] },
  { name: 'orders-publisher', token: PUB_ORDERS, scopes: ['publish:orders.*'] },
  { name: 'reader', token: READ_ALL, scopes: ['read'] },
  { name: 'orders-reader', token: READ_ORDERS, scopes: ['read:orders.*'] },
  { name: 'env', tokenEnv: ENV_NAME, scopes: ['publish:*', 'read:*'] },
];

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe.each([{ fastPath: true }, { fastPath: false }])('bearer tokens and scopes (fastPath $fastPath)', ({ fastPath }) => {
  let s: Server;
  beforeAll(async () => {
    process.env[ENV_NAME] = FROM_ENV;
    s = await startServer({ config: { auth: { tokens } }, fastPath });
    delete process.env[ENV_NAME];
  });
  afterAll(() => s.close());

  const publish = (stream: string, headers: Record<string, string>) => post(s, `/streams/${stream}/events`, '1', { 'content-type': 'application/json', ...headers });

  it('401 with WWW-Authenticate: Bearer for a missing, malformed or unknown token; nothing stored', async () => {
    for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer' }, bearer('wrong-token-0123456789'), bearer(ADMIN + 'x')]) {
      const r = await publish('orders.eu', headers);
      expect(r.status, JSON.stringify(headers)).toBe(401);
      expect(r.json.error.code).toBe('unauthorized');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
    }
    expect(await s.hub.listStreams()).toEqual([]);
  });

  it('publish scopes follow the stream pattern', async () => {
    expect((await publish('orders.eu', bearer(PUB_ORDERS))).status).toBe(201);
    const denied = await publish('payments', bearer(PUB_ORDERS));
    expect(denied.status).toBe(403);
    expect(denied.json.error).toEqual({ code: 'forbidden', message: 'token "orders-publisher" lacks the publish scope for stream "payments"' });
    expect((await publish('orders', bearer(PUB_ORDERS))).status).toBe(403); // "orders.*" needs the dot
    expect((await publish('payments', bearer(READ_ALL))).status).toBe(403);
    expect((await publish('payments', bearer(ADMIN))).status).toBe(201);
    expect((await publish('anything', bearer(FROM_ENV))).status).toBe(201);
    expect((await s.hub.listStreams()).map((i) => i.name)).toEqual(['anything', 'orders.eu', 'payments']);
  });

  it('read scopes: stream info, events and the filtered list', async () => {
    expect((await s.request('/streams/payments/events', { headers: bearer(READ_ALL) })).status).toBe(200);
    expect((await s.request('/streams/payments', { headers: bearer(READ_ALL) })).status).toBe(200);
    expect((await s.request('/streams/payments/events', { headers: bearer(READ_ORDERS) })).status).toBe(403);
    expect((await s.request('/streams/orders.eu/events', { headers: bearer(READ_ORDERS) })).status).toBe(200);
    expect((await s.request('/streams/orders.eu/events', { headers: bearer(PUB_ORDERS) })).status).toBe(403);
    const filtered = await s.request('/streams', { headers: bearer(READ_ORDERS) });
    expect(filtered.json.streams.map((i: { name: string }) => i.name)).toEqual(['orders.eu']);
    const all = await s.request('/streams', { headers: bearer(READ_ALL) });
    expect(all.json.streams.map((i: { name: string }) => i.name)).toEqual(['anything', 'orders.eu', 'payments']);
    expect((await s.request('/streams', { headers: bearer(PUB_ORDERS) })).status).toBe(403);
    expect((await s.request('/streams')).status).toBe(401);
  });

  it('PUT and DELETE need admin', async () => {
    const put = (token: string) => s.request('/streams/managed', { method: 'PUT', headers: bearer(token) });
    expect((await put(READ_ALL)).status).toBe(403);
    expect((await put(FROM_ENV)).status).toBe(403);
    expect((await put(ADMIN)).status).toBe(201);
    expect((await s.request('/streams/managed', { method: 'DELETE', headers: bearer(PUB_ORDERS) })).status).toBe(403);
    expect((await s.request('/streams/managed', { method: 'DELETE', headers: bearer(ADMIN) })).status).toBe(204);
  });

  it('/health and /ready need no token; /metrics needs read on every stream', async () => {
    expect((await s.request('/health')).status).toBe(200);
    expect((await s.request('/ready')).status).toBe(200);
    expect((await s.request('/metrics')).status).toBe(401);
    expect((await s.request('/metrics', { headers: bearer(READ_ORDERS) })).status).toBe(403);
    expect((await s.request('/metrics', { headers: bearer(PUB_ORDERS) })).status).toBe(403);
    expect((await s.request('/metrics', { headers: bearer(READ_ALL) })).status).toBe(200);
    expect((await s.request('/metrics', { headers: bearer(ADMIN) })).status).toBe(200);
  });

  it('the bearer scheme is case-insensitive', async () => {
    expect((await publish('orders.us', { authorization: `bearer ${PUB_ORDERS}` })).status).toBe(201);
  });
});

describe('token configuration', () => {
  it('a tokenEnv whose variable is unset fails when the listener is created', async () => {
    const hub = new Hub({ store: new MemoryStore(), retentionIntervalMs: 0 });
    const config = configSchema.parse({ http: { port: 0 }, auth: { tokens: [{ name: 'ci', tokenEnv: 'HERALD_TEST_UNSET_VARIABLE', scopes: ['read'] }] } });
    expect(() => createHttpListener(hub, config, captureLogger().logger)).toThrow(/auth token "ci": environment variable HERALD_TEST_UNSET_VARIABLE is not set/);
  });

  it('patterns: * matches any run of characters, regex characters are literal', () => {
    expect(compilePattern('*')).toBeNull();
    const p = compilePattern('a.*.z')!;
    expect(p.test('a.b.z')).toBe(true);
    expect(p.test('a..z')).toBe(true);
    expect(p.test('a.b.c.z')).toBe(true);
    expect(p.test('aXbXz')).toBe(false);
    expect(compilePattern('x+')!.test('xx')).toBe(false);
    expect(compilePattern('x+')!.test('x+')).toBe(true);
  });
});

describe('the loopback-only rule', () => {
  it('isLoopbackHost', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses a non-loopback host without tokens unless http.insecure', async () => {
    const hub = new Hub({ store: new MemoryStore(), retentionIntervalMs: 0 });
    const open = configSchema.parse({ http: { host: '0.0.0.0', port: 0 } });
    let error: unknown;
    try {
      createHttpListener(hub, open, captureLogger().logger);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(HeraldError);
    expect((error as HeraldError).code).toBe('invalid_config');
    expect((error as HeraldError).message).toContain('refusing to bind the HTTP API to 0.0.0.0');
    expect(() => assertSafeBind(open)).toThrow(HeraldError);
    expect(() => assertSafeBind(configSchema.parse({ http: { host: '0.0.0.0', insecure: true } }))).not.toThrow();
    expect(() => assertSafeBind(configSchema.parse({ http: { host: '0.0.0.0' }, auth: { tokens: [{ token: ADMIN, scopes: ['admin'] }] } }))).not.toThrow();

    // Allowed with insecure: it binds, and says so.
    await hub.start();
    const { logger, lines } = captureLogger();
    const listener = createHttpListener(hub, configSchema.parse({ http: { host: '0.0.0.0', port: 0, insecure: true } }), logger);
    await listener.start();
    expect(lines.some((l) => l.level === 40 && String(l.msg).startsWith('no access tokens configured and http.insecure is set'))).toBe(true);
    await listener.stop();
    await hub.close();
  });

  it('warns at start-up when no tokens are configured', async () => {
    const s = await startServer();
    const warning = s.lines.find((l) => l.level === 40);
    expect(warning?.msg).toBe('no access tokens configured: bound to 127.0.0.1 only');
    expect(warning?.component).toBe('http');
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.url).not.toBe('http://127.0.0.1:0');
    await s.close();
  });
});
