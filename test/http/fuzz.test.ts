import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/core/hub.js';
import { send, startServer, type Server } from './helpers.js';

/**
 * Whatever arrives, the API answers with a known status (never 500, never a hang), errors in
 * the JSON error shape, and a rejected request leaves the store exactly as it was.
 */

// 204 only answers a successful DELETE.
const ALLOWED = new Set([200, 201, 204, 400, 404, 409, 413, 415]);
const MAX_BATCH = 20;
const BODY_LIMIT = 4096;

interface Sent {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers: Record<string, string>;
  body?: Uint8Array;
}

interface Answer {
  status: number;
  contentType: string | undefined;
  text: string;
}

type Transport = (s: Server, req: Sent) => Promise<Answer>;

const inject: Transport = async (s, req) => {
  const res = await s.listener.app.inject({ method: req.method, url: req.path, headers: req.headers, ...(req.body !== undefined ? { payload: Buffer.from(req.body) } : {}) });
  const type = res.headers['content-type'];
  return { status: res.statusCode, contentType: typeof type === 'string' ? type : undefined, text: res.body };
};

const socket: Transport = async (s, req) => {
  const r = await send(s.url + req.path, { method: req.method, headers: req.headers, ...(req.body !== undefined ? { body: req.body as BodyInit } : {}) });
  return { status: r.status, contentType: r.headers.get('content-type') ?? undefined, text: r.text };
};

async function infos(hub: Hub): Promise<string> {
  return JSON.stringify(await hub.listStreams());
}

/** Sends, then checks the invariants; returns the answer for further checks. */
async function check(s: Server, transport: Transport, req: Sent): Promise<Answer> {
  const before = await infos(s.hub);
  const answer = await transport(s, req);
  expect(ALLOWED.has(answer.status), `status ${answer.status} for ${req.method} ${req.path}: ${answer.text}`).toBe(true);
  if (answer.status === 204) expect(req.method).toBe('DELETE');
  if (answer.status >= 400) {
    expect(answer.contentType).toBe('application/json; charset=utf-8');
    const body = JSON.parse(answer.text) as { error: { code: unknown; message: unknown } };
    expect(typeof body.error.code).toBe('string');
    expect(typeof body.error.message).toBe('string');
    expect(await infos(s.hub)).toBe(before);
  }
  return answer;
}

// ---- generators ----------------------------------------------------------------------------

const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
const validName = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:~-]{0,20}$/);
const streamName = fc.oneof(
  { weight: 3, arbitrary: validName },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  fc.constant(''),
  fc.string({ unit: 'grapheme-ascii', minLength: 190, maxLength: 320 }),
  fc.tuple(validName, validName).map(([a, b]) => `${a}/${b}`),
);
const mediaType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/octet-stream', 'application/x-ndjson',
    'application/cloudevents+json', 'application/cloudevents-batch+json', 'application/cloudevents+xml', 'multipart/form-data; boundary=z',
    'application/vnd.x+json', 'image/png', ''),
  fc.tuple(fc.stringMatching(/^[a-z]{1,8}$/), fc.stringMatching(/^[a-z0-9.+-]{1,12}$/)).map(([t, st]) => `${t}/${st}`),
  printable,
);
const ceHeaders = fc.dictionary(fc.stringMatching(/^ce-[a-z0-9-]{1,12}$/), printable, { maxKeys: 4 });
const idempotencyKey = fc.option(printable, { nil: undefined });
const body = fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.json().map((j) => new Uint8Array(Buffer.from(j))), fc.uint8Array({ minLength: BODY_LIMIT - 2, maxLength: BODY_LIMIT + 2 }));

function path(name: string, suffix = ''): string {
  return `/streams/${encodeURIComponent(name)}${suffix}`;
}

function headers(type: string | undefined, ce: Record<string, string>, key: string | undefined): Record<string, string> {
  const h: Record<string, string> = { ...ce };
  if (type !== undefined) h['content-type'] = type;
  if (key !== undefined) h['idempotency-key'] = key;
  return h;
}

// ---- properties ----------------------------------------------------------------------------

