import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BAD_FIELD_COUNT, BAD_FROM, BAD_SEQ, BAD_TO, BAD_TYPE, EventLineParser, LINE_OK, parseDecimal, parseUserId } from '../../src/protocols/followermaze/parser.js';

/**
 * The event line parser against go-eventserver's rules (compat.md §2): the samples of its own
 * TestParseEvent, then fuzzed against a reference written the way the Go code reads
 * (`strings.Trim` of \r, `strings.Split` on "|", `strconv.Atoi`), on strings and on random bytes.
 */

interface Parsed {
  seq: number;
  type: string;
  from: number;
  to: number;
  text: string;
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** strconv.Atoi, limited to safe integers (Herald's documented difference). */
function atoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  if (n > MAX || n < -MAX) return undefined;
  return Number(n);
}

/** go-eventserver's parseEvent on a line without its \n. */
function reference(raw: string): Parsed | undefined {
  const line = raw.replace(/^\r+/, '').replace(/\r+$/, '');
  const f = line.split('|');
  if (f.length < 2 || f.length > 4) return undefined;
  const seq = atoi(f[0]!);
  if (seq === undefined) return undefined;
  const type = f[1]!;
  const ids = (n: number): number[] | undefined => {
    if (f.length !== n) return undefined;
    const out = f.slice(2).map(atoi);
    return out.every((x) => x !== undefined) ? (out as number[]) : undefined;
  };
  switch (type) {
    case 'F':
    case 'U':
    case 'P': {
      const v = ids(4);
      return v && { seq, type, from: v[0]!, to: v[1]!, text: line };
    }
    case 'B':
      return f.length === 2 ? { seq, type, from: 0, to: 0, text: line } : undefined;
    case 'S': {
      const v = ids(3);
      return v && { seq, type, from: v[0]!, to: 0, text: line };
    }
  }
  return undefined;
}

/** Herald's parser on `line` followed by \n. */
function herald(line: Buffer): Parsed | undefined | 'no-line' {
  const buf = Buffer.concat([line, Buffer.from('\n')]);
  const p = new EventLineParser();
  const nl = p.scanLine(buf, 0, buf.length);
  if (nl !== line.length) return 'no-line';
  if (p.code !== LINE_OK) return undefined;
  return { seq: p.seq, type: String.fromCharCode(p.type), from: p.from, to: p.to, text: buf.toString('latin1', p.lineStart, p.lineEnd) };
}

const code = (line: string): number => {
  const buf = Buffer.from(`${line}\n`, 'latin1');
  const p = new EventLineParser();
  p.scanLine(buf, 0, buf.length);
  return p.code;
};

describe('event lines', () => {
  it("accepts go-eventserver's valid samples", () => {
    expect(herald(Buffer.from('12|F|21212|31212'))).toEqual({ seq: 12, type: 'F', from: 21212, to: 31212, text: '12|F|21212|31212' });
    expect(herald(Buffer.from('2|U|4|5'))).toEqual({ seq: 2, type: 'U', from: 4, to: 5, text: '2|U|4|5' });
    expect(herald(Buffer.from('1|B'))).toEqual({ seq: 1, type: 'B', from: 0, to: 0, text: '1|B' });
    expect(herald(Buffer.from('1|P|12|11'))).toEqual({ seq: 1, type: 'P', from: 12, to: 11, text: '1|P|12|11' });
    expect(herald(Buffer.from('12|S|23'))).toEqual({ seq: 12, type: 'S', from: 23, to: 0, text: '12|S|23' });
  });

  it("rejects go-eventserver's invalid samples", () => {
    for (const line of ['', '123224', '|', '12|||', '1|L|2|3', '12|F', '1|F||2', '1|F|2|', '1|F|12|12|12|12', '1|B|2', '12|S|23|23', '12|S|', '|B', '|U|4|5']) {
      expect(herald(Buffer.from(line)), line).toBeUndefined();
    }
  });

  it('says what is wrong', () => {
    expect(code('12|F')).toBe(BAD_FIELD_COUNT);
    expect(code('1|B|2')).toBe(BAD_FIELD_COUNT);
    expect(code('123224')).toBe(BAD_FIELD_COUNT);
    expect(code('x|B')).toBe(BAD_SEQ);
    expect(code('1|L|2|3')).toBe(BAD_TYPE);
    expect(code('1|FF|2|3')).toBe(BAD_TYPE);
    expect(code('1|F|a|3')).toBe(BAD_FROM);
    expect(code('1|F|2|3x')).toBe(BAD_TO);
  });

  it('trims \\r from both ends like the original, and forwards the rest exactly', () => {
    expect(herald(Buffer.from('\r\r7|S|0042\r\r'))).toEqual({ seq: 7, type: 'S', from: 42, to: 0, text: '7|S|0042' });
    expect(herald(Buffer.from('7|S|4\r2'))).toBeUndefined();
  });

  it('reads numbers like strconv.Atoi, within safe integers', () => {
    expect(parseDecimal(Buffer.from('+12'), 0, 3)).toBe(12);
    expect(parseDecimal(Buffer.from('-0012'), 0, 5)).toBe(-12);
    expect(parseDecimal(Buffer.from('-'), 0, 1)).toBeNaN();
    expect(parseDecimal(Buffer.from(' 1'), 0, 2)).toBeNaN();
    expect(parseDecimal(Buffer.from('1_0'), 0, 3)).toBeNaN();
    expect(parseDecimal(Buffer.from('9007199254740991'), 0, 16)).toBe(Number.MAX_SAFE_INTEGER);
    expect(parseDecimal(Buffer.from('9007199254740992'), 0, 16)).toBeNaN();
    expect(herald(Buffer.from('-5|P|-1|+2'))).toEqual({ seq: -5, type: 'P', from: -1, to: 2, text: '-5|P|-1|+2' });
  });

  it('finds the end of a line only when it is there', () => {
    const p = new EventLineParser();
    const buf = Buffer.from('12|S|5');
    expect(p.scanLine(buf, 0, buf.length)).toBe(-1);
    const two = Buffer.from('1|B\nxx|Q\n3|S|');
    expect(p.scanLine(two, 0, two.length)).toBe(3);
    expect(p.scanLine(two, 4, two.length)).toBe(8);
    expect(p.code).toBe(BAD_SEQ);
    expect(p.scanLine(two, 9, two.length)).toBe(-1);
  });

  const alphabet = fc.constantFrom(...'0123456789||||FUBPSxLb+- \r\r\u00e9'.split(''));
  const lineString = fc.oneof(
    fc.array(alphabet, { maxLength: 30 }).map((a) => a.join('')),
    // mostly-valid lines with a twist
    fc
      .tuple(fc.integer({ min: -5, max: 1e6 }), fc.constantFrom('F', 'U', 'B', 'P', 'S', 'X', ''), fc.array(fc.oneof(fc.integer({ min: -99, max: 99999 }).map(String), fc.constantFrom('', '+', '007', '9007199254740993', ' 1')), { maxLength: 3 }), fc.constantFrom('', '\r', '\r\r'))
      .map(([seq, type, ids, cr]) => [String(seq), type, ...ids].join('|') + cr),
  );

  it('agrees with the reference on random lines (fuzz)', () => {
    fc.assert(
      fc.property(lineString, (line) => {
        expect(herald(Buffer.from(line, 'latin1'))).toEqual(reference(line));
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with the reference on random bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const line = Buffer.from(bytes.filter((b) => b !== 0x0a));
        expect(herald(line)).toEqual(reference(line.toString('latin1')));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('registration lines', () => {
  it('are a user id, \\r trimmed, Atoi rules', () => {
    expect(parseUserId(Buffer.from('2932\r'), 0, 5)).toBe(2932);
    expect(parseUserId(Buffer.from('2932'), 0, 4)).toBe(2932);
    expect(parseUserId(Buffer.from(' 2932'), 0, 5)).toBeNaN();
    expect(parseUserId(Buffer.from(''), 0, 0)).toBeNaN();
  });

  it('agree with Atoi on random input (fuzz)', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...'0123456789+- \rx'.split('')), { maxLength: 20 }).map((a) => a.join('')), (s) => {
        const expected = atoi(s.replace(/^\r+/, '').replace(/\r+$/, ''));
        const got = parseUserId(Buffer.from(s, 'latin1'), 0, s.length);
        if (expected === undefined) expect(got).toBeNaN();
        else expect(got).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });
});
