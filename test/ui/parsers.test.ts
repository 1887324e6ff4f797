import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SseParser, type SseFrame } from '../../web/src/sse.js';
import { countStatuses } from '../../src/protocols/http/routes/eventbusStatus.js';
import { startHub, type TestHerald } from '../webhooks/helpers.js';
import { buildDashboard } from './browser.js';

describe("the dashboard's SSE parser (fuzzed)", () => {
  const line = fc.string({ unit: fc.constantFrom('a', 'b', ' ', ':', '{', '"', 'é', '1') });
  const frame = fc.record({ id: fc.option(fc.stringMatching(/^[0-9]{1,6}$/), { nil: undefined }), event: fc.option(fc.stringMatching(/^[a-z.]{1,10}$/), { nil: undefined }), data: fc.array(line, { minLength: 1, maxLength: 4 }) });
  const eol = fc.constantFrom('\n', '\r', '\r\n');

  it('yields the frames written, whatever the line ends and however the text is split', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(frame, eol, fc.boolean()), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        let text = '';
        const expected: SseFrame[] = [];
        let id: string | undefined;
        for (const [f, nl, comment] of frames) {
          if (comment) text += `: heartbeat${nl}`;
          if (f.id !== undefined) {
            text += `id: ${f.id}${nl}`;
            id = f.id;
          }
          if (f.event !== undefined) text += `event: ${f.event}${nl}`;
          for (const d of f.data) text += `data: ${d}${nl}`;
          text += nl;
          expected.push({ id, event: f.event ?? 'message', data: f.data.join('\n') });
        }
        const got: SseFrame[] = [];
        const parser = new SseParser((x) => got.push(x));
        const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
        let at = 0;
        for (const p of [...points, text.length]) {
          parser.push(text.slice(at, p));
          at = p;
        }
        expect(got).toEqual(expected);
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(fc.property(fc.array(fc.string()), (chunks) => {
      const parser = new SseParser(() => {});
      for (const c of chunks) parser.push(c);
    }));
  });
});

describe('event-bus status counts (fuzzed against a per-event count)', () => {
  it('equals counting each stored event one by one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 70 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 70 }), fc.constantFrom(0, 1, 2)), { maxLength: 30 }), (firstSeq, length, watermark, marks) => {
        const lastSeq = firstSeq + length - 1;
        const state = { watermark, marks: new Map(marks as Array<[number, 0 | 1 | 2]>) };
        const brute = { events: 0, unprocessed: 0, processed: 0, retry: 0 };
        for (let seq = firstSeq; seq <= lastSeq; seq++) {
          const status = state.marks.get(seq) ?? (seq <= watermark ? 1 : 0);
          brute.events++;
          if (status === 0) brute.unprocessed++;
          else if (status === 1) brute.processed++;
          else brute.retry++;
        }
        expect(countStatuses({ firstSeq, lastSeq }, state)).toEqual(brute);
      }),
    );
  });
});

describe('the dashboard files', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    await buildDashboard();
    herald = await startHub();
  });
  afterAll(async () => herald?.close());

  it('are served compressed (br, gzip) with ETags and cache headers, and the script is under 200 KB gzipped', async () => {
    const page = await herald.request('/ui/', { headers: { 'accept-encoding': 'identity' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="\.\/([^"]+\.js)"/.exec(page.text)![1]!;
    const raw = await fetch(`${herald.url}/ui/${script}`, { headers: { 'accept-encoding': 'identity' } });
    const plain = Buffer.from(await raw.arrayBuffer());
    expect(raw.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(raw.headers.get('vary')).toBe('accept-encoding');
    // undici's fetch would decode: read the compressed bodies through node:http semantics via decompress=false.
    const { request } = await import('undici');
    for (const [encoding, decode] of [['gzip', gunzipSync], ['br', brotliDecompressSync]] as const) {
      const r = await request(`${herald.url}/ui/${script}`, { headers: { 'accept-encoding': encoding } });
      expect(r.headers['content-encoding']).toBe(encoding);
      const body = Buffer.from(await r.body.arrayBuffer());
      expect(decode(body).equals(plain)).toBe(true);
      if (encoding === 'gzip') expect(body.length).toBeLessThan(200 * 1024);
    }
    const etag = raw.headers.get('etag')!;
    const again = await herald.request(`/ui/${script}`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect((await herald.request('/ui/../package.json')).status).toBe(404);
  });
});
