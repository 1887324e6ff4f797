import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, eventIds, normalize, req, startEventBus, type Conn, type EbServer } from './helpers.js';

/**
 * Every operation and every error of compat.md §3, asserted byte for byte on the wire (ids and
 * times normalised to <uuid> and <time>).
 */

const UNKNOWN = `{"operation":"decode_request","status":false,"reason":"operation must be one of: 'health', 'create_stream', 'delete_stream', 'get_stream_info', 'get_stream_events', 'write_event', 'process_events', 'retry_events', 'retry_events', 'mark_event', 'exit'"}`;
const INVALID = '{"operation":"decode_request","status":false,"reason":"invalid json provided"}';
const STREAM_CTX = '"context":{"body":[{"name":"stream_name","type":"string","required":true}]},"reason":"missing required fields"}';

let server: EbServer;
let conn: Conn;

beforeAll(async () => {
  server = await startEventBus();
  conn = await server.open();
});
afterAll(async () => {
  conn.close();
  await server.close();
});

const ask = async (line: string): Promise<string> => normalize((await conn.ask(line))[0]!);

describe('the seed document sample requests', () => {
  it('health needs no auth', async () => {
    expect(await conn.ask('{"operation": "health"}')).toEqual(['{"operation":"health","status":true}']);
    expect(await conn.ask('{"operation": "health", "auth": {"client_id": "x"}, "body": 5}')).toEqual(['{"operation":"health","status":true}']);
  });

  it('create_stream, then the same name again', async () => {
    expect(await ask(req('create_stream', '{"stream_name": "steve"}'))).toBe('{"operation":"create_stream","status":true,"body":{"stream":{"id":"<uuid>","name":"steve","created_at":"<time>"}}}');
    expect(await ask(req('create_stream', '{"stream_name": "steve"}'))).toBe(`{"operation":"create_stream","status":false,"reason":"stream: 'steve' already exists"}`);
  });

  it('get_stream_info answers the stream created, with the same id', async () => {
    const created = JSON.parse((await conn.ask(req('create_stream', '{"stream_name": "john"}')))[0]!) as { body: { stream: { id: string; created_at: string } } };
    const [info] = await conn.ask(req('get_stream_info', '{"stream_name": "john"}'));
    expect(info).toBe(`{"operation":"get_stream_info","status":true,"body":{"stream":{"id":"${created.body.stream.id}","name":"john","created_at":"${created.body.stream.created_at}"}}}`);
    expect(created.body.stream.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$/);
  });

  it('write_event answers without an id; the events come back in write order, unprocessed', async () => {
    const writes = [1, 2, 3, 4, 5].map((n) => req('write_event', `{"stream_name": "steve", "event": {"e${n}": "event ${n} value"}}`));
    expect(await conn.ask(...writes)).toEqual(Array(5).fill('{"operation":"write_event","status":true}'));
    const [events] = await conn.ask(req('process_events', '{"stream_name": "steve"}'));
    expect(normalize(events!)).toBe(
      `{"operation":"process_events","status":true,"body":{"events":[${[1, 2, 3, 4, 5]
        .map((n) => `{"id":"<uuid>","stream_id":"<uuid>","status":0,"created_at":"<time>","body":{"e${n}":"event ${n} value"}}`)
        .join(',')}]}}`,
    );
    const streamId = (JSON.parse((await conn.ask(req('get_stream_info', '{"stream_name": "steve"}')))[0]!) as { body: { stream: { id: string } } }).body.stream.id;
    expect(JSON.parse(events!).body.events.every((e: { stream_id: string }) => e.stream_id === streamId)).toBe(true);
  });

  it('mark_event: processed leaves process_events, retry moves to retry_events, 0 brings it back', async () => {
    const [events] = await conn.ask(req('process_events', '{"stream_name": "steve"}'));
    const [e1, e2, e3] = eventIds(events!);
    expect(await conn.ask(req('mark_event', `{"event_id": "${e1}", "status": 1}`), req('mark_event', `{"event_id": "${e2}", "status": 2}`))).toEqual([
      '{"operation":"mark_event","status":true}',
      '{"operation":"mark_event","status":true}',
    ]);
    const [pending, retry, all] = await conn.ask(req('process_events', '{"stream_name": "steve"}'), req('retry_events', '{"stream_name": "steve"}'), req('get_stream_events', '{"stream_name": "steve"}'));
    expect(eventIds(pending!)).toEqual(eventIds(events!).slice(2));
    expect(normalize(retry!)).toBe('{"operation":"retry_events","status":true,"body":{"events":[{"id":"<uuid>","stream_id":"<uuid>","status":2,"created_at":"<time>","body":{"e2":"event 2 value"}}]}}');
    expect(eventIds(retry!)).toEqual([e2]);
    expect(JSON.parse(all!).body.events.map((e: { status: number }) => e.status)).toEqual([1, 2, 0, 0, 0]);
    expect(all!.startsWith('{"operation":"get_stream_events","status":true,"body":{"events":[{"id":')).toBe(true);
    // A missing status is 0: the event is unprocessed again.
    await conn.ask(req('mark_event', `{"event_id": "${e1}"}`), req('mark_event', `{"event_id": "${e3}", "status": 1}`));
    expect(eventIds((await conn.ask(req('process_events', '{"stream_name": "steve"}')))[0]!)).toEqual([e1, ...eventIds(events!).slice(3)]);
  });

  it('delete_stream removes the stream and its events', async () => {
    expect(await conn.ask(req('delete_stream', '{"stream_name": "john"}'))).toEqual(['{"operation":"delete_stream","status":true}']);
    expect(await conn.ask(req('delete_stream', '{"stream_name": "john"}'))).toEqual([`{"operation":"delete_stream","status":false,"reason":"stream 'john' not found"}`]);
    expect(await conn.ask(req('get_stream_events', '{"stream_name": "john"}'))).toEqual([`{"operation":"get_stream_events","status":false,"reason":"stream 'john' not found"}`]);
  });

  it('exit answers, then the server closes the connection (later lines are not read)', async () => {
    const other = await server.open();
    other.send('{"operation": "exit"}\n{"operation": "health"}\n');
    await other.closed;
    expect(other.received).toBe('{"operation":"exit","status":true}\n');
  });
});

