import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isJsonText } from '../../src/protocols/http/jsonCheck.js';

/** The reference: what JSON.parse accepts, for UTF-8 bytes. */
function accepted(bytes: Buffer): boolean {
  if (!isUtf8(bytes)) return false;
  try {
    JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

function agree(bytes: Buffer): void {
  if (!isUtf8(bytes)) return; // the caller checks UTF-8 first
  expect(isJsonText(bytes), JSON.stringify(bytes.toString('utf8'))).toBe(accepted(bytes));
}

/** JSON-ish text: valid JSON, then a few characters inserted, removed or replaced. */
const alphabet = fc.constantFrom(...'{}[]":,.-+eE0123456789 \t\n\r\\/ubfnrtalsx\u00e9\u2028\u0000\u001f'.split(''));
const mutated = fc
  .tuple(fc.json({ maxDepth: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat(2), alphabet), { maxLength: 3 }))
  .map(([text, edits]) => {
    let s = text;
    for (const [at, kind, ch] of edits) {
      const k = s.length === 0 ? 0 : at % s.length;
      if (kind === 0) s = s.slice(0, k) + ch + s.slice(k);
      else if (kind === 1) s = s.slice(0, k) + s.slice(k + 1);
      else s = s.slice(0, k) + ch + s.slice(k + 1);
    }
    return s;
  });

describe('isJsonText ≡ JSON.parse', () => {
  it('fixed cases', () => {
    const cases = [
      '', ' ', '0', '-0', '01', '-', '1.', '.5', '1.5e', '1e+5', '1E-05', '-12.5e3', '1e', '+1', '2.0E+',
      'true', 'tru', 'truex', 'false', 'null', 'nul', 'NaN', 'Infinity',
      '""', '"', '"\\"', '"\\u12"', '"\\u12G4"', '"\\uD800"', '"\\x41"', '"a\tb"', '"a\u0001"', '"\u2028"', '"é"',
      '[]', '[', ']', '[1,]', '[,1]', '[1 2]', '[[[]]]', '[1,[2,[3]]]',
      '{}', '{', '{"a"}', '{"a":}', '{"a":1,}', '{a:1}', '{"a":1 "b":2}', '{"a":{"b":[1,{"c":null}]}}', '{"a":1}}', '{"a":1}]',
      ' \t\n\r{"a" : [ 1 , 2 ] }\r\n ', '1 2', '\u00a01', '\ufeff{}', '{}\u0000', '[1]x', '"a"b', '[-]', '[01]', '[1.e1]',
      '['.repeat(5000) + ']'.repeat(5000), '['.repeat(5000) + ']'.repeat(4999),
    ];
    for (const text of cases) agree(Buffer.from(text, 'utf8'));
  });

  it('generated JSON is accepted', () => {
    fc.assert(
      fc.property(fc.json(), fc.constantFrom('', ' ', '\n', '\r\n\t '), (text, pad) => {
        expect(isJsonText(Buffer.from(pad + text + pad))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated JSON agrees with JSON.parse', () => {
    fc.assert(fc.property(mutated, (text) => agree(Buffer.from(text, 'utf8'))), { numRuns: 20000 });
  });

  it('random bytes agree with JSON.parse', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => agree(Buffer.from(bytes))), { numRuns: 5000 });
  });

  it('checks a sub-range only', () => {
    const b = Buffer.from('xx[1,2]yy');
    expect(isJsonText(b, 2, 7)).toBe(true);
    expect(isJsonText(b, 2, 6)).toBe(false);
    expect(isJsonText(b, 1, 7)).toBe(false);
  });
});
