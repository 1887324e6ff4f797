import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAM_NAME_RULE } from '../../src/core/names.js';
import { post, snapshot, startServer, type Server } from './helpers.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('streams API', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ store: 'lmdb' });
  });
  afterAll(() => s.close());

  it('PUT creates (201) then updates (200); GET shows the info', async () => {
    const created = await s.request('/streams/orders', { method: 'PUT', body: JSON.stringify({ retention: { maxCount: 10 } }), headers: JSON_HEADERS });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'orders', count: 0, firstSeq: 1, lastSeq: 0, bytes: 0, retention: { maxCount: 10 } });
    expect(Number.isNaN(Date.parse(created.json.created))).toBe(false);
    const updated = await s.request('/streams/orders', { method: 'PUT', body: JSON.stringify({ retention: { maxAgeMs: 60000 } }), headers: JSON_HEADERS });
    expect(updated.status).toBe(200);
    expect(updated.json.retention).toEqual({ maxAgeMs: 60000 });
    await post(s, '/streams/orders/events', '{"n":1}', JSON_HEADERS);
    const info = await s.request('/streams/orders');
    expect(info.status).toBe(200);
    expect(info.json).toEqual({ name: 'orders', created: created.json.created, count: 1, firstSeq: 1, lastSeq: 1, bytes: 7, retention: { maxAgeMs: 60000 } });
    const empty = await s.request('/streams/plain', { method: 'PUT' });
    expect(empty.status).toBe(201);
    expect(empty.json.retention).toEqual({});
  });

  it('PUT rejects unknown fields naming them, bad values, and non-JSON bodies', async () => {
    const before = await snapshot(s.hub);
    const top = await s.request('/streams/p1', { method: 'PUT', body: '{"retention":{},"colour":"red"}', headers: JSON_HEADERS });
    expect(top.status).toBe(400);
    expect(top.json.error.code).toBe('bad_request');
    expect(top.json.error.message).toBe('unknown field "colour" in the body (allowed: retention)');
    const nested = await s.request('/streams/p1', { method: 'PUT', body: '{"retention":{"maxCnt":3}}', headers: JSON_HEADERS });
    expect(nested.status).toBe(400);
    expect(nested.json.error.message).toBe('unknown field "retention.maxCnt" in the body (allowed: maxCount, maxAgeMs)');
    const negative = await s.request('/streams/p1', { method: 'PUT', body: '{"retention":{"maxCount":-1}}', headers: JSON_HEADERS });
    expect(negative.status).toBe(400);
    expect(negative.json.error.message).toMatch(/^field "retention.maxCount": /);
    const broken = await s.request('/streams/p1', { method: 'PUT', body: '{', headers: JSON_HEADERS });
    expect(broken.status).toBe(400);
    expect(broken.json.error.code).toBe('invalid_json');
    const xml = await s.request('/streams/p1', { method: 'PUT', body: '<a/>', headers: { 'content-type': 'application/xml' } });
    expect(xml.status).toBe(415);
    const badName = await s.request('/streams/~x', { method: 'PUT' });
    expect(badName.status).toBe(400);
    expect(badName.json.error.message).toContain(STREAM_NAME_RULE);
    expect(await snapshot(s.hub)).toBe(before);
  });

  it('GET /streams lists infos; GET of an absent stream is 404', async () => {
    const list = await s.request('/streams');
    expect(list.status).toBe(200);
    const names = list.json.streams.map((i: { name: string }) => i.name);
    expect(names).toEqual((await s.hub.listStreams()).map((i) => i.name));
    expect(names).toContain('orders');
    const absent = await s.request('/streams/nope');
    expect(absent.status).toBe(404);
    expect(absent.json).toEqual({ error: { code: 'stream_not_found', message: 'stream "nope" does not exist' } });
  });

  it('DELETE answers 204, then 404', async () => {
    await post(s, '/streams/gone/events', '1', JSON_HEADERS);
    const del = await s.request('/streams/gone', { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect(await s.hub.getStream('gone')).toBeUndefined();
    const again = await s.request('/streams/gone', { method: 'DELETE' });
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('stream_not_found');
  });
});