describe('errors, with the exact reason texts', () => {
  it('invalid JSON keeps the connection usable', async () => {
    expect(await conn.ask('not json', '{"operation":', '   ', '[1,2]', '"health"', '5')).toEqual(Array(6).fill(INVALID));
    expect(await conn.ask('{"operation":"health"}')).toEqual(['{"operation":"health","status":true}']);
  });

  it('an unknown, missing or null operation', async () => {
    expect(await conn.ask('{}', '{"operation":"nope"}', 'null', '{"operation":null}', '{"operation":"HEALTH"}')).toEqual(Array(5).fill(UNKNOWN));
  });

  it('a wrongly typed request field is invalid json', async () => {
    expect(await conn.ask('{"operation":5}', '{"operation":"health","auth":"x"}', '{"operation":"health","auth":{"client_id":1}}')).toEqual(Array(3).fill(INVALID));
  });

  it('bad or missing credentials', async () => {
    for (const auth of ['', ', "auth": {"client_id": "dope_go_client_id", "client_secret": "wrong"}', ', "auth": {"client_id": "other", "client_secret": "dope_go_client_secret"}', ', "auth": null']) {
      expect(await conn.ask(`{"operation": "get_stream_info"${auth}, "body": {"stream_name": "steve"}}`)).toEqual(['{"operation":"get_stream_info","status":false,"reason":"unauthorized to make request"}']);
    }
  });

  it('auth is checked before the body', async () => {
    expect(await conn.ask('{"operation": "write_event"}')).toEqual(['{"operation":"write_event","status":false,"reason":"unauthorized to make request"}']);
  });

  it('a missing body names the required fields of each operation', async () => {
    for (const op of ['create_stream', 'delete_stream', 'get_stream_info', 'get_stream_events', 'process_events', 'retry_events']) {
      expect(await conn.ask(req(op))).toEqual([`{"operation":"${op}","status":false,${STREAM_CTX}`]);
    }
    expect(await conn.ask(req('write_event'))).toEqual([
      '{"operation":"write_event","status":false,"context":{"body":[{"name":"stream_name","type":"string","required":true},{"name":"event","type":"[]byte","required":true}]},"reason":"missing required fields"}',
    ]);
    expect(await conn.ask(req('mark_event'))).toEqual([
      '{"operation":"mark_event","status":false,"context":{"body":[{"name":"event_id","type":"string","required":true},{"name":"status","type":"uint8","required":true}]},"reason":"missing required fields"}',
    ]);
  });

  it('a body of the wrong shape is invalid json, with the real operation', async () => {
    for (const [op, body] of [
      ['create_stream', '"steve"'],
      ['get_stream_info', '{"stream_name": 5}'],
      ['write_event', '[1]'],
      ['mark_event', '{"event_id": "x", "status": 300}'],
      ['mark_event', '{"event_id": "x", "status": "1"}'],
      ['mark_event', '{"event_id": "x", "status": -1}'],
      ['mark_event', '{"event_id": "x", "status": 1.0}'],
      ['mark_event', '{"event_id": 7, "status": 1}'],
    ] as const) {
      expect(await conn.ask(req(op, body))).toEqual([`{"operation":"${op}","status":false,"reason":"invalid json provided"}`]);
    }
  });

  it('a status outside 0, 1, 2', async () => {
    expect(await conn.ask(req('mark_event', '{"event_id": "x", "status": 3}'), req('mark_event', '{"event_id": "x", "status": 255}'))).toEqual(
      Array(2).fill(`{"operation":"mark_event","status":false,"reason":"status must be one of: 0 - unprocessed', '1 - processed', '2 - retry"}`),
    );
  });

  it('not found: streams and events', async () => {
    expect(await conn.ask(req('write_event', '{"stream_name": "nope", "event": {}}'), req('process_events', '{"stream_name": "nope"}'), req('retry_events', '{"stream_name": "nope"}'), req('get_stream_info', '{"stream_name": "nope"}'))).toEqual([
      `{"operation":"write_event","status":false,"reason":"stream 'nope' not found"}`,
      `{"operation":"process_events","status":false,"reason":"stream 'nope' not found"}`,
      `{"operation":"retry_events","status":false,"reason":"stream 'nope' not found"}`,
      `{"operation":"get_stream_info","status":false,"reason":"stream 'nope' not found"}`,
    ]);
    expect(await conn.ask(req('mark_event', '{"event_id": "1b78ca67-d916-4059-a299-1ebf49664eb2", "status": 1}'))).toEqual([
      `{"operation":"mark_event","status":false,"reason":"event '1b78ca67-d916-4059-a299-1ebf49664eb2' not found"}`,
    ]);
  });
});

