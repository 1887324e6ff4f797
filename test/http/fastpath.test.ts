import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/core/hub.js';
import { send, startServer, type Server } from './helpers.js';

/**
 * The fast path (socket and node-request ways) must answer exactly as the fastify route does: the same request sent to a
 * server with the fast path and to one without gives the same status, headers and body (up to
 * generated ids), and leaves the same store behind.
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/g;
const TOKEN = 'fast-path-token-0123456789';

function normalize(text: string): string {
  return text.replace(UUID, '<uuid>');
}

async function storeShape(hub: Hub): Promise<unknown> {
  const streams = await hub.listStreams();
  return Promise.all(
    streams.map(async (info) => ({
      name: info.name,
      count: info.count,
      lastSeq: info.lastSeq,
      bytes: info.bytes,
      events: (await hub.read(info.name)).map((e) => ({ ...e, id: normalize(e.id), time: '', data: Buffer.from(e.data).toString('base64') })),
    })),
  );
}

describe.each([
  { name: 'no tokens', tokens: [] },
  { name: 'with tokens', tokens: [{ token: TOKEN, scopes: ['publish:a*', 'read'] }] },
])('fast path ≡ fastify route ($name)', ({ tokens }) => {
  let fast: Server;
  let slow: Server;
  beforeAll(async () => {
    const config = { http: { bodyLimit: 2048 }, auth: { tokens } };
    fast = await startServer({ fastPath: true, config });
    slow = await startServer({ fastPath: false, config });
  });
  afterAll(async () => {
    await fast.close();
    await slow.close();
  });

  const printable = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 30 });
  const request = fc.record({
    stream: fc.oneof(fc.constantFrom('a', 'a1', 'b', 'a.b:c~d-e_f', 'A'), fc.stringMatching(/^[a-c][a-c0-9]{0,3}$/)),
    query: fc.constantFrom('', '?x=1'),
    type: fc.option(fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8', 'text/plain', 'application/octet-stream', 'text/csv', 'application/x-ndjson'), { nil: undefined }),
    body: fc.oneof(fc.json().map((j) => Buffer.from(j)), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), fc.constant(Buffer.alloc(2049, 49))),
    key: fc.option(fc.constantFrom('k1', 'k2', 'k3', ' bad', ''), { nil: undefined }),
    ce: fc.dictionary(fc.constantFrom('ce-id', 'ce-type', 'ce-subject', 'ce-source', 'ce-x'), printable, { maxKeys: 3 }),
    auth: fc.constantFrom<'ok' | 'none' | 'wrong'>('ok', 'ok', 'none', 'wrong'),
  });

  it('answers alike and stores alike', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { ...r.ce };
        if (r.type !== undefined) headers['content-type'] = r.type;
        if (r.key !== undefined) headers['idempotency-key'] = r.key;
        if (tokens.length > 0 && r.auth !== 'none') headers.authorization = `Bearer ${r.auth === 'ok' ? TOKEN : 'nope-nope-nope-nope'}`;
        const path = `/streams/${r.stream}/events${r.query}`;
        const [a, b] = [await send(fast.url + path, { method: 'POST', headers, body: r.body }), await send(slow.url + path, { method: 'POST', headers, body: r.body })];
        expect(a.status).toBe(b.status);
        expect(normalize(a.text)).toBe(normalize(b.text));
        for (const h of ['content-type', 'content-length', 'www-authenticate']) expect(a.headers.get(h), h).toBe(b.headers.get(h));
      }),
      { numRuns: 150 },
    );
    expect(await storeShape(fast.hub)).toEqual(await storeShape(slow.hub));
    const taken = (s: Server) => (s.listener as unknown as { fastPathRequests: number }).fastPathRequests;
    expect(taken(fast)).toBeGreaterThan(20);
    expect(taken(slow)).toBe(0);
    // The property must have stored something, or it compared nothing.
    expect((await fast.hub.listStreams()).length).toBeGreaterThan(0);
  });

  it('counts fast-path requests under the same route label', async () => {
    // Through /metrics, which flushes the buffered HTTP samples first.
    const auth = tokens.length > 0 ? { authorization: `Bearer ${TOKEN}` } : undefined;
    const text = (await fast.request('/metrics', { headers: auth })).text;
    const slowText = (await slow.request('/metrics', { headers: auth })).text;
    const counts = (t: string) => t.split('\n').filter((l) => l.startsWith('herald_http_requests_total{') && !l.includes('route="/metrics"')).sort();
    expect(counts(text).length).toBeGreaterThan(2);
    expect(counts(text)).toEqual(counts(slowText));
  });
});
