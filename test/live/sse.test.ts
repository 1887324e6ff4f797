import { connect } from 'node:net';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Server } from '../http/helpers.js';
import { parseSse } from './sseParser.js';
import { liveSocketCutter, openStream } from './stream.js';

/** Server-Sent Events on the HTTP listener, on real sockets (raw, node:http and the eventsource client). */
let server: Server;
let cut: () => number;

beforeAll(async () => {
  server = await startServer({ config: { live: { heartbeatMs: 150, retryMs: 50, maxBufferedBytes: 64 * 1024 } } });
  cut = liveSocketCutter(server.listener.server);
});
afterAll(async () => {
  await server?.close();
});

async function publish(stream: string, body: string | Buffer, contentType = 'application/json', extra: Record<string, string> = {}): Promise<number> {
  const res = await server.request(`/streams/${stream}/events`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers: { 'content-type': contentType, ...extra } });
  expect(res.status).toBe(201);
  return res.json.seq as number;
}

const ids = (text: string): number[] => parseSse(text).events.map((e) => Number(e.id));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('SSE', () => {
  it('sends headers, the retry hint, replays from 0 and goes on live; payload framing', async () => {
    await publish('s1', '{"a":1}');
    await publish('s1', 'one\ntwo\r\nthree\n', 'text/plain');
    await publish('s1', Buffer.from([0, 255, 1]), 'application/octet-stream', { 'ce-type': 'bin.thing' });
    const s = await openStream(`${server.url}/streams/s1/sse?after=0`);
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(s.headers['cache-control']).toBe('no-cache, no-transform');
    expect(s.headers['x-accel-buffering']).toBe('no');
    await s.waitFor(/id: 3\n/);
    await publish('s1', '"live"');
    const text = await s.waitFor(/id: 4\n/);
    expect(text.startsWith('retry: 50\n\n')).toBe(true);
    const parsed = parseSse(text);
    expect(parsed.events).toEqual([
      { id: '1', event: 'message', data: '{"a":1}' },
      { id: '2', event: 'message', data: 'one\ntwo\nthree\n' },
      { id: '3', event: 'bin.thing', data: Buffer.from([0, 255, 1]).toString('base64') },
      { id: '4', event: 'message', data: '"live"' },
    ]);
    s.close();
  });

  it('format=envelope sends each event as JSON, bytes kept exactly', async () => {
    const s = await openStream(`${server.url}/streams/s1/sse?after=1&format=envelope`);
    const text = await s.waitFor(/id: 3\n/);
    const [second, third] = parseSse(text).events.map((e) => JSON.parse(e.data));
    expect(second).toMatchObject({ stream: 's1', seq: 2, type: 'message', contentType: 'text/plain', data: 'one\ntwo\r\nthree\n' });
    expect(third).toMatchObject({ seq: 3, data_base64: Buffer.from([0, 255, 1]).toString('base64') });
    s.close();
  });

  it('replay and live are one sequence: connections opened during a publishing burst get every event once, in order', async () => {
    const total = 600;
    const streams = [];
    const publishing = (async () => {
      for (let i = 0; i < total; i += 20) {
        const body = Array.from({ length: 20 }, (_, j) => JSON.stringify({ i: i + j })).join('\n');
        await server.request('/streams/burst/events', { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } });
      }
    })();
    for (let k = 0; k < 6; k++) {
      streams.push(await openStream(`${server.url}/streams/burst/sse?after=0`));
      await new Promise((r) => setTimeout(r, 5));
    }
    await publishing;
    for (const s of streams) {
      const text = await s.waitFor(new RegExp(`id: ${total}\\n`));
      expect(ids(text)).toEqual(range(1, total));
      s.close();
    }
  });

  it('the Last-Event-ID header wins over the query; no position means from now, with the position sent first', async () => {
    for (let i = 0; i < 5; i++) await publish('s2', `{"n":${i}}`);
    const s = await openStream(`${server.url}/streams/s2/sse?after=1`, { 'last-event-id': '3' });
    expect(ids(await s.waitFor(/id: 5\n/))).toEqual([4, 5]);
    s.close();
    const now = await openStream(`${server.url}/streams/s2/sse`);
    await now.waitFor(/id: 5\n\n/);
    await publish('s2', '{}');
    const text = await now.waitFor(/id: 6\nevent/);
    expect(ids(text)).toEqual([6]);
    expect(parseSse('retry: 1\n\nid: 5\n\n').lastId).toBe('5');
    now.close();
  });

  it('filters by type and subject; heartbeats move the Last-Event-ID past filtered events', async () => {
    await publish('s3', '{}', 'application/json', { 'ce-type': 'order.created', 'ce-subject': 'u1' });
    await publish('s3', '{}', 'application/json', { 'ce-type': 'order.paid', 'ce-subject': 'u2' });
    await publish('s3', '{}', 'application/json', { 'ce-type': 'refund', 'ce-subject': 'u1' });
    await publish('s3', '{}', 'application/json', { 'ce-type': 'noise' });
    const s = await openStream(`${server.url}/streams/s3/sse?after=0&type=order.*&subject=u1`);
    const text = await s.waitFor((t) => parseSse(t).lastId === '4');
    expect(parseSse(text).events.map((e) => [e.id, e.event])).toEqual([['1', 'order.created']]);
    expect(text).toContain('\n:\n\n');
    s.close();
  });

  it('tells the client when retention removed requested events: header and a herald.gap event', async () => {
    await server.hub.putStream('s4', { retention: { maxCount: 5 } });
    for (let i = 1; i <= 20; i++) await publish('s4', `{"n":${i}}`);
    await server.hub.runRetention();
    const s = await openStream(`${server.url}/streams/s4/sse?after=2`);
    expect(s.headers['herald-events-missed']).toBe('13');
    const text = await s.waitFor(/id: 20\n/);
    const events = parseSse(text).events;
    expect(events[0]).toEqual({ id: '15', event: 'herald.gap', data: '{"after":2,"next":16,"missed":13}' });
    expect(events.slice(1).map((e) => Number(e.id))).toEqual(range(16, 20));
    s.close();
    const fine = await openStream(`${server.url}/streams/s4/sse?after=17`);
    expect(fine.headers['herald-events-missed']).toBeUndefined();
    fine.close();
  });

  it('answers 400 for a bad position, with the JSON error shape', async () => {
    for (const q of ['after=-1', 'after=x', 'lastEventId=1&after=2', 'format=xml']) {
      const res = await server.request(`/streams/s1/sse?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.json.error.code).toBe('bad_request');
    }
    const res = await server.request('/streams/s1/sse', { headers: { 'last-event-id': 'abc' } });
    expect(res.status).toBe(400);
  });

  it('a client that stops reading is disconnected past maxBufferedBytes, and resuming loses nothing', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(60_000) });
    await publish('slow', big);
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.write('GET /streams/slow/sse?after=0 HTTP/1.1\r\nhost: x\r\n\r\n');
    socket.pause();
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => {});
    const disconnects = async () => Number(/herald_live_slow_disconnects_total\{protocol="sse"\} (\d+)/.exec((await server.request('/metrics')).text)?.[1] ?? 0);
    let published = 1;
    while ((await disconnects()) === 0 && published < 400) {
      await publish('slow', big);
      published++;
    }
    expect(await disconnects()).toBe(1);
    // What the client had received before the cut: it reads it now.
    let raw = '';
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => (raw += d));
    socket.resume();
    await closed;
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4).replace(/\r\n[0-9a-f]+\r\n/g, '');
    // Only whole events count (the cut may fall inside one).
    const got = ids(body.slice(0, body.lastIndexOf('\n\n') + 2));
    const last = got.at(-1) ?? 0;
    expect(got).toEqual(range(1, last));
    const resumed = await openStream(`${server.url}/streams/slow/sse`, { 'last-event-id': String(last) });
    const rest = ids(await resumed.waitFor(new RegExp(`id: ${published}\\nevent: message\\ndata: .*\\n\\n`), 20_000));
    expect([...got, ...rest]).toEqual(range(1, published));
    resumed.close();
  });

  it('the eventsource client resumes after the server cuts it off and gets every event once, in order', async () => {
    const got: Array<{ id: string; data: string }> = [];
    let opened = 0;
    const es = new EventSource(`${server.url}/streams/es/sse?after=0`);
    es.addEventListener('open', () => opened++);
    es.addEventListener('message', (e) => got.push({ id: e.lastEventId, data: e.data }));
    await publish('es', 'a\nb', 'text/plain');
    await expect.poll(() => got.length).toBe(1);
    // Cut the live connections from the server side.
    expect(cut()).toBeGreaterThan(0);
    await publish('es', '{"x":2}');
    await publish('es', '', 'text/plain');
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(3);
    expect(opened).toBeGreaterThanOrEqual(2);
    expect(got).toEqual([
      { id: '1', data: 'a\nb' },
      { id: '2', data: '{"x":2}' },
      { id: '3', data: '' },
    ]);
    es.close();
  });
});

describe('SSE access', () => {
  let secured: Server;
  beforeAll(async () => {
    secured = await startServer({ config: { auth: { tokens: [{ token: 'reader-token-0123456789', scopes: ['read:public*'] }, { token: 'admin-token-0123456789', scopes: ['admin'] }] } } });
    await secured.hub.publish({ stream: 'public', data: Buffer.from('{}'), contentType: 'application/json' });
  });
  afterAll(async () => {
    await secured?.close();
  });

  it('needs a read scope: from the Authorization header or the access_token query parameter', async () => {
    expect((await secured.request('/streams/public/sse')).status).toBe(401);
    expect((await secured.request('/streams/public/sse?access_token=wrong-token-0123456789')).status).toBe(401);
    expect((await secured.request('/streams/private/sse?access_token=reader-token-0123456789')).status).toBe(403);
    const viaQuery = await openStream(`${secured.url}/streams/public/sse?after=0&access_token=reader-token-0123456789`);
    expect(viaQuery.status).toBe(200);
    await viaQuery.waitFor(/id: 1\n/);
    viaQuery.close();
    const viaHeader = await openStream(`${secured.url}/streams/public/sse?after=0`, { authorization: 'Bearer admin-token-0123456789' });
    expect(viaHeader.status).toBe(200);
    viaHeader.close();
    // Other routes do not take a token from the query.
    expect((await secured.request('/streams/public/events?access_token=reader-token-0123456789')).status).toBe(401);
  });
});
