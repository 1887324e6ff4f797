import { afterEach, describe, expect, it } from 'vitest';
import { HeraldError } from '../../src/core/errors.js';
import { EventBusClient, EventBusError } from '../../src/index.js';
import { openConn, req, startEventBus, CLIENT_ID, CLIENT_SECRET, type EbServer } from './helpers.js';

/** Connection life cycle, limits, credentials, metrics and the typed client, on real sockets. */

let servers: EbServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function start(options: Parameters<typeof startEventBus>[0] = {}): Promise<EbServer> {
  const server = await startEventBus(options);
  servers.push(server);
  return server;
}

const HEALTH = '{"operation":"health","status":true}';

describe('limits', () => {
  it('refuses connections over maxConnections with an error line; the others keep working', async () => {
    const server = await start({ eventbus: { maxConnections: 2 } });
    const a = await server.open();
    const b = await server.open();
    const c = await server.open();
    await c.closed;
    expect(c.received).toBe('{"operation":"decode_request","status":false,"reason":"too many connections (eventbus.maxConnections is 2); try again later"}\n');
    expect(await a.ask('{"operation":"health"}')).toEqual([HEALTH]);
    b.close();
    await b.closed;
    await expect.poll(() => server.listener.connections).toBe(1);
    const d = await server.open();
    expect(await d.ask('{"operation":"health"}')).toEqual([HEALTH]);
  });

  it('closes idle connections, but not busy ones', async () => {
    const server = await start({ eventbus: { idleTimeoutMs: 150 } });
    const conn = await server.open();
    expect(await conn.ask('{"operation":"health"}')).toEqual([HEALTH]);
    const started = Date.now();
    await conn.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });

  it('a line left unfinished past lineTimeoutMs gets an error reply and a close', async () => {
    const server = await start({ eventbus: { lineTimeoutMs: 100 } });
    const conn = await server.open();
    conn.send('{"operation":"health"}\n{"operation":');
    await conn.closed;
    expect(conn.replies).toEqual([HEALTH, '{"operation":"decode_request","status":false,"reason":"request line not completed within 100 ms; closing the connection"}']);
  });

  it('a client that pipelines thousands of requests without reading gets every reply, in order', async () => {
    const server = await start({ eventbus: { maxPipelined: 8 } });
    await (await server.open()).ask(req('create_stream', '{"stream_name": "bp"}'));
    const conn = await server.open();
    conn.socket.pause();
    const lines = Array.from({ length: 3000 }, (_, i) => (i % 3 === 2 ? req('write_event', `{"stream_name": "bp", "event": ${i}}`) : i % 3 === 1 ? 'bad' : '{"operation":"health"}'));
    conn.send(lines.map((l) => `${l}\n`).join(''));
    await new Promise((r) => setTimeout(r, 100));
    conn.socket.resume();
    const replies = await conn.waitFor(3000, 15_000);
    expect(replies).toEqual(lines.map((_, i) => (i % 3 === 2 ? '{"operation":"write_event","status":true}' : i % 3 === 1 ? '{"operation":"decode_request","status":false,"reason":"invalid json provided"}' : HEALTH)));
    expect((await server.hub.read('bp', { limit: 5000 })).map((e) => Number(Buffer.from(e.data).toString()))).toEqual(lines.flatMap((_, i) => (i % 3 === 2 ? [i] : [])));
  });

  it('a client that half-closes still gets its replies; a last line without a newline counts', async () => {
    const server = await start();
    const conn = await server.open();
    conn.socket.end(`${req('create_stream', '{"stream_name": "half"}')}\n{"operation":"health"}`);
    await conn.closed;
    expect(conn.replies).toHaveLength(2);
    expect(conn.replies[1]).toBe(HEALTH);
  });

  it('stop() answers the requests already read, then closes the connections', async () => {
    const server = await start();
    const conn = await server.open();
    await conn.ask(req('create_stream', '{"stream_name": "drain"}'));
    conn.send(Array.from({ length: 200 }, (_, i) => `${req('write_event', `{"stream_name": "drain", "event": ${i}}`)}\n`).join(''));
    await conn.waitFor(2);
    await server.listener.stop();
    await conn.closed;
    const answered = conn.replies.length - 1;
    expect(conn.replies.slice(1).every((r) => r === '{"operation":"write_event","status":true}')).toBe(true);
    expect((await server.hub.read('drain', { limit: 1000 })).length).toBe(answered);
  });
});

