import { afterEach, describe, expect, it } from 'vitest';
import { answer, eventually, startHub, startReceiver, type Receiver, type TestHerald } from './helpers.js';
import { tempDir } from '../helpers/tmp.js';

const nOf = (r: { body: Buffer }): number => JSON.parse(r.body.toString()).n;

describe('webhook delivery', () => {
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });
  async function setup(behaviour = answer(200), config = {}): Promise<{ herald: TestHerald; receiver: Receiver }> {
    const receiver = await startReceiver(behaviour);
    open.push(receiver);
    const herald = await startHub(config);
    open.push(herald);
    return { herald, receiver };
  }
  /** When each attempt of a subscription started, in order (from the attempts API). */
  const attemptStarts = async (herald: TestHerald, id: string): Promise<number[]> =>
    ((await herald.request(`/subscriptions/${id}/attempts`)).json.attempts as Array<{ time: string }>).map((a) => Date.parse(a.time)).sort((a, b) => a - b);
  const subscribe = async (herald: TestHerald, body: Record<string, unknown>): Promise<string> => {
    const res = await herald.json('POST', '/subscriptions', body);
    expect(res.status, res.text).toBe(201);
    return res.json.subscription.id as string;
  };

  it('retries failures on the schedule, keeps order, and records every attempt', async () => {
    const { herald, receiver } = await setup((_req, res, i) => void res.writeHead(i < 2 ? 500 : 200).end(i < 2 ? 'boom' : 'ok'));
    const id = await subscribe(herald, { stream: 'r', url: receiver.url, retrySchedule: [30, 30, 30] });
    await herald.publish('r', { n: 1 });
    await herald.publish('r', { n: 2 });
    await receiver.waitFor(4);
    expect(receiver.received.map(nOf)).toEqual([1, 1, 1, 2]);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids[0]).toBe(ids[1]); // stable across retries
    expect(receiver.received[1]!.at - receiver.received[0]!.at).toBeGreaterThanOrEqual(20);
    const attempts = (await herald.request(`/subscriptions/${id}/attempts`)).json.attempts;
    expect(attempts.map((a: { seq: number; attempt: number; status: number; outcome: string }) => [a.seq, a.attempt, a.status, a.outcome])).toEqual([
      [2, 1, 200, 'delivered'],
      [1, 3, 200, 'delivered'],
      [1, 2, 500, 'retrying'],
      [1, 1, 500, 'retrying'],
    ]);
    expect(attempts[3].response).toBe('boom');
    const status = (await herald.request(`/subscriptions/${id}`)).json.status;
    expect(status).toMatchObject({ delivered: 2, retried: 2, failed: 0 });
    const metrics = (await herald.request('/metrics')).text;
    expect(metrics).toContain(`herald_webhook_delivered_total{endpoint="${id}"} 2`);
    expect(metrics).toContain(`herald_webhook_retried_total{endpoint="${id}"} 2`);
    expect(metrics).toMatch(new RegExp(`herald_webhook_attempt_duration_seconds_count\\{endpoint="${id}"\\} 4`));
    expect(metrics).toContain(`herald_webhook_lag_events{endpoint="${id}"} 0`);
  });

  it('dead-letters an event after its last retry, moves on, and redrives one or all', async () => {
    const { herald, receiver } = await setup((req, res) => void res.writeHead(nOf(req) % 2 === 1 ? 500 : 200).end());
    const id = await subscribe(herald, { stream: 'd', url: receiver.url, retrySchedule: [10] });
    for (let n = 1; n <= 4; n++) await herald.publish('d', { n });
    await receiver.waitFor(6); // 1,1,2,3,3,4
    await eventually(async () => (await herald.request(`/subscriptions/${id}/dead-letters`)).json.deadLetters.length === 2, 5000, 'two dead letters');
    const dead = (await herald.request(`/subscriptions/${id}/dead-letters`)).json.deadLetters;
    expect(dead.map((d: { seq: number; attempts: number; status: number }) => [d.seq, d.attempts, d.status])).toEqual([[1, 2, 500], [3, 2, 500]]);
    expect((await herald.request(`/subscriptions/${id}/dead-letters?after=1`)).json.deadLetters.map((d: { seq: number }) => d.seq)).toEqual([3]);
    expect((await herald.request(`/subscriptions/${id}`)).json.status).toMatchObject({ failed: 2, delivered: 2, position: 4 });

    receiver.behave(answer(200));
    const one = await herald.json('POST', `/subscriptions/${id}/dead-letters/1/redrive`);
    expect(one.status).toBe(202);
    await receiver.waitFor(7);
    expect(nOf(receiver.received[6]!)).toBe(1);
    await eventually(async () => (await herald.request(`/subscriptions/${id}/dead-letters`)).json.deadLetters.length === 1, 5000, 'one dead letter left');
    expect((await herald.json('POST', `/subscriptions/${id}/dead-letters/1/redrive`)).status).toBe(404);
    expect((await herald.json('POST', `/subscriptions/${id}/dead-letters/redrive`)).json.redriven).toBe(1);
    await receiver.waitFor(8);
    expect(nOf(receiver.received[7]!)).toBe(3);
    await eventually(async () => (await herald.request(`/subscriptions/${id}/dead-letters`)).json.deadLetters.length === 0, 5000, 'no dead letters');
  });

  it('disables the endpoint on 410 Gone without losing the event; resume delivers it', async () => {
    const { herald, receiver } = await setup(answer(410));
    const id = await subscribe(herald, { stream: 'g', url: receiver.url, retrySchedule: [10, 10] });
    await herald.publish('g', { n: 1 });
    await receiver.waitFor(1);
    await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.state === 'disabled', 5000, 'disabled');
    const sub = (await herald.request(`/subscriptions/${id}`)).json;
    expect(sub.disabledReason).toContain('410');
    await herald.publish('g', { n: 2 });
    await new Promise((r) => setTimeout(r, 150));
    expect(receiver.received).toHaveLength(1);
    receiver.behave(answer(204));
    await herald.json('POST', `/subscriptions/${id}/resume`);
    await receiver.waitFor(3);
    expect(receiver.received.map(nOf)).toEqual([1, 1, 2]);
  });

  it('honours Retry-After on 429 and 503', async () => {
    const { herald, receiver } = await setup((_req, res, i) => void res.writeHead(i === 0 ? 429 : i === 1 ? 503 : 200, i < 2 ? { 'retry-after': '1' } : {}).end());
    await subscribe(herald, { stream: 'ra', url: receiver.url, retrySchedule: [10, 10, 10] });
    await herald.publish('ra', { n: 1 });
    await receiver.waitFor(3, 8000);
    const [a, b, c] = receiver.received;
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(950);
    expect(c!.at - b!.at).toBeGreaterThanOrEqual(950);
  });

  it('opens the circuit breaker on a failing endpoint, then probes it half-open and closes on success', async () => {
    const { herald, receiver } = await setup(answer(500), { webhooks: { breakerThreshold: 3, breakerCooldownMs: 300 } });
    const id = await subscribe(herald, { stream: 'b', url: receiver.url, maxInFlight: 8, retrySchedule: [5, 5, 5, 5, 5, 5, 5, 5, 5, 5] });
    for (let n = 1; n <= 8; n++) await herald.publish('b', { n });
    await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.status.breaker === 'open', 5000, 'breaker open');
    const during = receiver.received.length;
    await new Promise((r) => setTimeout(r, 200));
    // While open nothing goes out (at most the attempts already in flight when it opened).
    expect(receiver.received.length - during).toBeLessThanOrEqual(8);
    expect((await herald.request('/metrics')).text).toContain(`herald_webhook_breaker_state{endpoint="${id}"} 2`);
    receiver.behave(answer(200));
    await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.status.delivered === 8, 10_000, 'all delivered after the probe');
    expect((await herald.request(`/subscriptions/${id}`)).json.status.breaker).toBe('closed');
  });

  it('keeps a dead or hanging endpoint from delaying another', async () => {
    const hanging = await startReceiver(() => undefined); // never answers
    open.push(hanging);
    const { herald, receiver } = await setup();
    await subscribe(herald, { stream: 'shared', url: hanging.url, timeoutMs: 200, retrySchedule: [50, 50] });
    await subscribe(herald, { stream: 'shared', url: 'http://127.0.0.1:1/refused', retrySchedule: [50, 50] });
    await subscribe(herald, { stream: 'shared', url: receiver.url });
    const started = Date.now();
    for (let n = 1; n <= 50; n++) await herald.publish('shared', { n });
    await receiver.waitFor(50);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(receiver.received.map(nOf)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const subs = (await herald.request('/subscriptions')).json.subscriptions;
    const firstAttempt = async (id: string): Promise<{ error: string }> => {
      await eventually(async () => (await herald.request(`/subscriptions/${id}/attempts`)).json.attempts.length > 0, 5000, 'an attempt');
      const attempts = (await herald.request(`/subscriptions/${id}/attempts`)).json.attempts;
      return attempts[attempts.length - 1];
    };
    expect((await firstAttempt(subs[0].id)).error).toBe('timed out after 200 ms');
    expect((await firstAttempt(subs[1].id)).error).toContain('ECONNREFUSED');
  });

  it('reads at most maxResponseBytes of a huge response body', async () => {
    const { herald, receiver } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let sent = 0;
      const pump = (): void => {
        while (sent < 200 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (sent = Infinity));
      pump();
    }, { webhooks: { maxResponseBytes: 1024 } });
    const id = await subscribe(herald, { stream: 'big', url: receiver.url });
    await herald.publish('big', { n: 1 });
    await herald.publish('big', { n: 2 });
    await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.status.delivered === 2, 5000, 'both delivered');
    const attempts = (await herald.request(`/subscriptions/${id}/attempts`)).json.attempts;
    expect(attempts[0].response).toBe('x'.repeat(512));
  });

  it('delivers with N requests in flight when allowed', async () => {
    let inFlight = 0;
    let peak = 0;
    const { herald, receiver } = await setup((_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200).end();
      }, 30);
    });
    const id = await subscribe(herald, { stream: 'par', url: receiver.url, maxInFlight: 4 });
    for (let n = 1; n <= 20; n++) await herald.publish('par', { n });
    await receiver.waitFor(20);
    expect(peak).toBe(4);
    expect(new Set(receiver.received.map(nOf)).size).toBe(20);
    await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.status.position === 20, 5000, 'position 20');
  });

  it('pipelines N in flight on one connection, in stream order, and retries a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const { herald, receiver } = await setup((_req, res, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(i === 10 ? 500 : 200).end();
      }, 20);
    });
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ n: i + 1 })).join('\n');
    expect((await herald.request('/streams/pipe/events', { method: 'POST', headers: { 'content-type': 'application/x-ndjson' }, body: lines })).status).toBe(201);
    const id = await subscribe(herald, { stream: 'pipe', url: receiver.url, maxInFlight: 8, pipelining: 8, retrySchedule: [30], start: 'earliest' });
    await receiver.waitFor(41);
    await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.status.position === 40, 5000, 'position 40');
    // Eight requests were waiting at the receiver at once, all on one connection.
    expect(peak).toBe(8);
    expect(receiver.connections()).toBe(1);
    const order = receiver.received.map(nOf);
    // First sent in stream order; the one answered 500 came once more.
    expect(order.filter((n, i) => order.indexOf(n) === i)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(order.filter((n) => n === 11)).toHaveLength(2);
    expect(order).toHaveLength(41);
    expect((await herald.request(`/subscriptions/${id}`)).json.pipelining).toBe(8);
  });

  it('replays from a seq and from a time', async () => {
    const { herald, receiver } = await setup();
    const id = await subscribe(herald, { stream: 'rp', url: receiver.url });
    for (let n = 1; n <= 3; n++) await herald.publish('rp', { n });
    await receiver.waitFor(3);
    await new Promise((r) => setTimeout(r, 20));
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 20));
    for (let n = 4; n <= 5; n++) await herald.publish('rp', { n });
    await receiver.waitFor(5);
    expect((await herald.json('POST', `/subscriptions/${id}/replay`, { fromSeq: 2 })).json).toEqual({ fromSeq: 2 });
    await receiver.waitFor(9);
    expect(receiver.received.slice(5).map(nOf)).toEqual([2, 3, 4, 5]);
    expect((await herald.json('POST', `/subscriptions/${id}/replay`, { fromTime: cut })).json).toEqual({ fromSeq: 4 });
    await receiver.waitFor(11);
    expect(receiver.received.slice(9).map(nOf)).toEqual([4, 5]);
    expect((await herald.json('POST', `/subscriptions/${id}/replay`, {})).status).toBe(400);
  });

  it('resumes from its durable position and retry state after a restart (LMDB)', async () => {
    const dir = tempDir();
    const receiver = await startReceiver();
    open.push(receiver);
    try {
      let herald = await startHub({}, { lmdbPath: dir.path });
      const id = (await herald.json('POST', '/subscriptions', { stream: 'dur', url: receiver.url, retrySchedule: [60_000] })).json.subscription.id as string;
      for (let n = 1; n <= 3; n++) await herald.publish('dur', { n });
      await receiver.waitFor(3);
      await eventually(async () => (await herald.request(`/subscriptions/${id}`)).json.status.position === 3, 5000, 'position 3');
      receiver.behave(answer(500));
      await herald.publish('dur', { n: 4 });
      await receiver.waitFor(4);
      await new Promise((r) => setTimeout(r, 100));
      await herald.close();

      receiver.behave(answer(200));
      herald = await startHub({}, { lmdbPath: dir.path });
      open.push(herald);
      // Event 4 waits out its saved retry time (a minute away), so nothing is delivered yet.
      const sub = (await herald.request(`/subscriptions/${id}`)).json;
      expect(sub).toMatchObject({ stream: 'dur', url: receiver.url, state: 'active' });
      await new Promise((r) => setTimeout(r, 300));
      expect(receiver.received.map(nOf)).toEqual([1, 2, 3, 4]);
      expect((await herald.request(`/subscriptions/${id}`)).json.status.position).toBe(3);
      // A replay from 4 clears the saved retry and delivers at once.
      await herald.json('POST', `/subscriptions/${id}/replay`, { fromSeq: 4 });
      await receiver.waitFor(5);
      expect(nOf(receiver.received[4]!)).toBe(4);
    } finally {
      dir.cleanup();
    }
  });

  it('paces attempts to the rate limit, concurrent ones too, and a PATCH changes or removes it', async () => {
    const { herald, receiver } = await setup();
    const id = await subscribe(herald, { stream: 'rl', url: receiver.url, rateLimit: 20, maxInFlight: 4 });
    expect((await herald.request(`/subscriptions/${id}`)).json.rateLimit).toBe(20);
    for (let n = 1; n <= 21; n++) await herald.publish('rl', { n });
    await receiver.waitFor(21);
    // 20 per second: the 21 attempts take start slots 50 ms apart, 1 s from first to last. (Each
    // starts at its slot or, on a busy machine, later: only the first one's delay shortens this.)
    const paced = await attemptStarts(herald, id);
    expect(paced).toHaveLength(21);
    expect(paced.at(-1)! - paced[0]!).toBeGreaterThanOrEqual(900);

    const patched = await herald.json('PATCH', `/subscriptions/${id}`, { rateLimit: null });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.json).not.toHaveProperty('rateLimit');
    for (let n = 22; n <= 41; n++) await herald.publish('rl', { n });
    await receiver.waitFor(41);
    const free = (await attemptStarts(herald, id)).slice(-20);
    // Paced at 20/s these 20 would span 950 ms.
    expect(free.at(-1)! - free[0]!).toBeLessThan(950);
  });

  it('paces retries too', async () => {
    const { herald, receiver } = await setup((_req, res, i) => void res.writeHead(i < 2 ? 503 : 200).end());
    const id = await subscribe(herald, { stream: 'rlr', url: receiver.url, rateLimit: 10, retrySchedule: [0, 0, 0] });
    await herald.publish('rlr', { n: 1 });
    await receiver.waitFor(3);
    const starts = await attemptStarts(herald, id);
    expect(starts).toHaveLength(3);
    expect(starts[2]! - starts[0]!).toBeGreaterThanOrEqual(180); // slots 100 ms apart
  });
});
