import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { skipValue, skipWs } from '../../src/core/jsonScan.js';
import { compact, decodeString, goString, renderJsonValue } from '../../src/protocols/eventbus/json.js';
import { NONE, parseMarkBody, parseRequest, parseStreamBody, parseWriteBody, textAt } from '../../src/protocols/eventbus/request.js';

/** The event-bus JSON scanner and codec, fuzzed against JSON.parse / JSON.stringify. */

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');

/** True when the whole text is one JSON value by the scanner. */
function scans(text: string): boolean {
  const b = bytes(text);
  const start = skipWs(b, 0, b.length);
  if (start >= b.length) return false;
  const end = skipValue(b, start, b.length);
  return end >= 0 && skipWs(b, end, b.length) === b.length;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Lone surrogates become U+FFFD, as in a Go string. */
const goText = (s: string): string => s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** A JSON text with a few characters inserted, removed or replaced. */
const mutated = fc
  .tuple(fc.json(), fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '"', '\\', ',', ':', '{', '}', '[', ']', ' ', '0', '-', '.', 'e', 'n', 'u', '\u0001', 'x', '\\u12', '1.', '01'), fc.boolean()), { maxLength: 3 }))
  .map(([text, edits]) => {
    let t = text;
    for (const [at, piece, replace] of edits) {
      const i = t.length === 0 ? 0 : at % t.length;
      t = t.slice(0, i) + piece + t.slice(i + (replace ? 1 : 0));
    }
    return t;
  });

describe('skipValue', () => {
  it('accepts exactly what JSON.parse accepts (generated and mutated texts)', () => {
    fc.assert(fc.property(fc.oneof(fc.json(), mutated, fc.string()), (text) => {
        expect(scans(text)).toBe(parses(text));
      }), { numRuns: 3000 });
  });

  it('ends a value where it ends, whatever follows', () => {
    fc.assert(
      // (A number would run on into following digits, so what follows starts with another character.)
      fc.property(fc.json(), fc.constantFrom(' ', 'x', '}', ',', '"'), fc.string(), (text, sep, rest) => {
        const b = bytes(text + sep + rest);
        expect(skipValue(b, 0, b.length)).toBe(bytes(text).length);
      }),
      { numRuns: 1000 },
    );
  });

  it('takes any byte from 0x20 up inside strings, as Go does, but no control characters', () => {
    expect(scans('"\xff\xfe"'.replace(/./g, (c) => c))).toBe(true);
    const raw = Buffer.from([0x22, 0xff, 0x80, 0x22]);
    expect(skipValue(raw, 0, raw.length)).toBe(4);
    expect(scans('"a\u0001"')).toBe(false);
  });
});

describe('decodeString', () => {
  it('decodes like JSON.parse, lone surrogates becoming U+FFFD', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const b = bytes(JSON.stringify(s));
        expect(decodeString(b, 0, b.length)).toBe(goText(s));
      }),
      { numRuns: 2000 },
    );
    const b = bytes('"\\ud83d\\ude00 \\ud83d \\ude00\\u0041\\/"');
    expect(decodeString(b, 0, b.length)).toBe('😀 \ufffd \ufffdA/');
  });
});

describe('goString', () => {
  it('round-trips through JSON.parse and never writes <, >, &, U+2028, U+2029, \\b or \\f', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = goString(s);
        expect(JSON.parse(out)).toBe(goText(s));
        expect(out).not.toMatch(/[<>&\u2028\u2029\u0000-\u001f]/);
        expect(out).not.toMatch(/(^|[^\\])(\\\\)*\\[bf]/);
      }),
      { numRuns: 2000 },
    );
    expect(goString('<a href="x">&\b\f\n\u2028')).toBe('"\\u003ca href=\\"x\\"\\u003e\\u0026\\u0008\\u000c\\n\\u2028"');
  });
});

describe('compact and renderJsonValue', () => {
  it('compact removes exactly the whitespace outside strings', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const pretty = bytes(JSON.stringify(v, null, 2) ?? 'null');
        expect(Buffer.from(compact(pretty, 0, pretty.length)).toString()).toBe(JSON.stringify(v) ?? 'null');
      }),
      { numRuns: 1000 },
    );
  });

  it('renders one JSON value compacted and HTML-escaped; anything else is not JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const out = renderJsonValue(bytes(` ${JSON.stringify(v, null, 1) ?? 'null'}\n`))!;
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(v) ?? 'null'));
        expect(out).not.toMatch(/[<>&\u2028\u2029]/);
      }),
      { numRuns: 1000 },
    );
    fc.assert(fc.property(mutated, (text) => {
      expect(renderJsonValue(bytes(text)) !== undefined).toBe(parses(text));
    }), { numRuns: 1000 });
    expect(renderJsonValue(bytes('{"a" : 2.50}'))).toBe('{"a":2.50}');
  });
});

/**
 * A model of Go's decoding of the request struct, on a parsed value (keys unique): what
 * parseRequest must agree with.
 */
