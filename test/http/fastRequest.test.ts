import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STREAM_NAME_PATTERN, isValidStreamName } from '../../src/core/names.js';
import { FAST_TYPES, recognizeRequest, type FastRequest } from '../../src/protocols/http/fastRequest.js';

/**
 * recognizeRequest takes only the one request shape its doc comment lists and hands everything
 * else to node:http, so: exact results on examples, invariants on any bytes, and a model of
 * well-formed requests that it must read exactly, in pieces, pipelined and after a mutation.
 */

const LIMITS = { maxHeadBytes: 16384, bodyLimit: 1024 };
const recognize = (raw: string | Buffer, limits = LIMITS): FastRequest =>
  recognizeRequest(typeof raw === 'string' ? Buffer.from(raw, 'latin1') : raw, limits);
const LINE = 'POST /streams/a/events HTTP/1.1';
const MINIMAL = `${LINE}\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}`;
const plain = (r: FastRequest) => (r.kind === 'publish' ? { ...r, headers: { ...r.headers } } : r);

describe('recognizeRequest examples', () => {
  // The common request is read exactly: stream, lower-cased names, trimmed values, offsets.
  it('takes a minimal publish', () => {
    const raw = `${LINE}\r\nHOST: x\r\ncontent-type:\t application/json \t\r\nContent-Length: 2\r\n\r\n{}`;
    expect(plain(recognize(raw))).toEqual({
      kind: 'publish', stream: 'a', bodyStart: raw.length - 2, end: raw.length, close: false,
      headers: { host: 'x', 'content-type': 'application/json', 'content-length': '2' },
    });
  });

  // Connection: close in any case asks to close; keep-alive does not.
  it('reads the Connection header', () => {
    const withConnection = (v: string) => recognize(MINIMAL.replace('Host: x', `Host: x\r\nConnection: ${v}`));
    for (const v of ['close', 'Close', 'CLOSE']) expect(withConnection(v)).toMatchObject({ kind: 'publish', close: true });
    expect(withConnection('keep-alive')).toMatchObject({ kind: 'publish', close: false });
  });

  // Content-Length up to the body limit is taken; past it fastify answers 413, so hand off.
  it('takes Content-Length up to bodyLimit', () => {
    const withLength = (n: number) => MINIMAL.replace('Content-Length: 2\r\n\r\n{}', `Content-Length: ${n}\r\n\r\n${'x'.repeat(n)}`);
    expect(recognize(withLength(1024))).toMatchObject({ kind: 'publish', end: withLength(1024).length });
    expect(recognize(withLength(1025))).toEqual({ kind: 'other' });
  });

  // Everything the doc comment does not list goes to node:http.
  const others: Record<string, string> = {
    'GET': MINIMAL.replace('POST', 'GET'),
    'HTTP/1.0': MINIMAL.replace('HTTP/1.1', 'HTTP/1.0'),
    'a query string': MINIMAL.replace('/events', '/events?x=1'),
    'a percent-encoded name': MINIMAL.replace('/a/', '/%61/'),
    'an invalid name': MINIMAL.replace('/a/', '/.a/'),
    'missing Host': MINIMAL.replace('Host: x\r\n', ''),
    'missing Content-Length': MINIMAL.replace('Content-Length: 2\r\n', ''),
    'a non-digit Content-Length': MINIMAL.replace('Length: 2', 'Length: 0x2'),
    'a signed Content-Length': MINIMAL.replace('Length: 2', 'Length: +2'),
    'a negative Content-Length': MINIMAL.replace('Length: 2', 'Length: -2'),
    'Transfer-Encoding': MINIMAL.replace('Host: x', 'Host: x\r\nTransfer-Encoding: chunked'),
    'Expect': MINIMAL.replace('Host: x', 'Host: x\r\nexpect: 100-continue'),
    'Upgrade': MINIMAL.replace('Host: x', 'Host: x\r\nUpgrade: websocket'),
    'a duplicated header': MINIMAL.replace('Host: x', 'Host: x\r\nhOST: y'),
    'application/x-ndjson': MINIMAL.replace('application/json', 'application/x-ndjson'),
    'text/csv': MINIMAL.replace('application/json', 'text/csv'),
    'no Content-Type and an empty body': `${LINE}\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
    'a header line without a colon': MINIMAL.replace('Host: x', 'Host: x\r\nX-No-Colon'),
    'a non-ASCII header value': MINIMAL.replace('Host: x', 'Host: x\r\nX-A: caf\xe9'),
    'a bare LF in a header value': MINIMAL.replace('Host: x', 'Host: x\nX-A: y'),
    'Connection: upgrade': MINIMAL.replace('Host: x', 'Host: x\r\nConnection: upgrade'),
    'leading CRLF': `\r\n${MINIMAL}`,
  };
  it.each(Object.entries(others))('hands off %s', (_, raw) => expect(recognize(raw)).toEqual({ kind: 'other' }));

  // A head past maxHeadBytes is node's (431), complete or not; a short one is still taken.
  it('hands off a head longer than maxHeadBytes', () => {
    const limits = { maxHeadBytes: 100, bodyLimit: 1024 };
    expect(recognize(MINIMAL, limits).kind).toBe('publish');
    const long = MINIMAL.replace('Host: x', `Host: x\r\nX-A: ${'y'.repeat(100)}`);
    expect(recognize(long, limits)).toEqual({ kind: 'other' });
    expect(recognize(long.slice(0, 150), limits)).toEqual({ kind: 'other' });
    expect(recognize(long.slice(0, 90), limits)).toEqual({ kind: 'partial', need: 0 });
  });

  // Whole or cut anywhere, a head is judged against the limit alike (its size counts the final CRLF CRLF).
  it('judges a head at the limit alike, however it arrives', () => {
    const head = MINIMAL.indexOf('\r\n\r\n') + 4;
    for (const [max, whole] of [[head, 'publish'], [head - 1, 'other']] as const) {
      const limits = { maxHeadBytes: max, bodyLimit: 1024 };
      expect(recognize(MINIMAL, limits).kind).toBe(whole);
      for (let cut = 1; cut < head; cut++) expect(recognize(MINIMAL.slice(0, cut), limits).kind).toBe(whole === 'publish' || cut < max ? 'partial' : 'other');
    }
  });

  // Header names that are Object.prototype members must neither throw nor pollute anything.
  it.each(['__proto__', 'constructor', 'toString', 'hasOwnProperty'])('survives a header named %s', (name) => {
    const r = recognize(MINIMAL.replace('Host: x', `Host: x\r\n${name}: y`));
    expect(['publish', 'other']).toContain(r.kind);
    if (r.kind === 'publish') {
      expect([null, Object.prototype]).toContain(Object.getPrototypeOf(r.headers));
      expect(Object.getOwnPropertyDescriptor(r.headers, name.toLowerCase())?.value).toBe('y');
    }
  });
});

/** The shape every answer must have, whatever the bytes. */
function checkShape(buf: Buffer, r: FastRequest): void {
  expect(['partial', 'other', 'publish']).toContain(r.kind);
  if (r.kind === 'partial') expect(r.need === 0 || r.need > buf.length).toBe(true);
  if (r.kind !== 'publish') return;
  expect(isValidStreamName(r.stream)).toBe(true);
  expect(0 < r.bodyStart && r.bodyStart <= r.end && r.end <= buf.length).toBe(true);
  expect(r.end - r.bodyStart).toBe(Number(r.headers['content-length']));
}

const FRAGMENTS = ['POST /streams/', 'a', '%61', '/events', ' HTTP/1.1', '\r\n', '\n', '\r', ':', ' ', '\t', 'Host: x',
  'Content-Length: ', '0', '2', '-', 'Content-Type: application/json', 'Connection: close', 'Expect: x', '__proto__: x', '{}', '\xe9'];

describe('recognizeRequest on any bytes', () => {
  // Never throws, and answers one of the three kinds with offsets inside the buffer.
  it('is total and consistent', () => {
    const start = fc.constantFrom('', 'POST /streams/', `${LINE}\r\nHost: x\r\n`);
    const bytes = fc.oneof(
      fc.tuple(start, fc.uint8Array({ maxLength: 300 })).map(([s, b]) => Buffer.concat([Buffer.from(s, 'latin1'), b])),
      fc.tuple(start, fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 40 })).map(([s, p]) => Buffer.from(s + p.join(''), 'latin1')),
    );
    fc.assert(fc.property(bytes, (buf) => checkShape(buf, recognize(buf))), { numRuns: 300 });
  });
});

// The model: a well-formed request, its header names in random case, OWS around the values.
const printable = fc.string({ unit: fc.constantFrom(...' \t!"#$%&()*+,-./09:;<=>?@AZ[\\]^_`az{|}~'.split('')), maxLength: 30 });
const ows = fc.constantFrom('', ' ', '\t', '  ', ' \t');
const header = (name: fc.Arbitrary<string>, value: fc.Arbitrary<string>) =>
  fc.record({ name, value, mask: fc.nat(), before: ows, after: ows, rank: fc.nat() });
type Header = { name: string; value: string; mask: number; before: string; after: string; rank: number };
const EXTRA = ['ce-id', 'ce-type', 'ce-source', 'ce-subject', 'idempotency-key', 'authorization', 'user-agent', 'x-a', 'x_b', "x!#$%&'*+.^`|~"];
const model = fc
  .record({
    stream: fc.stringMatching(STREAM_NAME_PATTERN),
    host: header(fc.constant('host'), printable),
    length: header(fc.constant('content-length'), fc.constantFrom('', '0', '00')), // leading zeros
    type: fc.option(header(fc.constant('content-type'), fc.constantFrom(...FAST_TYPES))),
    connection: fc.option(header(fc.constant('connection'), fc.constantFrom('keep-alive', 'Keep-Alive', 'close', 'Close'))),
    extra: fc.uniqueArray(header(fc.constantFrom(...EXTRA), printable), { selector: (h) => h.name, maxLength: 6 }),
    body: fc.uint8Array({ maxLength: 200 }),
  })
  .filter((m) => m.type !== null || m.body.length > 0);
type Model = typeof model extends fc.Arbitrary<infer T> ? T : never;

const cased = (name: string, mask: number) =>
  [...name].map((c, i) => ((mask >> i % 31) & 1 ? c.toUpperCase() : c)).join('');
const trimOws = (s: string) => s.replace(/^[ \t]+|[ \t]+$/g, '');

function build(m: Model) {
  const length = { ...m.length, value: m.length.value + m.body.length };
  const all: Header[] = [m.host, length, ...m.extra, ...(m.type ? [m.type] : []), ...(m.connection ? [m.connection] : [])];
  all.sort((a, b) => a.rank - b.rank);
  const lines = [`POST /streams/${m.stream}/events HTTP/1.1`, ...all.map((h) => `${cased(h.name, h.mask)}:${h.before}${h.value}${h.after}`)];
  const headers = Object.fromEntries(all.map((h) => [h.name, trimOws(h.value)]));
  return { lines, headers, close: m.connection?.value.toLowerCase() === 'close' };
}
/** Array.prototype.toSpliced, which the ES2022 lib lacks. */
const spliced = (xs: string[], at: number, remove: number, ...add: string[]) => [...xs.slice(0, at), ...add, ...xs.slice(at + remove)];
const wire = (lines: string[], body: Uint8Array) => Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);

describe('recognizeRequest on modelled requests', () => {
  // The whole request is read exactly as the model wrote it.
  it('takes a well-formed request', () => {
    fc.assert(
      fc.property(model, (m) => {
        const { lines, headers, close } = build(m);
        const buf = wire(lines, m.body);
        const r = recognize(buf);
        const bodyStart = buf.length - m.body.length;
        expect(plain(r)).toEqual({ kind: 'publish', stream: m.stream, headers, bodyStart, end: buf.length, close });
        expect(Buffer.from(m.body).equals(buf.subarray(bodyStart, buf.length))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Any strict prefix is partial, with need = the full length once the head is in.
  it('waits on every prefix', () => {
    fc.assert(
      fc.property(model, (m) => {
        const buf = wire(build(m).lines, m.body);
        const headLength = buf.length - m.body.length;
        for (let k = 0; k < buf.length; k++) {
          expect(recognize(buf.subarray(0, k)), `prefix ${k}`).toEqual({ kind: 'partial', need: k >= headLength ? buf.length : 0 });
        }
      }),
      { numRuns: 200 },
    );
  });

  // Pipelined bytes after the request do not change it, and it ends where the next begins.
  it('ignores what follows the request', () => {
    fc.assert(
      fc.property(model, fc.uint8Array({ minLength: 1, maxLength: 200 }), (m, next) => {
        const buf = wire(build(m).lines, m.body);
        expect(plain(recognize(Buffer.concat([buf, next])))).toEqual(plain(recognize(buf)));
      }),
      { numRuns: 200 },
    );
  });

  // One change the doc says hands off (on a header line picked by `at`) makes the request `other`.
  type Mutation = (lines: string[], at: number, pick: <T>(xs: readonly T[]) => T) => string[];
  const setHeader = (name: string, value: string): Mutation => (lines, at) => {
    const rest = lines.filter((l, i) => i === 0 || !l.toLowerCase().startsWith(`${name}:`));
    return spliced(rest, 1 + (at % rest.length), 0, `${cased(name, at)}: ${value}`);
  };
  const MUTATIONS: Record<string, Mutation> = {
    method: (l, _, pick) => [l[0]!.replace('POST', pick(['GET', 'PUT', 'post', 'POSTS', 'PATCH'])), ...l.slice(1)],
    version: (l, _, pick) => [l[0]!.replace('HTTP/1.1', pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.10', 'http/1.1'])), ...l.slice(1)],
    target: (l, _, pick) => [l[0]!.replace('/events ', pick(['/events?x=1 ', '/events/ ', '/events#x ', '/Events '])), ...l.slice(1)],
    stream: (l, _, pick) => [l[0]!.replace(/\/streams\/.*\/events/, `/streams/${pick(['%61', '.a', 'a/b', 'a b', '', '-a', 'x'.repeat(201)])}/events`), ...l.slice(1)],
    handOff: (l, at, pick) => setHeader(pick(['transfer-encoding', 'expect', 'upgrade']), pick(['chunked', '100-continue', 'h2c']))(l, at, pick),
    connection: (l, at, pick) => setHeader('connection', pick(['upgrade', 'keep-alive, close', 'te', 'closed']))(l, at, pick),
    contentType: (l, at, pick) => setHeader('content-type', pick(['application/x-ndjson', 'text/csv', 'Application/JSON', 'application/json; charset=latin1']))(l, at, pick),
    contentLength: (l, at, pick) => setHeader('content-length', pick(['-1', '+1', '1 1', '0x1', '1.0', '', '1025', '9'.repeat(16)]))(l, at, pick),
    dropRequired: (l, _, pick) => { const name = pick(['host:', 'content-length:']); return l.filter((x) => !x.toLowerCase().startsWith(name)); },
    duplicate: (l, at) => { const i = 1 + (at % (l.length - 1)); const [name, ...v] = l[i]!.split(':'); return spliced(l, 1 + ((at >> 8) % (l.length - 1)), 0, `${cased(name!.toLowerCase(), ~at)}:${v.join(':')}`); },
    badName: (l, at, pick) => { const i = 1 + (at % (l.length - 1)); const k = (at >> 8) % (l[i]!.indexOf(':') + 1); return spliced(l, i, 1, l[i]!.slice(0, k) + pick([' ', '"', '(', '/', '@', '[', '{', '\x7f', '\xe9', '\n']) + l[i]!.slice(k)); },
    badValue: (l, at, pick) => { const i = 1 + (at % (l.length - 1)); return spliced(l, i, 1, l[i]! + pick(['\x00', '\x7f', '\x80', '\xe9', '\xff', '\n', '\r', '\v'])); },
    fold: (l, at) => spliced(l, 2 + (at % (l.length - 1)), 0, ' folded'),
    noColon: (l, at) => spliced(l, 1 + (at % l.length), 0, 'X-No-Colon'),
    leadingCrlf: (l) => ['', ...l],
  };
  it('hands off a mutated request', () => {
    fc.assert(
      fc.property(model, fc.constantFrom(...Object.keys(MUTATIONS)), fc.nat(), fc.nat(), (m, name, at, seed) => {
        const pick = <T,>(xs: readonly T[]): T => xs[seed % xs.length]!;
        const lines = build(m).lines;
        const buf = wire(MUTATIONS[name]!(lines, at, pick), m.body);
        expect(buf.equals(wire(lines, m.body))).toBe(false); // the mutation changed something
        expect(recognize(buf), `${name}: ${JSON.stringify(buf.toString('latin1'))}`).toEqual({ kind: 'other' });
      }),
      { numRuns: 300 },
    );
  });
});