describe('decoding like Go', () => {
  it('keys match case-insensitively (ſ for s, the Kelvin sign for k), the later key wins, unknown keys are ignored', async () => {
    expect(await conn.ask(`{"OPERATION": "health"}`, `{"Operation": "nope", "operation": "health", "extra": [1, {"a": null}]}`)).toEqual(Array(2).fill('{"operation":"health","status":true}'));
    const auth = `"AUTH": {"Client_ID": "dope_go_client_id", "client_ſecret": "dope_go_client_secret"}`;
    expect(await conn.ask(`{"operation": "get_stream_info", ${auth}, "Body": {"\\u0073tream_name": "steve"}}`)).toEqual([expect.stringContaining('"status":true')]);
    expect(await conn.ask(`{"operation": "create_stream", ${AUTH}, "body": {"stream_name": "kelvin-\u212a", "STREAM_NAME": "kelvin"}}`)).toEqual([expect.stringContaining('"name":"kelvin"')]);
  });

  it('only the first JSON value of a line counts; a trailing CR and leading blanks are fine; empty lines get no reply', async () => {
    conn.send('\n\r\n  {"operation":"health"} trailing garbage {\r\n\t{"operation":"health"}{"operation":"exit"}\n');
    const replies = await conn.waitFor(conn.replies.length + 2);
    expect(replies.slice(-2)).toEqual(Array(2).fill('{"operation":"health","status":true}'));
    expect(await conn.ask('{"operation":"health"}')).toEqual(['{"operation":"health","status":true}']);
  });

  it('body null or {} is accepted with empty fields: a stream named ""', async () => {
    expect(await ask(req('create_stream', 'null'))).toBe('{"operation":"create_stream","status":true,"body":{"stream":{"id":"<uuid>","name":"","created_at":"<time>"}}}');
    expect(await ask(req('get_stream_info', '{}'))).toBe('{"operation":"get_stream_info","status":true,"body":{"stream":{"id":"<uuid>","name":"","created_at":"<time>"}}}');
  });

  it('any stream name works, even ones Herald does not allow itself', async () => {
    const name = 'my stream/ü<&>"\\';
    const quoted = JSON.stringify(name);
    expect(await ask(req('create_stream', `{"stream_name": ${quoted}}`))).toBe(`{"operation":"create_stream","status":true,"body":{"stream":{"id":"<uuid>","name":"my stream/ü\\u003c\\u0026\\u003e\\"\\\\","created_at":"<time>"}}}`);
    expect(await conn.ask(req('write_event', `{"stream_name": ${quoted}, "event": 1}`))).toEqual(['{"operation":"write_event","status":true}']);
    expect(await ask(req('get_stream_events', `{"stream_name": ${quoted}}`))).toContain('"body":1}]}}');
    expect(await conn.ask(req('get_stream_info', '{"stream_name": "x<y"}'))).toEqual([`{"operation":"get_stream_info","status":false,"reason":"stream 'x\\u003cy' not found"}`]);
    expect(await server.hub.getStream('_~my~20stream~2F~C3~BC~3C~26~3E~22~5C')).toBeDefined();
  });

  it('events are stored compacted with their number text; written back HTML-escaped; a missing event is null', async () => {
    await conn.ask(req('create_stream', '{"stream_name": "bodies"}'));
    const bodies = ['{ "price" : 2.50, "tags": [ "a<b", "c&d" ] }', '"\\u0041\\/x"', '1e3', 'true', '[]', '"line\\u2028sep\u2029"'];
    await conn.ask(...bodies.map((b) => req('write_event', `{"stream_name": "bodies", "event": ${b}}`)), req('write_event', '{"stream_name": "bodies"}'));
    const events = JSON.parse((await conn.ask(req('get_stream_events', '{"stream_name": "bodies"}')))[0]!) as { body: { events: unknown[] } };
    expect(events.body.events).toHaveLength(7);
    const raw = (await conn.ask(req('get_stream_events', '{"stream_name": "bodies"}')))[0]!;
    const bodiesOnWire = [...raw.matchAll(/"created_at":"[^"]*","body":(.*?)}(?=,\{"id"|]})/g)].map((m) => m[1]);
    expect(bodiesOnWire).toEqual(['{"price":2.50,"tags":["a\\u003cb","c\\u0026d"]}', '"\\u0041\\/x"', '1e3', 'true', '[]', '"line\\u2028sep\\u2029"', 'null']);
    const stored = await server.hub.read('bodies');
    expect(Buffer.from(stored[0]!.data).toString()).toBe('{"price":2.50,"tags":["a<b","c&d"]}');
    expect(stored[0]!.contentType).toBe('application/json');
  });
});
