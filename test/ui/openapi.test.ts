import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHub, startReceiver, type Receiver, type TestHerald } from '../webhooks/helpers.js';
import type { HttpListener } from '../../src/protocols/http/index.js';
import { buildDashboard } from './browser.js';

/**
 * The OpenAPI document: generated from the route schemas, it lists every route the router holds
 * (read from fastify's own route tree, not from the generator), and real answers, successes and
 * errors, match the schema declared for their status.
 */
let herald: TestHerald;
let receiver: Receiver;
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>> };

beforeAll(async () => {
  await buildDashboard();
  receiver = await startReceiver();
  herald = await startHub({ gosep: { queues: { jobs: [{ url: 'http://127.0.0.1:9/x', buffer: 10 }] } } });
  doc = (await herald.request('/openapi.json')).json;
});
afterAll(async () => {
  await herald?.close();
  await receiver?.close();
});

/** `METHOD /path/{param}` for every route in fastify's printed route tree (HEAD excepted: fastify adds it to every GET). */
function routerRoutes(app: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ├└─]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line) ?? /^([│ ├└─]*)(\S.*)$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('').replace(/:([A-Za-z]+)/g, '{$1}');
    for (const method of (m[3] ?? '').split(', ').filter((x) => x !== '' && x !== 'HEAD')) out.push(`${method} ${path}`);
  }
  return out.sort();
}