function properties(transport: Transport, runs: number, fastPath: boolean): void {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ fastPath, config: { http: { maxBatchEvents: MAX_BATCH, bodyLimit: BODY_LIMIT } } });
  });
  afterAll(() => s.close());

  it('random bodies, content types, ce-* headers and Idempotency-Keys', async () => {
    await fc.assert(
      fc.asyncProperty(validName, fc.option(mediaType, { nil: undefined }), ceHeaders, idempotencyKey, body, async (name, type, ce, key, bytes) => {
        await check(s, transport, { method: 'POST', path: path(name, '/events'), headers: headers(type, ce, key), body: bytes });
      }),
      { numRuns: runs },
    );
  });

  it('JSON bodies are accepted exactly when they are UTF-8 JSON', async () => {
    await fc.assert(
      fc.asyncProperty(validName, fc.oneof(fc.uint8Array({ maxLength: 100 }), fc.json().map((j) => new Uint8Array(Buffer.from(j)))), async (name, bytes) => {
        const answer = await check(s, transport, { method: 'POST', path: path(name, '/events'), headers: { 'content-type': 'application/json' }, body: bytes });
        let valid = isUtf8(bytes);
        try {
          JSON.parse(Buffer.from(bytes).toString('utf8'));
        } catch {
          valid = false;
        }
        expect(answer.status).toBe(valid ? 201 : 400);
      }),
      { numRuns: runs },
    );
  });

  it('random stream names on every route', async () => {
    await fc.assert(
      fc.asyncProperty(streamName, fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'GET-events'), async (name, route) => {
        const req: Sent =
          route === 'GET-events' ? { method: 'GET', path: path(name, '/events'), headers: {} }
          : route === 'POST' ? { method: 'POST', path: path(name, '/events'), headers: { 'content-type': 'application/json' }, body: new Uint8Array(Buffer.from('{"n":1}')) }
          : { method: route, path: path(name), headers: {} };
        const answer = await check(s, transport, req);
        const valid = /^[A-Za-z0-9_][A-Za-z0-9_.:~-]{0,199}$/.test(name);
        if (!valid && answer.status !== 404) {
          expect(answer.status).toBe(400);
          expect(JSON.parse(answer.text).error.code).toBe('invalid_stream_name');
        }
        if (valid && route === 'POST') expect(answer.status).toBe(201);
      }),
      { numRuns: runs },
    );
  });

  it('random NDJSON: stored line for line, or rejected whole', async () => {
    const line = fc.oneof(fc.json(), fc.constantFrom('', '  ', '\t'), printable);
    await fc.assert(
      fc.asyncProperty(validName, fc.array(line, { maxLength: MAX_BATCH + 3 }), fc.boolean(), async (name, lines, crlf) => {
        const text = lines.join(crlf ? '\r\n' : '\n');
        const bytes = new Uint8Array(Buffer.from(text));
        const before = (await s.hub.getStream(name))?.lastSeq ?? 0;
        const answer = await check(s, transport, { method: 'POST', path: path(name, '/events'), headers: { 'content-type': 'application/x-ndjson' }, body: bytes });
        const payloads = lines.filter((l) => l.trim() !== '');
        const parses = payloads.every((l) => {
          try {
            JSON.parse(l);
            return true;
          } catch {
            return false;
          }
        });
        const expected = bytes.length > BODY_LIMIT ? 413 : payloads.length > MAX_BATCH && parsesUpTo(payloads, MAX_BATCH) ? 413 : !parses || payloads.length === 0 ? 400 : 201;
        expect(answer.status, text).toBe(expected);
        if (answer.status === 201) {
          const stored = await s.hub.read(name, { after: before });
          expect(stored.map((e) => Buffer.from(e.data).toString('utf8'))).toEqual(payloads);
          expect(stored.map((e) => e.seq)).toEqual(payloads.map((_, i) => before + 1 + i));
        }
      }),
      { numRuns: runs },
    );
  });

  it('random structured CloudEvents never fail the server', async () => {
    const attrs = fc.record(
      { id: fc.oneof(printable, fc.integer()), type: printable, subject: printable, source: printable, datacontenttype: mediaType, data: fc.jsonValue(), data_base64: fc.oneof(fc.base64String(), printable), ext: fc.jsonValue() },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(validName, fc.oneof(attrs, fc.array(attrs, { maxLength: 4 })), idempotencyKey, async (name, value, key) => {
        const type = Array.isArray(value) ? 'application/cloudevents-batch+json' : 'application/cloudevents+json';
        await check(s, transport, { method: 'POST', path: path(name, '/events'), headers: headers(type, {}, key), body: new Uint8Array(Buffer.from(JSON.stringify(value))) });
      }),
      { numRuns: runs },
    );
  });
}

/** NDJSON stops at the first bad line or at the (max+1)-th event, whichever comes first. */
function parsesUpTo(payloads: string[], max: number): boolean {
  return payloads.slice(0, max).every((l) => {
    try {
      JSON.parse(l);
      return true;
    } catch {
      return false;
    }
  });
}

describe('fuzz, in process (fastify inject)', () => properties(inject, 200, false));
describe('fuzz, real sockets (fast path on)', () => properties(socket, 60, true));