describe('GET /streams/:stream/events', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.close());

  it('renders JSON as values, text as strings, other bytes as data_base64', async () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x0a]);
    await post(s, '/streams/r/events', '{"a":[1,{"b":null}]}', { 'content-type': 'application/json', 'ce-type': 't', 'ce-subject': 'sub', 'ce-source': '/src' });
    await post(s, '/streams/r/events', 'héllo\n', { 'content-type': 'text/plain; charset=utf-8' });
    await post(s, '/streams/r/events', bytes, { 'content-type': 'application/octet-stream' });
    await post(s, '/streams/r/events', Buffer.from([0xff, 0xfe]), { 'content-type': 'text/plain' }); // not UTF-8
    const r = await s.request('/streams/r/events');
    expect(r.status).toBe(200);
    const stored = await s.hub.read('r');
    expect(r.json).toEqual({
      events: [
        { stream: 'r', seq: 1, id: stored[0]!.id, type: 't', time: stored[0]!.time, subject: 'sub', contentType: 'application/json', headers: { 'ce-source': '/src' }, data: { a: [1, { b: null }] } },
        { stream: 'r', seq: 2, id: stored[1]!.id, type: 'message', time: stored[1]!.time, contentType: 'text/plain; charset=utf-8', data: 'héllo\n' },
        { stream: 'r', seq: 3, id: stored[2]!.id, type: 'message', time: stored[2]!.time, contentType: 'application/octet-stream', data_base64: '3q2+7wAK' },
        { stream: 'r', seq: 4, id: stored[3]!.id, type: 'message', time: stored[3]!.time, contentType: 'text/plain', data_base64: '//4=' },
      ],
      next: 4,
    });
    expect(Buffer.from(r.json.events[2].data_base64, 'base64').equals(bytes)).toBe(true);
  });

  it('pages with after and limit; next is the seq to pass as after', async () => {
    for (let i = 0; i < 5; i++) await post(s, '/streams/p/events', String(i), { 'content-type': 'application/json' });
    const page1 = await s.request('/streams/p/events?limit=2');
    expect(page1.json.events.map((e: { seq: number; data: number }) => [e.seq, e.data])).toEqual([[1, 0], [2, 1]]);
    expect(page1.json.next).toBe(2);
    const page2 = await s.request(`/streams/p/events?after=${page1.json.next}&limit=2`);
    expect(page2.json.events.map((e: { seq: number }) => e.seq)).toEqual([3, 4]);
    const rest = await s.request('/streams/p/events?after=4');
    expect(rest.json.events.map((e: { seq: number }) => e.seq)).toEqual([5]);
    const end = await s.request('/streams/p/events?after=5');
    expect(end.json).toEqual({ events: [], next: 5 });
  });

  it('limit defaults to 100 and is capped at 1000', async () => {
    const lines = Array.from({ length: 150 }, (_, i) => String(i)).join('\n');
    await post(s, '/streams/many/events', lines, { 'content-type': 'application/x-ndjson' });
    const page = await s.request('/streams/many/events');
    expect(page.json.events).toHaveLength(100);
    expect(page.json.next).toBe(100);
    const big = await s.request('/streams/many/events?limit=1000');
    expect(big.json.events).toHaveLength(150);
  });

  it('bad after/limit values are 400; an absent stream is 404', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'after=-1', 'after=1.5', 'limit=2&limit=3', 'after=99999999999999999999', 'after=0x10', 'limit=1e2', 'after=', 'after=%201']) {
      const r = await s.request(`/streams/p/events?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.json.error.code).toBe('bad_request');
    }
    const absent = await s.request('/streams/absent/events');
    expect(absent.status).toBe(404);
    expect(absent.json.error.code).toBe('stream_not_found');
  });
});

describe('CloudEvents structured mode', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.close());
  const CE = { 'content-type': 'application/cloudevents+json; charset=utf-8' };

  it('maps attributes; data (JSON) is stored as its JSON bytes', async () => {
    const ce = { specversion: '1.0', id: 's-1', type: 'com.example.created', source: 'urn:x', subject: 'o-1', time: '2024-05-06T07:08:09Z', dataschema: 'urn:schema', traceparent: 'tp', count: 3, flag: true, data: { z: 1, a: 'é' } };
    const r = await post(s, '/streams/st/events', JSON.stringify(ce), CE);
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ id: 's-1', stream: 'st', seq: 1 });
    const [e] = await s.hub.read('st');
    expect(e).toMatchObject({ id: 's-1', type: 'com.example.created', subject: 'o-1', contentType: 'application/json' });
    expect(Buffer.from(e!.data).toString()).toBe('{"z":1,"a":"é"}');
    expect(e!.headers).toEqual({
      'ce-specversion': '1.0', 'ce-source': 'urn:x', 'ce-time': '2024-05-06T07:08:09Z', 'ce-dataschema': 'urn:schema',
      'ce-traceparent': 'tp', 'ce-count': '3', 'ce-flag': 'true',
    });
  });

  it('data_base64 → raw bytes; text data with a non-JSON datacontenttype → its UTF-8 bytes', async () => {
    const r1 = await post(s, '/streams/st2/events', JSON.stringify({ id: 'b64', data_base64: 'AAEC/w==', datacontenttype: 'image/png' }), CE);
    expect(r1.status).toBe(201);
    const r2 = await post(s, '/streams/st2/events', JSON.stringify({ id: 'txt', data: '<a/>', datacontenttype: 'application/xml' }), CE);
    expect(r2.status).toBe(201);
    const r3 = await post(s, '/streams/st2/events', JSON.stringify({ id: 'none', type: 'ping' }), CE);
    expect(r3.status).toBe(201);
    const events = await s.hub.read('st2');
    expect(events.map((e) => [e.id, e.contentType, Buffer.from(e.data).toString('hex')])).toEqual([
      ['b64', 'image/png', '000102ff'],
      ['txt', 'application/xml', Buffer.from('<a/>').toString('hex')],
      ['none', 'application/octet-stream', ''],
    ]);
  });

  it('Idempotency-Key wins over the event id; a repeat answers 200', async () => {
    const body = JSON.stringify({ id: 'own-id', data: 1 });
    const r = await post(s, '/streams/st3/events', body, { ...CE, 'idempotency-key': 'ik' });
    expect(r.json).toEqual({ id: 'ik', stream: 'st3', seq: 1 });
    expect((await s.hub.read('st3'))[0]!.headers).toEqual({ 'ce-id': 'own-id' });
    const again = await post(s, '/streams/st3/events', body, { ...CE, 'idempotency-key': 'ik' });
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ id: 'ik', stream: 'st3', seq: 1 });
  });

  it('rejects malformed CloudEvents with 400, storing nothing', async () => {
    const before = await snapshot(s.hub);
    const cases: Array<[string, string]> = [
      ['[]', 'the body: a structured CloudEvent must be a JSON object'],
      ['{"data":1,"data_base64":"AA=="}', 'the body: give "data" or "data_base64", not both'],
      ['{"data_base64":"not base64!"}', 'the body: "data_base64" must be a base64 string'],
      ['{"type":5}', 'the body: attribute "type" must be a string'],
      ['{"Bad_Name":"x"}', 'the body: invalid attribute name "Bad_Name": lower-case letters and digits only'],
      ['{"ext":{"nested":1}}', 'the body: attribute "ext" must be a string, number or boolean'],
      ['{"datacontenttype":"text/plain","data":{"a":1}}', 'the body: "data" must be a string when datacontenttype is not JSON ("text/plain"); use "data_base64" for bytes'],
    ];
    for (const [body, message] of cases) {
      const r = await post(s, '/streams/bad/events', body, CE);
      expect(r.status, body).toBe(400);
      expect(r.json.error).toEqual({ code: 'bad_request', message });
    }
    const notJson = await post(s, '/streams/bad/events', '{', CE);
    expect(notJson.json.error.code).toBe('invalid_json');
    expect(await snapshot(s.hub)).toBe(before);
  });
});