describe('GET /openapi.json', () => {
  it('is OpenAPI 3.1 and lists every registered route', () => {
    expect(doc.openapi).toBe('3.1.0');
    const app = (herald.server.listener('http') as HttpListener).app;
    const registered = routerRoutes(app);
    // HEAD is left out on both sides: fastify adds it to every GET, so the tree cannot tell it from a declared one.
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((m) => m !== 'head').map((m) => `${m.toUpperCase()} ${path}`)).sort();
    expect(registered.length).toBeGreaterThan(25);
    expect(documented).toEqual(registered);
    // Every native route but the public ones documents at least one error (go-sep queues,
    // /jobs here, are go-sep's own wire protocol and answer as go-sep does).
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (path === '/jobs') continue;
      for (const [method, op] of Object.entries(ops)) {
        if (['/health', '/openapi.json', '/docs', '/ui', '/ui/'].includes(path)) continue;
        expect(Object.keys(op.responses).some((s) => Number(s) >= 400), `${method} ${path}`).toBe(true);
      }
    }
  });

  it('answers match the schemas declared for their status', async () => {
    const ajv = new Ajv({ strict: false, validateFormats: false });
    const check = async (method: string, template: string, path: string, body?: unknown): Promise<number> => {
      const reply = await herald.request(path, { method, redirect: 'manual', ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
      const responses = doc.paths[template]?.[method.toLowerCase()]?.responses;
      expect(responses, `${method} ${template}`).toBeDefined();
      const declared = responses![String(reply.status)];
      expect(declared, `${method} ${path} answered ${reply.status}: ${reply.text.slice(0, 200)}`).toBeDefined();
      const schema = declared!.content?.['application/json']?.schema;
      if (schema !== undefined && reply.status !== 204 && reply.status !== 304 && reply.status !== 302) {
        const value = reply.headers.get('content-type')?.startsWith('application/json') ? reply.json : reply.text;
        const valid = ajv.validate(schema, value);
        expect(valid, `${method} ${path} ${reply.status}: ${ajv.errorsText()} in ${reply.text.slice(0, 300)}`).toBe(true);
      }
      return reply.status;
    };
    const s = '/streams/{stream}';
    expect(await check('GET', '/health', '/health')).toBe(200);
    expect(await check('GET', '/ready', '/ready')).toBe(200);
    expect(await check('GET', '/metrics', '/metrics')).toBe(200);
    expect(await check('PUT', s, '/streams/a', { retention: { maxCount: 100 } })).toBe(201);
    expect(await check('PUT', s, '/streams/a', { retention: { bogus: 1 } })).toBe(400);
    expect(await check('GET', s, '/streams/a')).toBe(200);
    expect(await check('GET', s, '/streams/nope')).toBe(404);
    expect(await check('POST', `${s}/events`, '/streams/a/events', { n: 1 })).toBe(201);
    expect(await check('GET', `${s}/events`, '/streams/a/events?after=0')).toBe(200);
    expect(await check('GET', `${s}/events`, '/streams/a/events?after=x')).toBe(400);
    expect(await check('GET', '/streams', '/streams')).toBe(200);
    // The plain GET of the WebSocket route answers 426 (declared below only if the route lists it).
    await check('GET', `${s}/ws`, '/streams/a/ws').catch(() => undefined);
    expect(await check('GET', `${s}/sse`, '/streams/a/sse?after=x')).toBe(400);
    expect(await check('GET', '/system', '/system')).toBe(200);
    expect(await check('GET', '/eventbus/streams', '/eventbus/streams')).toBe(200);
    const first = (await herald.request('/streams/a/events')).json.events[0];
    expect(await check('GET', '/events/{id}', `/events/${first.id}`)).toBe(200);
    expect(await check('GET', '/events/{id}', '/events/missing')).toBe(404);
    const sub = '/subscriptions/{id}';
    expect(await check('POST', '/subscriptions', '/subscriptions', { stream: 'a', url: receiver.url })).toBe(201);
    expect(await check('POST', '/subscriptions', '/subscriptions', { stream: 'a', url: 'ftp://x' })).toBe(400);
    const id = (await herald.request('/subscriptions')).json.subscriptions.find((x: { source: string }) => x.source === 'api').id as string;
    expect(await check('PATCH', sub, `/subscriptions/${(await herald.request('/subscriptions')).json.subscriptions.find((x: { source: string }) => x.source === 'gosep').id}`, { description: 'x' })).toBe(409);
    expect(await check('GET', '/subscriptions', '/subscriptions')).toBe(200);
    expect(await check('GET', sub, `/subscriptions/${id}`)).toBe(200);
    expect(await check('GET', sub, '/subscriptions/none')).toBe(404);
    expect(await check('PATCH', sub, `/subscriptions/${id}`, { description: 'x' })).toBe(200);
    expect(await check('POST', `${sub}/pause`, `/subscriptions/${id}/pause`)).toBe(200);
    expect(await check('POST', `${sub}/resume`, `/subscriptions/${id}/resume`)).toBe(200);
    expect(await check('POST', `${sub}/rotate-secret`, `/subscriptions/${id}/rotate-secret`)).toBe(200);
    expect(await check('GET', `${sub}/attempts`, `/subscriptions/${id}/attempts`)).toBe(200);
    expect(await check('GET', `${sub}/dead-letters`, `/subscriptions/${id}/dead-letters`)).toBe(200);
    expect(await check('POST', `${sub}/dead-letters/redrive`, `/subscriptions/${id}/dead-letters/redrive`)).toBe(202);
    expect(await check('POST', `${sub}/dead-letters/{seq}/redrive`, `/subscriptions/${id}/dead-letters/0/redrive`)).toBe(400);
    expect(await check('POST', `${sub}/replay`, `/subscriptions/${id}/replay`, { fromSeq: 1 })).toBe(202);
    expect(await check('POST', `${sub}/replay`, `/subscriptions/${id}/replay`, {})).toBe(400);
    expect(await check('DELETE', sub, `/subscriptions/${id}`)).toBe(204);
    expect(await check('DELETE', s, '/streams/a')).toBe(204);
    expect(await check('GET', '/openapi.json', '/openapi.json')).toBe(200);
    expect(await check('GET', '/docs', '/docs')).toBe(200);
    expect(await check('GET', '/ui', '/ui')).toBe(302);
    expect(await check('GET', '/ui/', '/ui/')).toBe(200);
    expect(await check('GET', '/ui/{file}', '/ui/nothing.js')).toBe(404);
  });

  it('renders a readable reference page at /docs with every operation', async () => {
    const page = await herald.request('/docs');
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    for (const path of Object.keys(doc.paths)) expect(page.text).toContain(`<code>${path.replace(/&/g, '&amp;')}</code>`);
    expect(page.text).not.toMatch(/<script|https?:\/\/(?!127)/);
  });
});
