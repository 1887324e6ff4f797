import { afterEach, describe, expect, it } from 'vitest';
import { answer, eventually, startHub, startReceiver, type Receiver, type TestHerald } from './helpers.js';

const GOSEP_ID = /^\{ "id":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}" \}\n$/;

describe('go-sep queues', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  async function setup(targets: Array<{ receiver: Receiver; buffer: number }>, config: Record<string, unknown> = {}): Promise<TestHerald> {
    const herald = await startHub({ gosep: { queues: { demo: targets.map((t) => ({ url: t.receiver.url, buffer: t.buffer })) } }, ...config });
    open.push(herald);
    return herald;
  }
  async function receiver(behaviour = answer(200, 'Thanks!')): Promise<Receiver> {
    const r = await startReceiver(behaviour);
    open.push(r);
    return r;
  }

  it('forwards CloudEvents attributes published through the HTTP API percent-encoded, and go-sep headers as they arrived', async () => {
    const a = await receiver();
    const herald = await setup([{ receiver: a, buffer: 10 }]);
    const viaApi = await herald.request('/streams/demo/events', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'ce-note': 'caf%c3%a9%20100%25' } });
    expect(viaApi.status).toBe(201);
    const viaGosep = await herald.request('/demo', { method: 'POST', body: 'x', headers: { 'ce-note': 'as%20sent' } });
    expect(viaGosep.status).toBe(200);
    await a.waitFor(2);
    expect(a.received.map((r) => r.headers['ce-note'])).toEqual(['caf%C3%A9%20100%25', 'as%20sent']);
  });

  it('answers { "id":"<uuid>" } as text and forwards method, body and headers plus X-Wsq-Id to every target', async () => {
    const [a, b] = [await receiver(), await receiver()];
    const herald = await setup([{ receiver: a, buffer: 10 }, { receiver: b, buffer: 20 }]);
    const res = await herald.request('/demo', { method: 'PUT', body: 'hello=world', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-custom': 'yes', 'user-agent': 'curl/8.0', 'x-wsq-id': 'spoofed' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.text).toMatch(GOSEP_ID);
    expect(res.text).toHaveLength(48);
    const id = JSON.parse(res.text).id as string;
    await a.waitFor(1);
    await b.waitFor(1);
    for (const r of [a.received[0]!, b.received[0]!]) {
      expect(r.method).toBe('PUT');
      expect(r.url).toBe('/hook'); // the configured URL verbatim
      expect(r.body.toString()).toBe('hello=world');
      expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(r.headers['x-custom']).toBe('yes');
      expect(r.headers['user-agent']).toBe('curl/8.0');
      expect(r.headers['x-wsq-id']).toBe(id);
    }
    // A GET with no body works too, and the queue is an ordinary stream.
    expect((await herald.request('/demo')).text).toMatch(GOSEP_ID);
    await a.waitFor(2);
    expect(a.received[1]!.method).toBe('GET');
    const events = (await herald.request('/streams/demo/events')).json.events;
    expect(events.map((e: { id: string }) => e.id)[0]).toBe(id);
  });

  it('routes a query string to the queue (go-sep forwarded it to nobody) and answers 404 elsewhere', async () => {
    const a = await receiver();
    const herald = await setup([{ receiver: a, buffer: 10 }]);
    expect((await herald.request('/demo?x=1', { method: 'POST', body: 'q' })).status).toBe(200);
    await a.waitFor(1);
    expect((await herald.request('/demo/', { method: 'POST', body: 'q' })).status).toBe(404);
    expect((await herald.request('/nosuch', { method: 'POST', body: 'q' })).status).toBe(404);
  });

  it('counts only exactly 200 as success: a 201 is retried at 100 ms x1.5', async () => {
    const a = await receiver((_req, res, i) => void res.writeHead(i < 2 ? 201 : 200).end());
    const herald = await setup([{ receiver: a, buffer: 10 }]);
    await herald.request('/demo', { method: 'POST', body: 'x' });
    await a.waitFor(3);
    const gaps = [a.received[1]!.at - a.received[0]!.at, a.received[2]!.at - a.received[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(90);
    expect(gaps[1]).toBeGreaterThanOrEqual(140);
    expect(a.received.map((r) => r.headers['x-wsq-id'])).toEqual(Array(3).fill(a.received[0]!.headers['x-wsq-id']));
  });

  it('keeps at most `buffer` events waiting behind the one in flight, dropping the oldest and counting them lost', async () => {
    let release: (() => void) | undefined;
    const a = await receiver((_req, res, i) => {
      if (i === 0) release = () => res.writeHead(200).end();
      else res.writeHead(200).end();
    });
    const herald = await setup([{ receiver: a, buffer: 10 }]);
    for (let n = 1; n <= 15; n++) expect((await herald.request('/demo', { method: 'POST', body: String(n) })).status).toBe(200);
    await a.waitFor(1);
    release!();
    await a.waitFor(11);
    await new Promise((r) => setTimeout(r, 100));
    expect(a.received.map((r) => r.body.toString())).toEqual(['1', '6', '7', '8', '9', '10', '11', '12', '13', '14', '15']);
    const report = herald.lines.filter((l) => l.msg === 'metrics-queue');
    expect(report.length).toBeGreaterThan(0); // the first report is logged at start-up
    expect(Object.keys(report[0]!).filter((k) => !['level', 'time', 'pid', 'hostname', 'component', 'msg'].includes(k)).sort()).toEqual(['chanlen', 'chanmax', 'current', 'failure', 'lost', 'queue', 'success', 'total', 'url']);
    const { queueReports } = await import('../../src/protocols/gosep/report.js');
    const [r] = queueReports(herald.server.webhooks!, herald.server.config.gosep);
    expect(r).toEqual({ chanlen: 0, chanmax: 10, current: 0, failure: 0, lost: 4, queue: 'demo', success: 11, total: 15, url: a.url });
  });

  it('marks queue targets as go-sep subscriptions that the API cannot edit', async () => {
    const herald = await setup([{ receiver: await receiver(answer(500)), buffer: 10 }]);
    const sub = (await herald.request('/subscriptions')).json.subscriptions[0];
    expect(sub).toMatchObject({ policy: 'gosep', buffer: 10, format: 'gosep', source: 'gosep' });
    // Config-defined subscriptions are not editable through the API.
    expect((await herald.json('PATCH', `/subscriptions/${sub.id}`, { description: 'x' })).status).toBe(409);
    expect((await herald.request(`/subscriptions/${sub.id}`, { method: 'DELETE' })).status).toBe(409);
  });
});

describe('subscriptions from the config file', () => {
  it('starts them, keeps their ids, and refuses invalid ones at start-up', async () => {
    const r = await startReceiver();
    const secret = 'whsec_' + Buffer.alloc(32, 1).toString('base64');
    const herald = await startHub({ subscriptions: [{ id: 'billing', stream: 'orders', url: r.url, secret, filter: { types: ['order.*'] } }] });
    try {
      await herald.publish('orders', { n: 1 }, { 'ce-type': 'order.created' });
      await r.waitFor(1);
      expect((await herald.request('/subscriptions/billing')).json).toMatchObject({ id: 'billing', source: 'config', filter: { types: ['order.*'] } });
      expect((await herald.json('POST', '/subscriptions/billing/pause')).json.state).toBe('paused');
    } finally {
      await herald.close();
      await r.close();
    }
    await expect(startHub({ subscriptions: [{ id: 'bad', stream: 'orders', url: 'ftp://x' }] })).rejects.toThrow('subscriptions[0] (bad): field "url"');
    await expect(startHub({ subscriptions: [{ id: 'env', stream: 'orders', url: 'http://127.0.0.1:9/x', secretEnv: 'HERALD_TEST_NO_SUCH_VAR' }] })).rejects.toThrow('HERALD_TEST_NO_SUCH_VAR');
  });
});

describe('gosep window', () => {
  it('retries for about 11 s, then dead-letters', { timeout: 20_000 }, async () => {
    const dead = await startReceiver(answer(500));
    const herald = await startHub({ gosep: { queues: { w: [{ url: dead.url, buffer: 5 }] } } });
    try {
      await herald.request('/w', { method: 'POST', body: 'x' });
      const sub = (await herald.request('/subscriptions')).json.subscriptions[0];
      await eventually(async () => (await herald.request(`/subscriptions/${sub.id}/dead-letters`)).json.deadLetters.length === 1, 15_000, 'dead letter');
      expect(dead.received).toHaveLength(11); // attempts at ≈0, .1, .25, .475, .81, 1.32, 2.08, 3.22, 4.93, 7.49, 11.33 s
      const span = dead.received[10]!.at - dead.received[0]!.at;
      expect(span).toBeGreaterThan(10_500);
      expect(span).toBeLessThan(12_500);
    } finally {
      await herald.close();
      await dead.close();
    }
  });
});
