import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LmdbStore } from '../../src/store/lmdb.js';
import { Hub } from '../../src/core/hub.js';
import { STREAM_NAME_RULE } from '../../src/core/names.js';
import { tempDir } from '../helpers/tmp.js';
import { post, startServer, UUID_V7, type Server } from './helpers.js';

// Every publish test runs twice: through the fast path and through fastify alone.
describe.each([
  { fastPath: true, name: 'fast path' },
  { fastPath: false, name: 'fastify only' },
])('POST /streams/:stream/events, single event ($name)', ({ fastPath }) => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ store: 'lmdb', fastPath });
  });
  afterAll(() => s.close());

  it('answers 201 {id, stream, seq} and stores the JSON body byte-exact', async () => {
    const body = '{ "b": 1,\n  "a": [1, 2.50, "é"] }';
    const r = await post(s, '/streams/orders/events', body, { 'content-type': 'application/json' });
    expect(r.status).toBe(201);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Object.keys(r.json)).toEqual(['id', 'stream', 'seq']);
    expect(r.json.stream).toBe('orders');
    expect(r.json.seq).toBe(1);
    expect(r.json.id).toMatch(UUID_V7);
    const [stored] = await s.hub.read('orders');
    expect(Buffer.from(stored!.data).toString('utf8')).toBe(body);
    expect(stored!.contentType).toBe('application/json');
    expect(stored!.type).toBe('message');
    expect(stored!.id).toBe(r.json.id);
    const second = await post(s, '/streams/orders/events', '2', { 'content-type': 'application/json' });
    expect(second.json.seq).toBe(2);
  });

  it('keeps arbitrary bytes and their content type; a missing Content-Type is application/octet-stream', async () => {
    const bytes = Buffer.from([0, 255, 1, 128, 10, 13, 0xc3, 0x28]);
    const r1 = await post(s, '/streams/bin/events', bytes, { 'content-type': 'image/x-custom; foo=bar' });
    expect(r1.status).toBe(201);
    const r2 = await post(s, '/streams/bin/events', bytes);
    expect(r2.status).toBe(201);
    const [e1, e2] = await s.hub.read('bin');
    expect(Buffer.from(e1!.data).equals(bytes)).toBe(true);
    expect(e1!.contentType).toBe('image/x-custom; foo=bar');
    expect(Buffer.from(e2!.data).equals(bytes)).toBe(true);
    expect(e2!.contentType).toBe('application/octet-stream');
  });

  it('rejects invalid JSON for JSON types (also +json and non-UTF-8) with 400 invalid_json and stores nothing', async () => {
    for (const [type, body] of [
      ['application/json', '{"a":'],
      ['application/json; charset=utf-8', ''],
      ['application/vnd.api+json', 'nope'],
      ['application/json', Buffer.from([0x22, 0xff, 0x22])],
    ] as const) {
      const r = await post(s, '/streams/badjson/events', body, { 'content-type': type });
      expect(r.status, type).toBe(400);
      expect(r.json.error.code).toBe('invalid_json');
      expect(typeof r.json.error.message).toBe('string');
    }
    expect(await s.hub.getStream('badjson')).toBeUndefined();
  });

  it('does not validate non-JSON types', async () => {
    const r = await post(s, '/streams/text/events', '{not json', { 'content-type': 'text/plain' });
    expect(r.status).toBe(201);
  });

  it('maps CloudEvents binary-mode headers', async () => {
    const r = await post(s, '/streams/ce/events', '{"x":1}', {
      'content-type': 'application/json',
      'ce-id': 'evt-1',
      'ce-type': 'order.created',
      'ce-subject': 'customer-7',
      'ce-source': '/shop',
      'ce-specversion': '1.0',
      'ce-time': '2024-01-02T03:04:05Z',
      'ce-traceparent': '00-abc-01',
    });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ id: 'evt-1', stream: 'ce', seq: 1 });
    const [e] = await s.hub.read('ce');
    expect(e!.id).toBe('evt-1');
    expect(e!.type).toBe('order.created');
    expect(e!.subject).toBe('customer-7');
    expect(e!.headers).toEqual({ 'ce-source': '/shop', 'ce-specversion': '1.0', 'ce-time': '2024-01-02T03:04:05Z', 'ce-traceparent': '00-abc-01' });
  });

  it('percent-decodes CloudEvents header values, and refuses a bad encoding with 400 naming the header', async () => {
    const r = await post(s, '/streams/cepct/events', '1', {
      'content-type': 'application/json',
      'ce-type': 'order%2Ecreated',
      'ce-subject': 'customer%207%20%2350',
      'ce-source': 'Euro%20%E2%82%AC',
    });
    expect(r.status).toBe(201);
    const [e] = await s.hub.read('cepct');
    expect(e!.type).toBe('order.created');
    expect(e!.subject).toBe('customer 7 #50');
    expect(e!.headers).toEqual({ 'ce-source': 'Euro \u20ac' });
    for (const [name, value] of [['ce-subject', '100%'], ['ce-source', '%C0%A0']] as const) {
      const bad = await post(s, '/streams/cepct/events', '2', { 'content-type': 'application/json', [name]: value });
      expect(bad.status, value).toBe(400);
      expect(bad.json.error.code).toBe('invalid_event');
      expect(bad.json.error.message).toContain(name);
    }
    expect((await s.hub.getStream('cepct'))!.count).toBe(1);
  });

  it('a duplicate id answers 200 with the original position and stores nothing', async () => {
    const first = await post(s, '/streams/idem/events', '"a"', { 'content-type': 'application/json', 'idempotency-key': 'k-1' });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ id: 'k-1', stream: 'idem', seq: 1 });
    const again = await post(s, '/streams/idem/events', '"b"', { 'content-type': 'application/json', 'idempotency-key': 'k-1' });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ id: 'k-1', stream: 'idem', seq: 1 });
    const viaCe = await post(s, '/streams/idem/events', '"c"', { 'content-type': 'application/json', 'ce-id': 'k-1' });
    expect(viaCe.status).toBe(200);
    expect(viaCe.json).toEqual({ id: 'k-1', stream: 'idem', seq: 1 });
    const info = await s.hub.getStream('idem');
    expect(info!.count).toBe(1);
    expect(Buffer.from((await s.hub.read('idem'))[0]!.data).toString()).toBe('"a"');
  });

  it('Idempotency-Key wins over ce-id, which is kept as the ce-id header', async () => {
    const r = await post(s, '/streams/prec/events', 'x', { 'content-type': 'text/plain', 'idempotency-key': 'key-9', 'ce-id': 'ce-9' });
    expect(r.status).toBe(201);
    expect(r.json.id).toBe('key-9');
    const [e] = await s.hub.read('prec');
    expect(e!.id).toBe('key-9');
    expect(e!.headers).toEqual({ 'ce-id': 'ce-9' });
  });

  it('rejects a bad Idempotency-Key or ce-type with 400 invalid_event', async () => {
    const r = await post(s, '/streams/badkey/events', 'x', { 'content-type': 'text/plain', 'idempotency-key': 'a\tb' });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_event');
    expect(r.json.error.message).toContain('Idempotency-Key');
    const r2 = await post(s, '/streams/badkey/events', 'x', { 'content-type': 'text/plain', 'ce-type': 'x'.repeat(201) });
    expect(r2.status).toBe(400);
    expect(r2.json.error.code).toBe('invalid_event');
    expect(await s.hub.getStream('badkey')).toBeUndefined();
  });

  it('rejects an invalid stream name with 400 naming the rule', async () => {
    for (const name of ['-x', '.hidden', 'a%2Fb', 'caf%C3%A9', 'x'.repeat(201), 'a%20b']) {
      const r = await post(s, `/streams/${name}/events`, '1', { 'content-type': 'application/json' });
      expect(r.status, name).toBe(400);
      expect(r.json.error.code).toBe('invalid_stream_name');
      expect(r.json.error.message).toContain(STREAM_NAME_RULE);
    }
  });

  it('answers 415 for multipart and for CloudEvents formats it does not speak', async () => {
    for (const type of ['multipart/form-data; boundary=x', 'application/cloudevents+avro', 'application/cloudevents']) {
      const r = await post(s, '/streams/m/events', 'x', { 'content-type': type });
      expect(r.status, type).toBe(415);
      expect(r.json.error.code).toBe('unsupported_media_type');
    }
    const invalid = await post(s, '/streams/m/events', 'x', { 'content-type': 'not a media type' });
    expect(invalid.status).toBe(415);
    expect(invalid.json.error.code).toBe('unsupported_media_type');
    expect(await s.hub.getStream('m')).toBeUndefined();
  });

  it('answers 413 naming the limit for a body over http.bodyLimit, and 404 for unknown routes', async () => {
    const big = Buffer.alloc(s.config.http.bodyLimit + 1, 97);
    const r = await post(s, '/streams/big/events', big, { 'content-type': 'text/plain' });
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe('payload_too_large');
    expect(r.json.error.message).toContain(`${s.config.http.bodyLimit} bytes`);
    const exact = await post(s, '/streams/big/events', Buffer.alloc(s.config.http.bodyLimit, 97), { 'content-type': 'text/plain' });
    expect(exact.status).toBe(201);
    const none = await post(s, '/streams/x/eventz', '1', { 'content-type': 'application/json' });
    expect(none.status).toBe(404);
    expect(none.json).toEqual({ error: { code: 'not_found', message: 'no route for POST /streams/x/eventz' } });
  });
});

