import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../http/helpers.js';

/** WebSocket live push on the HTTP listener, with the ws client on real sockets. */
let server: Server;

beforeAll(async () => {
  server = await startServer({ config: { live: { heartbeatMs: 100, maxBufferedBytes: 64 * 1024, wsMaxMessageBytes: 64 } } });
});
afterAll(async () => {
  await server?.close();
});

interface Client {
  ws: WebSocket;
  messages: Array<Record<string, unknown>>;
  closed: Promise<{ code: number; reason: string }>;
}

function open(path: string, options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<Client> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, options);
  const messages: Array<Record<string, unknown>> = [];
  ws.on('message', (data) => messages.push(JSON.parse(String(data)) as Record<string, unknown>));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.on('close', (code, reason) => r({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('error', reject);
  });
}

async function publish(stream: string, body: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await server.request(`/streams/${stream}/events`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  expect(res.status).toBe(201);
}

describe('WebSocket', () => {
  it('sends each event as a JSON message with seq, id, type, data; resumes from a seq; goes on live', async () => {
    await publish('w1', '{"a":1}', { 'ce-type': 'thing.made', 'ce-subject': 'u1' });
    await publish('w1', '{"a":2}');
    await publish('w1', '{"a":3}');
    const c = await open('/streams/w1/ws?after=1');
    await publish('w1', '{"a":4}');
    await expect.poll(() => c.messages.length).toBe(3);
    expect(c.messages.map((m) => [m.seq, m.data])).toEqual([[2, { a: 2 }], [3, { a: 3 }], [4, { a: 4 }]]);
    expect(c.messages[0]).toMatchObject({ stream: 'w1', type: 'message', contentType: 'application/json' });
    expect(typeof c.messages[0]!.id).toBe('string');
    const filtered = await open('/streams/w1/ws?after=0&subject=u1');
    await expect.poll(() => filtered.messages.length).toBe(1);
    expect(filtered.messages[0]).toMatchObject({ seq: 1, type: 'thing.made', subject: 'u1' });
    c.ws.close();
    filtered.ws.close();
  });

  it('reports a retention gap with a control message', async () => {
    await server.hub.putStream('w2', { retention: { maxCount: 2 } });
    for (let i = 0; i < 6; i++) await publish('w2', `{"i":${i}}`);
    await server.hub.runRetention();
    const c = await open('/streams/w2/ws?after=0');
    await expect.poll(() => c.messages.length).toBe(3);
    expect(c.messages[0]).toEqual({ control: 'gap', after: 0, next: 5, missed: 4 });
    expect(c.messages.slice(1).map((m) => m.seq)).toEqual([5, 6]);
    c.ws.close();
  });

  it('pings idle clients and cuts one that does not answer', async () => {
    let pings = 0;
    const answering = await open('/streams/w3/ws');
    answering.ws.on('ping', () => pings++);
    const silent = await open('/streams/w3/ws', { autoPong: false });
    const { code } = await silent.closed;
    expect(code).toBe(1006); // terminated, no close frame
    expect(pings).toBeGreaterThan(0);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    answering.ws.close();
  });

  it('closes a client that stops reading with 1013 past maxBufferedBytes; resuming loses nothing', async () => {
    const pad = 'x'.repeat(60_000);
    const c = await open('/streams/w4/ws');
    // Stop reading: the kernel buffers fill, then Herald's.
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
    let published = 0;
    let closedWith: { code: number } | undefined;
    void c.closed.then((x) => (closedWith = x));
    const disconnects = async () => Number(/herald_live_slow_disconnects_total\{protocol="websocket"\} (\d+)/.exec((await server.request('/metrics')).text)?.[1] ?? 0);
    while ((await disconnects()) === 0 && published < 400) {
      await publish('w4', JSON.stringify({ pad, n: ++published }));
    }
    expect(await disconnects()).toBe(1);
    (c.ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await expect.poll(() => closedWith?.code, { timeout: 10_000 }).toBe(1013);
    const got = c.messages.map((m) => m.seq as number);
    expect(got).toEqual(got.map((_, i) => i + 1));
    const resumed = await open(`/streams/w4/ws?after=${got.at(-1) ?? 0}`);
    await expect.poll(() => resumed.messages.length, { timeout: 10_000 }).toBe(published - got.length);
    expect([...got, ...resumed.messages.map((m) => m.seq)]).toEqual(Array.from({ length: published }, (_, i) => i + 1));
    resumed.ws.close();
  });

  it('closes a client that sends more than wsMaxMessageBytes (1009)', async () => {
    const c = await open('/streams/w5/ws');
    c.ws.send('x'.repeat(100));
    expect((await c.closed).code).toBe(1009);
  });

  it('refuses bad upgrades with the JSON error shape; a plain GET gets 426', async () => {
    const refused = (path: string) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('error', () => {});
      });
    expect(await refused('/streams/w1/ws?after=x')).toBe(400);
    expect(await refused('/streams/bad%20name/ws')).toBe(400);
    expect(await refused('/elsewhere')).toBe(404);
    const res = await server.request('/streams/w1/ws');
    expect(res.status).toBe(426);
    expect(res.json.error.code).toBe('bad_request');
  });
});

describe('WebSocket access', () => {
  let secured: Server;
  beforeAll(async () => {
    secured = await startServer({ config: { auth: { tokens: [{ token: 'reader-token-0123456789', scopes: ['read:open'] }] } } });
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('takes the token from the Authorization header or access_token', async () => {
    const status = (path: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve) => {
        const ws = new WebSocket(`${secured.url.replace('http', 'ws')}${path}`, { headers });
        ws.on('open', () => {
          ws.close();
          resolve(101);
        });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode!));
        ws.on('error', () => {});
      });
    expect(await status('/streams/open/ws')).toBe(401);
    expect(await status('/streams/closed/ws?access_token=reader-token-0123456789')).toBe(403);
    expect(await status('/streams/open/ws?access_token=reader-token-0123456789')).toBe(101);
    expect(await status('/streams/open/ws', { authorization: 'Bearer reader-token-0123456789' })).toBe(101);
  });
});
