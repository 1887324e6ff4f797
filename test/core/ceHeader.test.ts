import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCeHeader, encodeCeHeader } from '../../src/core/ceHeader.js';

describe('CloudEvents header values (HTTP binding §3.1.3.2)', () => {
  it('encodes the spec example and decodes it back', () => {
    const value = 'Euro \u20ac \u{1f600}';
    expect(encodeCeHeader(value)).toBe('Euro%20%E2%82%AC%20%F0%9F%98%80');
    expect(decodeCeHeader('Euro%20%E2%82%AC%20%F0%9F%98%80')).toBe(value);
  });

  it('leaves printable ASCII alone but space, double-quote and percent', () => {
    expect(encodeCeHeader('/shop/orders?x=1&y=[2]')).toBe('/shop/orders?x=1&y=[2]');
    expect(encodeCeHeader('100% "sure"')).toBe('100%25%20%22sure%22');
    expect(encodeCeHeader('a\tb\u007f')).toBe('a%09b%7F');
  });

  it('accepts lower-case hex, needless encoding, old-style quoted values and raw UTF-8 bytes', () => {
    expect(decodeCeHeader('caf%c3%a9')).toBe('caf\u00e9');
    expect(decodeCeHeader('%41%42C')).toBe('ABC');
    expect(decodeCeHeader('"a \\"quoted\\" value"')).toBe('a "quoted" value');
    // A client that sent UTF-8 unencoded: Node hands the bytes over as latin1 characters.
    expect(decodeCeHeader(Buffer.from('caf\u00e9', 'utf8').toString('latin1'))).toBe('caf\u00e9');
  });

  it('rejects bad percent-encoding and byte sequences that are not UTF-8', () => {
    expect(() => decodeCeHeader('100%')).toThrow(/percent-encoding/);
    expect(() => decodeCeHeader('%zz')).toThrow(/percent-encoding/);
    expect(() => decodeCeHeader('%4')).toThrow(/percent-encoding/);
    expect(() => decodeCeHeader('%C0%A0')).toThrow(/UTF-8/); // overlong space, named by the spec
    expect(() => decodeCeHeader('%FF')).toThrow(/UTF-8/);
    expect(() => decodeCeHeader('%ED%A0%80')).toThrow(/UTF-8/); // a lone surrogate
  });

  it('round-trips any string, and encodes to printable ASCII only', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 64 }), (value) => {
        const encoded = encodeCeHeader(value);
        expect(encoded).toMatch(/^[\x21\x23\x24\x26-\x7e%]*$/);
        expect(decodeCeHeader(encoded)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('decoding arbitrary header text returns a string or throws a plain Error, nothing else', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 40 }), (raw) => {
        try {
          expect(typeof decodeCeHeader(raw)).toBe('string');
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message).toMatch(/percent-encoding|UTF-8/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