describe('credentials', () => {
  it('with no clients configured every authenticated operation is refused, health and exit work, and start-up says so', async () => {
    const server = await start({ eventbus: { clients: [] } });
    const conn = await server.open();
    expect(await conn.ask(req('create_stream', '{"stream_name": "x"}'), '{"operation":"health"}', `{"operation":"get_stream_info","auth":{"client_id":"","client_secret":""},"body":{}}`)).toEqual([
      '{"operation":"create_stream","status":false,"reason":"unauthorized to make request"}',
      HEALTH,
      '{"operation":"get_stream_info","status":false,"reason":"unauthorized to make request"}',
    ]);
    expect(server.lines.some((l) => l.level === 40 && String(l.msg).includes('no event-bus clients configured'))).toBe(true);
  });

  it('a secret may come from an environment variable, read at start-up', async () => {
    const server = await start({ eventbus: { clients: [{ client_id: 'env-client', client_secret_env: 'EB_SECRET' }] }, env: { EB_SECRET: 's3cret' } });
    const conn = await server.open();
    expect(await conn.ask(`{"operation":"get_stream_info","auth":{"client_id":"env-client","client_secret":"s3cret"},"body":{"stream_name":"none"}}`)).toEqual([
      `{"operation":"get_stream_info","status":false,"reason":"stream 'none' not found"}`,
    ]);
    expect(await conn.ask(`{"operation":"get_stream_info","auth":{"client_id":"env-client","client_secret":"s3cre"},"body":{"stream_name":"none"}}`)).toEqual([
      '{"operation":"get_stream_info","status":false,"reason":"unauthorized to make request"}',
    ]);
    await expect(startEventBus({ eventbus: { clients: [{ client_id: 'env-client', client_secret_env: 'EB_UNSET' }] }, env: {} })).rejects.toThrow(HeraldError);
  });

  it('a connection that changes its credentials is checked again', async () => {
    const server = await start();
    const conn = await server.open();
    const good = req('get_stream_info', '{"stream_name": "none"}');
    const bad = good.replace(CLIENT_SECRET, `${CLIENT_SECRET}x`);
    expect(await conn.ask(good, bad, good, bad.replace(CLIENT_ID, 'other'))).toEqual([
      `{"operation":"get_stream_info","status":false,"reason":"stream 'none' not found"}`,
      '{"operation":"get_stream_info","status":false,"reason":"unauthorized to make request"}',
      `{"operation":"get_stream_info","status":false,"reason":"stream 'none' not found"}`,
      '{"operation":"get_stream_info","status":false,"reason":"unauthorized to make request"}',
    ]);
  });
});

describe('metrics', () => {
  it('counts connections, requests by operation and outcome, and auth failures', async () => {
    const server = await start();
    const conn = await server.open();
    await conn.ask('{"operation":"health"}', 'junk', req('get_stream_info', '{"stream_name": "nope"}'), '{"operation":"get_stream_info"}', '{"operation":"process_events"}');
    const text = await server.hub.metrics.registry.metrics();
    expect(text).toContain('herald_eventbus_connections 1');
    expect(text).toContain('herald_eventbus_connections_total{outcome="accepted"} 1');
    expect(text).toContain('herald_eventbus_requests_total{operation="health",outcome="ok"} 1');
    expect(text).toContain('herald_eventbus_requests_total{operation="decode_request",outcome="invalid"} 1');
    expect(text).toContain('herald_eventbus_requests_total{operation="get_stream_info",outcome="not_found"} 1');
    expect(text).toContain('herald_eventbus_requests_total{operation="get_stream_info",outcome="unauthorized"} 1');
    expect(text).toContain('herald_eventbus_auth_failures_total 2');
  });
});

describe('the TypeScript client', () => {
  it('mirrors the Go client: every method, typed results, reasons as errors, pipelined calls', async () => {
    const server = await start();
    const client = await EventBusClient.connect(server.listener.url!, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    await client.health();
    const stream = await client.createStream('orders');
    expect(stream).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'orders', createdAt: expect.stringMatching(/Z$/) });
    expect(await client.getStreamInfo('orders')).toEqual(stream);
    await expect(client.createStream('orders')).rejects.toEqual(new EventBusError('create_stream', "stream: 'orders' already exists"));
    await Promise.all([client.writeEvent('orders', { n: 1 }), client.writeEvent('orders', 'two'), client.writeEvent('orders', null)]);
    const pending = await client.processEvents('orders');
    expect(pending.map((e) => [e.body, e.status, e.streamId])).toEqual([[{ n: 1 }, 0, stream.id], ['two', 0, stream.id], [null, 0, stream.id]]);
    await client.markEvent(pending[0]!.id, 1);
    await client.markEvent(pending[1]!.id, 2);
    expect((await client.retryEvents('orders')).map((e) => e.id)).toEqual([pending[1]!.id]);
    expect((await client.getStreamEvents('orders')).map((e) => e.status)).toEqual([1, 2, 0]);
    const missing = await client.markEvent('nope', 1).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(EventBusError);
    expect((missing as EventBusError).reason).toBe("event 'nope' not found");
    const raw = await client.request('write_event');
    expect(raw.context).toEqual({ body: [{ name: 'stream_name', type: 'string', required: true }, { name: 'event', type: '[]byte', required: true }] });
    await client.deleteStream('orders');
    await client.exit();
    await expect(client.health()).rejects.toThrow();
    await client.close();
  });

  it('talks to a server started by startServer, as configured in herald.yaml', async () => {
    const { startServer } = await import('../../src/server.js');
    const { configSchema } = await import('../../src/config/schema.js');
    const running = await startServer(configSchema.parse({ store: { type: 'memory' }, http: { port: 0 }, followermaze: { enabled: false }, eventbus: { port: 0, clients: [{ client_id: 'a', client_secret: 'b' }] } }));
    try {
      const url = running.listener('eventbus')!.url!;
      expect(url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      const client = await EventBusClient.connect(url, { clientId: 'a', clientSecret: 'b' });
      await client.createStream('via-serve');
      await client.close();
      expect(await running.hub.getStream('via-serve')).toBeDefined();
    } finally {
      await running.stop();
    }
  });

  it('rejects pending calls when the connection drops', async () => {
    const server = await start();
    const conn = await openConn(server.port);
    conn.close();
    const client = await EventBusClient.connect(`127.0.0.1:${server.port}`, { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    const pending = client.processEvents('x').catch((e: unknown) => e);
    await server.listener.stop();
    expect(await pending).toBeInstanceOf(Error);
  });
});