describe.each([{ fastPath: true }, { fastPath: false }])('createStreamsOnPublish off (fastPath $fastPath)', ({ fastPath }) => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ config: { http: { createStreamsOnPublish: false } }, fastPath });
  });
  afterAll(() => s.close());

  it('answers 404 stream_not_found for an absent stream, 201 once it exists', async () => {
    const r = await post(s, '/streams/absent/events', '1', { 'content-type': 'application/json' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('stream_not_found');
    expect(await s.hub.listStreams()).toEqual([]);
    const batch = await post(s, '/streams/absent/events', '1\n2\n', { 'content-type': 'application/x-ndjson' });
    expect(batch.status).toBe(404);
    expect(await s.hub.listStreams()).toEqual([]);
    await s.hub.createStream('absent');
    const ok = await post(s, '/streams/absent/events', '1', { 'content-type': 'application/json' });
    expect(ok.status).toBe(201);
    expect(ok.json.seq).toBe(1);
  });
});

describe('durability', () => {
  it('a 201 means the event is in LMDB: it is there after the store is reopened', async () => {
    const dir = tempDir();
    try {
      const s = await startServer({ store: new LmdbStore({ path: dir.path }) });
      const r = await post(s, '/streams/durable/events', '{"n":1}', { 'content-type': 'application/json', 'idempotency-key': 'd-1' });
      expect(r.status).toBe(201);
      await s.close();
      const hub = new Hub({ store: new LmdbStore({ path: dir.path }), retentionIntervalMs: 0 });
      await hub.start();
      const events = await hub.read('durable');
      expect(events.map((e) => [e.seq, e.id, Buffer.from(e.data).toString()])).toEqual([[1, 'd-1', '{"n":1}']]);
      await hub.close();
    } finally {
      dir.cleanup();
    }
  });

  it('answers 503 when the store is closed', async () => {
    const s = await startServer();
    await s.hub.store.close();
    const r = await post(s, '/streams/x/events', '1', { 'content-type': 'application/json' });
    expect(r.status).toBe(503);
    expect(r.json.error.code).toBe('store_closed');
    const ready = await s.request('/ready');
    expect(ready.status).toBe(503);
    const health = await s.request('/health');
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok' });
    await s.listener.stop();
  });
});
