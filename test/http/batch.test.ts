import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, snapshot, startServer, UUID_V7, type Server } from './helpers.js';

const NDJSON = { 'content-type': 'application/x-ndjson' };
const CE_BATCH = { 'content-type': 'application/cloudevents-batch+json' };

describe('batches', () => {
  let s: Server;
  beforeAll(async () => {
    s = await startServer({ store: 'lmdb', config: { http: { maxBatchEvents: 5 } } });
  });
  afterAll(() => s.close());

  it('NDJSON: one event per non-blank line, stored as application/json bytes of the line, in one commit', async () => {
    await post(s, '/streams/nd/events', '0', { 'content-type': 'application/json' }); // seq 1
    const commitsBefore = await commitCount(s);
    const body = '{"a":1}\r\n\n  \n[1, 2]\n"x"'; // CRLF, a blank and a whitespace-only line, no final newline
    const r = await post(s, '/streams/nd/events', body, NDJSON);
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ stream: 'nd', count: 3, stored: 3, firstSeq: 2, lastSeq: 4 });
    expect(r.json.ids).toHaveLength(3);
    for (const id of r.json.ids) expect(id).toMatch(UUID_V7);
    expect(r.json.duplicates).toBeUndefined();
    expect(await commitCount(s)).toBe(commitsBefore + 1);
    const events = await s.hub.read('nd', { after: 1 });
    expect(events.map((e) => [e.seq, e.id, e.contentType, Buffer.from(e.data).toString()])).toEqual([
      [2, r.json.ids[0], 'application/json', '{"a":1}'],
      [3, r.json.ids[1], 'application/json', '[1, 2]'],
      [4, r.json.ids[2], 'application/json', '"x"'],
    ]);
  });

  it('NDJSON: a bad line fails the whole request with 400 naming the line, nothing stored', async () => {
    const before = await snapshot(s.hub);
    const r = await post(s, '/streams/nd2/events', '{"ok":1}\n\n{"bad":\n3', NDJSON);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('invalid_json');
    expect(r.json.error.message).toMatch(/^line 3 is not valid JSON/);
    expect(await snapshot(s.hub)).toBe(before);
  });

  it('an empty batch is 400; more than maxBatchEvents is 413', async () => {
    const before = await snapshot(s.hub);
    const empty = await post(s, '/streams/nd3/events', '\n \n', NDJSON);
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toBe('the batch holds no events');
    const six = await post(s, '/streams/nd3/events', '1\n2\n3\n4\n5\n6\n', NDJSON);
    expect(six.status).toBe(413);
    expect(six.json.error.code).toBe('payload_too_large');
    expect(six.json.error.message).toContain('the limit is 5');
    const five = await post(s, '/streams/nd3/events', '1\n2\n3\n4\n5\n', NDJSON);
    expect(five.status).toBe(201);
    const ce = await post(s, '/streams/nd4/events', JSON.stringify(Array.from({ length: 6 }, (_, i) => ({ id: `c${i}` }))), CE_BATCH);
    expect(ce.status).toBe(413);
    expect(ce.json.error.message).toContain('holds 6 events; the limit is 5');
    const after = JSON.parse(await snapshot(s.hub));
    expect(after.streams.map((x: { name: string }) => x.name)).toEqual([...JSON.parse(before).streams.map((x: { name: string }) => x.name), 'nd3'].sort());
  });

  it('CloudEvents batch: an array of structured events, consecutive seqs', async () => {
    const batch = [
      { specversion: '1.0', id: 'b-1', type: 't.one', source: '/s', data: { n: 1 } },
      { specversion: '1.0', id: 'b-2', type: 't.two', source: '/s', subject: 'sub', datacontenttype: 'text/plain', data: 'hello' },
      { specversion: '1.0', id: 'b-3', type: 't.three', source: '/s', data_base64: Buffer.from([0, 1, 2, 255]).toString('base64') },
    ];
    const r = await post(s, '/streams/ceb/events', JSON.stringify(batch), CE_BATCH);
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ stream: 'ceb', count: 3, stored: 3, firstSeq: 1, lastSeq: 3, ids: ['b-1', 'b-2', 'b-3'] });
    const events = await s.hub.read('ceb');
    expect(events.map((e) => [e.seq, e.id, e.type, e.subject, e.contentType, Buffer.from(e.data).toString('hex'), e.headers])).toEqual([
      [1, 'b-1', 't.one', undefined, 'application/json', Buffer.from('{"n":1}').toString('hex'), { 'ce-specversion': '1.0', 'ce-source': '/s' }],
      [2, 'b-2', 't.two', 'sub', 'text/plain', Buffer.from('hello').toString('hex'), { 'ce-specversion': '1.0', 'ce-source': '/s' }],
      [3, 'b-3', 't.three', undefined, 'application/octet-stream', '000102ff', { 'ce-specversion': '1.0', 'ce-source': '/s' }],
    ]);
  });

  it('CloudEvents batch: a bad event is 400 naming its index, nothing stored', async () => {
    const before = await snapshot(s.hub);
    const r = await post(s, '/streams/ceb2/events', JSON.stringify([{ id: 'ok' }, { id: 7 }]), CE_BATCH);
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe('event at index 1: attribute "id" must be a string');
    const notArray = await post(s, '/streams/ceb2/events', '{"id":"x"}', CE_BATCH);
    expect(notArray.status).toBe(400);
    const broken = await post(s, '/streams/ceb2/events', '[', CE_BATCH);
    expect(broken.status).toBe(400);
    expect(broken.json.error.code).toBe('invalid_json');
    expect(await snapshot(s.hub)).toBe(before);
  });

  it('duplicates in a batch are listed with their original position; all-duplicate batches answer 200', async () => {
    const first = await post(s, '/streams/dup/events', '1\n2\n', { ...NDJSON, 'idempotency-key': 'batch-1' });
    expect(first.status).toBe(201);
    expect(first.json).toEqual({ stream: 'dup', count: 2, stored: 2, firstSeq: 1, lastSeq: 2, ids: ['batch-1:0', 'batch-1:1'] });
    const retry = await post(s, '/streams/dup/events', '1\n2\n', { ...NDJSON, 'idempotency-key': 'batch-1' });
    expect(retry.status).toBe(200);
    expect(retry.json).toEqual({
      stream: 'dup', count: 2, stored: 0, firstSeq: null, lastSeq: null, ids: ['batch-1:0', 'batch-1:1'],
      duplicates: [{ index: 0, stream: 'dup', seq: 1 }, { index: 1, stream: 'dup', seq: 2 }],
    });
    const mixed = await post(s, '/streams/dup/events', JSON.stringify([{ id: 'new-1' }, { id: 'batch-1:1' }, { id: 'new-2' }, { id: 'new-1' }]), CE_BATCH);
    expect(mixed.status).toBe(201);
    expect(mixed.json).toEqual({
      stream: 'dup', count: 4, stored: 2, firstSeq: 3, lastSeq: 4, ids: ['new-1', 'batch-1:1', 'new-2', 'new-1'],
      duplicates: [{ index: 1, stream: 'dup', seq: 2 }, { index: 3, stream: 'dup', seq: 3 }],
    });
    expect((await s.hub.getStream('dup'))!.count).toBe(4);
  });

  it('a CloudEvents batch with an Idempotency-Key names only the events without an id', async () => {
    const r = await post(s, '/streams/keyed/events', JSON.stringify([{ type: 'a' }, { id: 'own', type: 'b' }]), { ...CE_BATCH, 'idempotency-key': 'K' });
    expect(r.status).toBe(201);
    expect(r.json.ids).toEqual(['K:0', 'own']);
  });
});

async function commitCount(s: Server): Promise<number> {
  const m = await s.hub.metrics.commitDuration.get();
  return m.values.find((v) => v.metricName === 'herald_commit_duration_seconds_count')!.value;
}
