import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { sign, secretKey, secretProblem } from '../../src/delivery/webhooks/signature.js';
import { parseRetryAfter } from '../../src/delivery/webhooks/sender.js';
import { startHub, type TestHerald } from './helpers.js';

describe('subscription input fuzzing', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startHub();
  });
  afterAll(async () => {
    await herald.close();
  });

  const field = fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }));
  const body = fc.record(
    {
      stream: fc.oneof(fc.constantFrom('orders', 'a.b-c_d'), fc.string({ maxLength: 12 })),
      url: fc.oneof(fc.webUrl(), fc.string({ maxLength: 20 }), fc.constantFrom('ftp://x/y', 'http://', 'javascript:alert(1)')),
      secret: fc.oneof(fc.string({ maxLength: 40 }), fc.constant('whsec_' + Buffer.alloc(32, 3).toString('base64'))),
      maxInFlight: fc.oneof(fc.integer({ min: -5, max: 2000 }), field),
      rateLimit: fc.oneof(fc.integer({ min: -5, max: 200_000 }), fc.double(), field),
      pipelining: fc.oneof(fc.integer({ min: -2, max: 100 }), field),
      retrySchedule: fc.oneof(fc.array(fc.integer({ min: -10, max: 100_000_000 }), { maxLength: 4 }), field),
      filter: fc.oneof(fc.record({ types: fc.array(fc.string({ maxLength: 10 }), { maxLength: 3 }) }, { requiredKeys: [] }), field),
      headers: fc.oneof(fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 3 }), field),
      policy: fc.oneof(fc.constantFrom('durable', 'gosep'), field),
      extra: field,
    },
    { requiredKeys: [] },
  );

  it('answers 201 or a 400 naming the problem, never anything else, and stores nothing on 400', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const before = (await herald.request('/subscriptions')).json.subscriptions.length;
        const res = await herald.json('POST', '/subscriptions', input);
        expect([201, 400]).toContain(res.status);
        const after = (await herald.request('/subscriptions')).json.subscriptions.length;
        if (res.status === 400) {
          expect(res.json.error.code).toMatch(/^(bad_request|invalid_json)$/);
          expect(after).toBe(before);
        } else {
          expect(after).toBe(before + 1);
          expect((await herald.request(`/subscriptions/${res.json.subscription.id}`, { method: 'DELETE' })).status).toBe(204);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('answers random bytes with 400 or 415', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.constantFrom('application/json', 'text/plain', undefined), async (bytes, type) => {
        const res = await herald.request('/subscriptions', { method: 'POST', body: bytes, ...(type ? { headers: { 'content-type': type } } : {}) });
        expect([400, 415]).toContain(res.status);
      }),
      { numRuns: 100 },
    );
  });
});

describe('signatures and headers', () => {
  it('signs what the Standard Webhooks reference implementation verifies, for any payload and id', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 24, maxLength: 64 }), fc.string({ minLength: 1, maxLength: 60 }).filter((s) => !s.includes('.')), fc.json(), (key, id, json) => {
        const secret = 'whsec_' + Buffer.from(key).toString('base64');
        expect(secretProblem(secret)).toBeUndefined();
        const ts = Math.floor(Date.now() / 1000);
        const body = Buffer.from(json);
        const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': sign([secretKey(secret)], id, ts, body) };
        expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(json));
      }),
      { numRuns: 200 },
    );
  });

  it('parses Retry-After as seconds or an HTTP date, ignoring junk', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(['5', '9'])).toBe(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    expect(parseRetryAfter(inAMinute)!).toBeGreaterThan(55_000);
    fc.assert(fc.property(fc.string(), (s) => {
      const v = parseRetryAfter(s);
      expect(v === undefined || (Number.isFinite(v) && v >= 0)).toBe(true);
    }));
  });
});