function model(value: unknown): { operation: string; id: string; secret: string; body: unknown } | 'invalid' {
  if (value === null) return { operation: '', id: '', secret: '', body: undefined };
  if (typeof value !== 'object' || Array.isArray(value)) return 'invalid';
  const out = { operation: '', id: '', secret: '', body: undefined as unknown };
  const fold = (k: string): string => k.toLowerCase().replace(/\u017f/g, 's');
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const k = fold(key);
    if (k === 'operation') {
      if (typeof v === 'string') out.operation = v;
      else if (v !== null) return 'invalid';
    } else if (k === 'auth') {
      if (v === null) continue;
      if (typeof v !== 'object' || Array.isArray(v)) return 'invalid';
      for (const [ak, av] of Object.entries(v as Record<string, unknown>)) {
        const f = fold(ak);
        if (f !== 'client_id' && f !== 'client_secret') continue;
        if (typeof av === 'string') out[f === 'client_id' ? 'id' : 'secret'] = av;
        else if (av !== null) return 'invalid';
      }
    } else if (k === 'body') {
      out.body = v;
    }
  }
  return out;
}

const fieldName = fc.constantFrom('operation', 'Operation', 'OPERATION', 'auth', 'Auth', 'body', 'BODY', 'client_id', 'Client_Id', 'client_secret', 'client_ſecret', 'stream_name', 'event', 'event_id', 'status', 'other', 'opera tion');
const fieldValue = fc.oneof(fc.string(), fc.constantFrom('health', 'write_event', 'mark_event'), fc.constant(null), fc.integer(), fc.boolean(), fc.jsonValue({ maxDepth: 2 }));
const requestValue = fc.oneof(
  { weight: 5, arbitrary: fc.dictionary(fieldName, fc.oneof(fieldValue, fc.dictionary(fieldName, fieldValue, { maxKeys: 4 })), { maxKeys: 6 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

describe('parseRequest and the bodies', () => {
  it('agrees with a model of Go decoding the request struct', () => {
    fc.assert(
      fc.property(requestValue, fc.constantFrom('', ' ', '\t'), fc.constantFrom('', ' x', '{', ' {"operation":"exit"}'), (value, pad, rest) => {
        const text = JSON.stringify(value);
        const line = bytes(pad + text + rest);
        const parsed = parseRequest(line, 0, line.length);
        const expected = model(value);
        if (expected === 'invalid') {
          expect(parsed).toBeUndefined();
          return;
        }
        expect(parsed).toBeDefined();
        expect(parsed!.operation).toBe(expected.operation);
        expect(textAt(line, parsed!.idStart, parsed!.idEnd)).toBe(expected.id);
        expect(textAt(line, parsed!.secretStart, parsed!.secretEnd)).toBe(expected.secret);
        if (expected.body === undefined) {
          expect(parsed!.bodyStart).toBe(NONE);
          return;
        }
        // Compared as JSON carries it: the line holds JSON.stringify(value), which writes -0 as 0.
        expect(JSON.parse(line.subarray(parsed!.bodyStart, parsed!.bodyEnd).toString())).toEqual(JSON.parse(JSON.stringify(expected.body)));
      }),
      { numRuns: 3000 },
    );
  });

  it('takes the event text compacted, whether it was sent compact or not', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.constantFrom(undefined, 1, '\t'), (v, indent) => {
        const text = JSON.stringify(v, null, indent) ?? 'null';
        const line = bytes(`{"operation":"write_event","body":{"event": ${text} ,"stream_name":"s"}}`);
        const event = parseWriteBody(line, parseRequest(line)!)!.event!;
        expect(Buffer.from(event).toString()).toBe(JSON.stringify(v) ?? 'null');
      }),
      { numRuns: 500 },
    );
  });

  it('decodes bodies: strings or null, Go uint8 status, the raw event text', () => {
    const body = (text: string) => {
      const b = bytes(`{"body":${text}}`);
      return { b, r: parseRequest(b)! };
    };
    const { b, r } = body('{"stream_name":"s","event":{ "a" : 1.50 },"Event_Id":"e","status":2,"stream_name":null}');
    expect(parseStreamBody(b, r)).toEqual({ streamName: 's' });
    expect(Buffer.from(parseWriteBody(b, r)!.event!).toString()).toBe('{"a":1.50}');
    expect(parseMarkBody(b, r)).toEqual({ eventId: 'e', status: 2 });
    for (const status of ['256', '-1', '1.0', '1e0', '"1"', 'true', '[]']) {
      const x = body(`{"event_id":"e","status":${status}}`);
      expect(parseMarkBody(x.b, x.r), status).toBeUndefined();
      expect(parseStreamBody(x.b, x.r), 'a field the operation does not read').toEqual({ streamName: '' });
    }
    const nul = body('null');
    expect(parseMarkBody(nul.b, nul.r)).toEqual({ eventId: '', status: 0 });
    expect(parseWriteBody(nul.b, nul.r)).toEqual({ streamName: '', event: undefined });
    const nullEvent = body('{"event":null}');
    expect(Buffer.from(parseWriteBody(nullEvent.b, nullEvent.r)!.event!).toString()).toBe('null');
    const str = body('"x"');
    expect(parseStreamBody(str.b, str.r)).toBeUndefined();
    const twice = body('{"stream_name":"a"},"body":{"stream_name":5}');
    expect(parseStreamBody(twice.b, twice.r)).toBeUndefined();
  });
});
