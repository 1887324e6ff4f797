import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { answer, eventually, startHub, startReceiver, type Receiver, type TestHerald } from './helpers.js';

describe('webhook subscriptions API', () => {
  let herald: TestHerald;
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver();
    herald = await startHub();
  });
  afterEach(async () => {
    await herald.close();
    await receiver.close();
  });

  it('creates a subscription, returns its secret once, and delivers signed events in order', async () => {
    const created = await herald.json('POST', '/subscriptions', { stream: 'orders', url: receiver.url, description: 'billing' });
    expect(created.status).toBe(201);
    const { subscription, secret } = created.json;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(created.headers.get('location')).toBe(`/subscriptions/${subscription.id}`);
    expect(subscription).toMatchObject({ stream: 'orders', url: receiver.url, state: 'active', maxInFlight: 1, policy: 'durable', secrets: 1, description: 'billing' });
    expect(JSON.stringify(subscription)).not.toContain(secret);

    for (let i = 1; i <= 5; i++) expect((await herald.publish('orders', { n: i })).status).toBe(201);
    await receiver.waitFor(5);
    const wh = new Webhook(secret);
    receiver.received.forEach((r, i) => {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['herald-seq']).toBe(String(i + 1));
      expect(wh.verify(r.body, r.headers as Record<string, string>)).toEqual({ n: i + 1 });
    });
    // The event id is the webhook-id, stable and equal to the stored id.
    const stored = await herald.request('/streams/orders/events');
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(stored.json.events.map((e: { id: string }) => e.id));

    const got = await herald.request(`/subscriptions/${subscription.id}`);
    expect(got.status).toBe(200);
    expect(got.text).not.toContain(secret);
    await eventually(async () => (await herald.request(`/subscriptions/${subscription.id}`)).json.status.position === 5, 5000, 'position 5');
    const list = await herald.request('/subscriptions');
    expect(list.json.subscriptions.map((s: { id: string }) => s.id)).toEqual([subscription.id]);
  });

  it('starts after the current head by default, or from the earliest event when asked', async () => {
    await herald.publish('early', { n: 1 });
    await herald.publish('early', { n: 2 });
    const now = await herald.json('POST', '/subscriptions', { stream: 'early', url: receiver.url });
    const all = await herald.json('POST', '/subscriptions', { stream: 'early', url: `${receiver.url}?all`, start: 'earliest' });
    expect([now.status, all.status]).toEqual([201, 201]);
    await herald.publish('early', { n: 3 });
    await receiver.waitFor(4);
    await new Promise((r) => setTimeout(r, 100));
    const bodies = (suffix: string): number[] => receiver.received.filter((r) => r.url.endsWith(suffix)).map((r) => JSON.parse(r.body.toString()).n);
    expect(bodies('?all')).toEqual([1, 2, 3]);
    expect(bodies('/hook')).toEqual([3]);
  });

  it('rejects bad input with 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ stream: 'a', url: receiver.url, colour: 'red' }, 'unknown field "colour"'],
      [{ stream: 'a' }, 'field "url"'],
      [{ stream: 'a', url: 'not a url' }, 'field "url": must be an absolute http:// or https:// URL'],
      [{ stream: 'a', url: 'ftp://example.com/x' }, 'field "url"'],
      [{ stream: 'a', url: receiver.url, secret: 'hunter2' }, 'field "secret": must start with "whsec_"'],
      [{ stream: 'a', url: receiver.url, secret: 'whsec_c2hvcnQ=' }, 'field "secret": must encode 24 to 64 bytes'],
      [{ stream: 'bad name!', url: receiver.url }, 'field "stream"'],
      [{ stream: 'a', url: receiver.url, filter: { kinds: ['x'] } }, 'unknown field "filter.kinds"'],
      [{ stream: 'a', url: receiver.url, maxInFlight: 0 }, 'field "maxInFlight"'],
      [{ stream: 'a', url: receiver.url, rateLimit: 0 }, 'field "rateLimit"'],
      [{ stream: 'a', url: receiver.url, rateLimit: 2.5 }, 'field "rateLimit"'],
      [{ stream: 'a', url: receiver.url, rateLimit: null }, 'field "rateLimit"'],
      [{ stream: 'a', url: receiver.url, pipelining: 0 }, 'field "pipelining"'],
      [{ stream: 'a', url: receiver.url, pipelining: 65 }, 'field "pipelining"'],
      [{ stream: 'a', url: receiver.url, headers: { 'webhook-id': 'x' } }, 'field "headers.webhook-id"'],
      [{ stream: 'a', url: receiver.url, policy: 'gosep' }, 'field "buffer"'],
    ];
    for (const [body, message] of cases) {
      const res = await herald.json('POST', '/subscriptions', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.message, JSON.stringify(body)).toContain(message);
    }
    const notJson = await herald.request('/subscriptions', { method: 'POST', body: '{', headers: { 'content-type': 'application/json' } });
    expect(notJson.json.error.code).toBe('invalid_json');
    const text = await herald.request('/subscriptions', { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } });
    expect(text.status).toBe(415);
    expect((await herald.request('/subscriptions')).json.subscriptions).toEqual([]);
  });

  it('updates, pauses, resumes and deletes; 404 for unknown ids', async () => {
    const { subscription } = (await herald.json('POST', '/subscriptions', { stream: 's', url: receiver.url })).json;
    const id = subscription.id as string;
    const patched = await herald.json('PATCH', `/subscriptions/${id}`, { description: 'changed', filter: { types: ['keep.*'] } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ description: 'changed', filter: { types: ['keep.*'] } });
    expect((await herald.json('PATCH', `/subscriptions/${id}`, { stream: 'other' })).status).toBe(400);

    expect((await herald.json('POST', `/subscriptions/${id}/pause`)).json.state).toBe('paused');
    await herald.publish('s', { n: 1 }, { 'ce-type': 'keep.this' });
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received).toHaveLength(0);
    expect((await herald.json('POST', `/subscriptions/${id}/resume`)).json.state).toBe('active');
    await receiver.waitFor(1);

    expect((await herald.request(`/subscriptions/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await herald.request(`/subscriptions/${id}`)).status).toBe(404);
    expect((await herald.request('/subscriptions/nope', { method: 'DELETE' })).status).toBe(404);
    expect((await herald.json('POST', '/subscriptions/nope/pause')).status).toBe(404);
  });

  it('sends a signed test event on request, stores nothing and leaves the lane as it was', async () => {
    const created = (await herald.json('POST', '/subscriptions', { stream: 'probe', url: receiver.url })).json;
    const id = created.subscription.id as string;
    await herald.json('POST', `/subscriptions/${id}/pause`); // a paused endpoint can be tested too
    const sent = await herald.json('POST', `/subscriptions/${id}/test`);
    expect(sent.status, sent.text).toBe(200);
    expect(sent.json).toMatchObject({ delivered: true, status: 200 });
    expect(sent.json.latencyMs).toBeGreaterThan(0);
    expect(receiver.received).toHaveLength(1);
    const [r] = receiver.received;
    expect(r!.headers).toMatchObject({ 'webhook-id': sent.json.eventId, 'herald-type': 'herald.test', 'herald-seq': '0', 'herald-stream': 'probe' });
    const verified = new Webhook(created.secret).verify(r!.body.toString(), r!.headers as Record<string, string>) as { type: string; subscription: string };
    expect(verified).toMatchObject({ type: 'herald.test', subscription: id });

    expect((await herald.request('/streams/probe')).status).toBe(404); // nothing was published
    expect((await herald.request(`/subscriptions/${id}/attempts`)).json.attempts).toEqual([]);
    expect((await herald.request(`/subscriptions/${id}`)).json).toMatchObject({ state: 'paused', status: { position: 0, delivered: 0 } });

    receiver.behave(answer(500, 'not today'));
    const failed = await herald.json('POST', `/subscriptions/${id}/test`);
    expect(failed.json).toMatchObject({ delivered: false, status: 500, response: 'not today' });
    expect(failed.json.eventId).not.toBe(sent.json.eventId);

    const closed = await startReceiver();
    await closed.close();
    const unreachable = (await herald.json('POST', '/subscriptions', { stream: 'probe', url: closed.url })).json.subscription.id as string;
    const refused = await herald.json('POST', `/subscriptions/${unreachable}/test`);
    expect(refused.json).toMatchObject({ delivered: false });
    expect(refused.json.error).toContain('ECONNREFUSED');
    expect((await herald.json('POST', '/subscriptions/nope/test')).status).toBe(404);
  });

  it('delivers only events matching the type and subject filters', async () => {
    await herald.json('POST', '/subscriptions', { stream: 'f', url: receiver.url, filter: { types: ['order.*'], subjects: ['eu-*'] } });
    await herald.publish('f', { n: 1 }, { 'ce-type': 'order.created', 'ce-subject': 'eu-1' });
    await herald.publish('f', { n: 2 }, { 'ce-type': 'order.created', 'ce-subject': 'us-1' });
    await herald.publish('f', { n: 3 }, { 'ce-type': 'user.created', 'ce-subject': 'eu-2' });
    await herald.publish('f', { n: 4 }, { 'ce-type': 'order.paid' });
    await herald.publish('f', { n: 5 }, { 'ce-type': 'order.paid', 'ce-subject': 'eu-9' });
    await receiver.waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.map((r) => JSON.parse(r.body.toString()).n)).toEqual([1, 5]);
  });

  it('rotates the secret: both signatures verify during the grace period', async () => {
    const { subscription, secret: oldSecret } = (await herald.json('POST', '/subscriptions', { stream: 'rot', url: receiver.url })).json;
    const rotated = await herald.json('POST', `/subscriptions/${subscription.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    const newSecret = rotated.json.secret as string;
    expect(newSecret).not.toBe(oldSecret);
    expect(rotated.json.subscription.secrets).toBe(2);
    await herald.publish('rot', { n: 1 });
    await receiver.waitFor(1);
    const r = receiver.received[0]!;
    expect(String(r.headers['webhook-signature']).split(' ')).toHaveLength(2);
    expect(new Webhook(oldSecret).verify(r.body, r.headers as Record<string, string>)).toEqual({ n: 1 });
    expect(new Webhook(newSecret).verify(r.body, r.headers as Record<string, string>)).toEqual({ n: 1 });
    // A secret given in a PATCH rotates too.
    const given = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    expect((await herald.json('PATCH', `/subscriptions/${subscription.id}`, { secret: given })).json.secrets).toBe(3);
    await herald.publish('rot', { n: 2 });
    await receiver.waitFor(2);
    expect(new Webhook(given).verify(receiver.received[1]!.body, receiver.received[1]!.headers as Record<string, string>)).toEqual({ n: 2 });
  });

  it('sends the configured extra headers and the event content type', async () => {
    await herald.json('POST', '/subscriptions', { stream: 'h', url: receiver.url, headers: { 'x-team': 'billing' } });
    await herald.request('/streams/h/events', { method: 'POST', body: 'plain text', headers: { 'content-type': 'text/plain' } });
    await receiver.waitFor(1);
    expect(receiver.received[0]!.headers['x-team']).toBe('billing');
    expect(receiver.received[0]!.headers['content-type']).toBe('text/plain');
    expect(receiver.received[0]!.body.toString()).toBe('plain text');
    receiver.behave(answer(200));
  });
});
