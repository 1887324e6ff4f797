import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ResponseParseError, ResponseParser, type ParsedResponse } from '../../src/delivery/webhooks/http1/responseParser.js';

const LIMITS = { maxHeaderBytes: 4096, maxBodyBytes: 4096, keepBodyBytes: 64 };

type Framing = 'length' | 'chunked' | 'close';

/** A well-formed response, serialized from a model. */
const response = fc.record({
  interim: fc.boolean(),
  // 204 and 304 never have a body (checked below).
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  reason: fc.constantFrom('', ' OK', ' Some Reason'),
  headers: fc.array(fc.tuple(fc.stringMatching(/^x-[a-z0-9-]{1,10}$/), fc.stringMatching(/^[ -~]{0,20}$/)), { maxLength: 5 }),
  body: fc.uint8Array({ maxLength: 600 }),
  framing: fc.constantFrom<Framing>('length', 'chunked', 'close'),
  chunkSizes: fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 8 }),
  lf: fc.boolean(),
});

function serialize(r: { interim: boolean; status: number; reason: string; headers: Array<[string, string]>; body: Uint8Array; framing: Framing; chunkSizes: number[]; lf: boolean }): Buffer {
  const eol = r.lf ? '\n' : '\r\n';
  let head = r.interim ? `HTTP/1.1 100 Continue${eol}${eol}` : '';
  head += `HTTP/1.1 ${r.status}${r.reason}${eol}`;
  for (const [name, value] of r.headers) head += `${name}: ${value}${eol}`;
  if (r.framing === 'length') head += `Content-Length: ${r.body.length}${eol}`;
  if (r.framing === 'chunked') head += `Transfer-Encoding: chunked${eol}`;
  if (r.framing === 'close') head += `Connection: close${eol}`;
  const parts: Buffer[] = [Buffer.from(`${head}${eol}`, 'latin1')];
  if (r.framing === 'chunked') {
    let at = 0;
    let i = 0;
    while (at < r.body.length) {
      const size = Math.min(r.chunkSizes[i++ % r.chunkSizes.length]!, r.body.length - at);
      parts.push(Buffer.from(`${size.toString(16)}${i % 2 ? ';ext=1' : ''}${eol}`), Buffer.from(r.body.subarray(at, at + size)), Buffer.from(eol));
      at += size;
    }
    parts.push(Buffer.from(`0${eol}x-trailer: t${eol}${eol}`));
  } else parts.push(Buffer.from(r.body));
  return Buffer.concat(parts);
}

/** Feeds `bytes` in pieces cut at `cuts`, then ends the connection when nothing is complete yet. */
function parse(bytes: Buffer, cuts: number[], end: boolean): ParsedResponse | undefined {
  const parser = new ResponseParser(LIMITS);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  let result: ParsedResponse | undefined;
  for (const to of [...points, bytes.length]) {
    result = parser.feed(bytes.subarray(from, to)) ?? result;
    from = to;
  }
  return result ?? (end ? parser.end() : undefined);
}

describe('HTTP/1.1 response parser fuzzing', () => {
  it('parses any well-formed response cut at any points into the same status, headers and body', () => {
    fc.assert(
      fc.property(response, fc.array(fc.nat(), { maxLength: 12 }), (r, cuts) => {
        const result = parse(serialize(r), cuts, true)!;
        expect(result.status).toBe(r.status);
        expect(result.complete).toBe(true);
        expect(result.bodyBytes).toBe(r.body.length);
        expect([...result.body]).toEqual([...r.body.subarray(0, LIMITS.keepBodyBytes)]);
        expect(result.reusable).toBe(r.framing !== 'close');
        // A repeated header keeps its first value.
        for (const [name] of r.headers) expect(result.headers.get(name)).toBe(r.headers.find(([n]) => n === name)![1].trim());
      }),
      { numRuns: 400 },
    );
  });

  it('splits pipelined responses cut at any points into each response, in order', () => {
    const kept = response.filter((r) => r.framing !== 'close'); // only the last may end with the connection
    fc.assert(
      fc.property(fc.array(kept, { minLength: 1, maxLength: 4 }), response, fc.array(fc.nat(), { maxLength: 12 }), (firsts, last, cuts) => {
        const models = [...firsts, last];
        const bytes = Buffer.concat(models.map(serialize));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        // What the connection does: the bytes after one response go to the next one's parser.
        const results: ParsedResponse[] = [];
        let parser = new ResponseParser(LIMITS);
        let from = 0;
        for (const to of [...points, bytes.length]) {
          let data: Buffer | undefined = bytes.subarray(from, to);
          from = to;
          while (data !== undefined && data.length > 0) {
            const result = parser.feed(data);
            if (result === undefined) break;
            results.push(result);
            data = parser.rest;
            parser = new ResponseParser(LIMITS);
          }
        }
        if (results.length < models.length) results.push(parser.end());
        expect(results.map((r) => r.status)).toEqual(models.map((m) => m.status));
        expect(results.map((r) => r.bodyBytes)).toEqual(models.map((m) => m.body.length));
        results.forEach((r, i) => expect([...r.body]).toEqual([...models[i]!.body.subarray(0, LIMITS.keepBodyBytes)]));
      }),
      { numRuns: 300 },
    );
  });

  it('stops at maxBodyBytes whatever the framing', () => {
    fc.assert(
      fc.property(fc.constantFrom<Framing>('length', 'chunked', 'close'), fc.integer({ min: 4097, max: 20_000 }), (framing, size) => {
        const bytes = serialize({ interim: false, status: 200, reason: ' OK', headers: [], body: new Uint8Array(size), framing, chunkSizes: [1000], lf: false });
        const result = parse(bytes, [], false)!;
        expect(result.complete).toBe(false);
        expect(result.reusable).toBe(false);
        expect(result.bodyBytes).toBeGreaterThan(LIMITS.maxBodyBytes);
      }),
      { numRuns: 60 },
    );
  });

  it('answers random bytes with a response or a ResponseParseError, never anything else', () => {
    const noise = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      // Mostly-valid heads with random damage, so the parser gets past the status line.
      fc.tuple(response, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 })).map(([r, damage]) => {
        const bytes = serialize(r);
        for (const [at, value] of damage) bytes[at % bytes.length] = value;
        return bytes;
      }),
    );
    fc.assert(
      fc.property(noise, fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), (bytes, cuts, end) => {
        try {
          const result = parse(bytes, cuts, end);
          if (result !== undefined) expect(result.status).toBeGreaterThanOrEqual(200);
        } catch (err) {
          expect(err).toBeInstanceOf(ResponseParseError);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('reads no body for 204 and 304, nor for an answer to HEAD, whatever the headers say', () => {
    for (const status of [204, 304]) {
      const parser = new ResponseParser(LIMITS);
      expect(parser.feed(Buffer.from(`HTTP/1.1 ${status} X\r\ncontent-length: 5\r\n\r\n`))).toMatchObject({ status, bodyBytes: 0, reusable: true });
    }
    const head = new ResponseParser(LIMITS, true);
    expect(head.feed(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n'))).toMatchObject({ status: 200, bodyBytes: 0, reusable: true });
  });

  it('refuses an endless header section', () => {
    const parser = new ResponseParser(LIMITS);
    parser.feed(Buffer.from('HTTP/1.1 200 OK\r\n'));
    expect(() => {
      for (let i = 0; i < 1000; i++) parser.feed(Buffer.from('x-filler: 0123456789\r\n'));
    }).toThrow(ResponseParseError);
  });
});
