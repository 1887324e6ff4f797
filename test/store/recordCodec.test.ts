import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeRecord, encodeRecord } from '../../src/store/recordCodec.js';
import type { EventRecord } from '../../src/store/record.js';

const ascii = fc.string({ unit: fc.constantFrom(...'abcXYZ019 .-_:/@!~'.split('')), minLength: 1, maxLength: 200 });
const latin1 = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 255 });
const record = fc.record(
  {
    stream: fc.constant(''),
    id: ascii,
    type: ascii,
    time: fc.date({ min: new Date(0), max: new Date('2999-12-31'), noInvalidDate: true }).map((d) => d.toISOString()),
    contentType: latin1,
    data: fc.uint8Array({ maxLength: 2048 }),
    subject: ascii,
    headers: fc.dictionary(fc.string(), fc.string()),
  },
  { requiredKeys: ['stream', 'id', 'type', 'time', 'contentType', 'data'] },
) as fc.Arbitrary<EventRecord>;

describe('event record codec', () => {
  it('round-trips every field byte-exact', () => {
    fc.assert(
      fc.property(record, (r) => {
        const back = decodeRecord(encodeRecord(r));
        expect({ ...back, data: Buffer.from(back.data) }).toEqual({ ...r, data: Buffer.from(r.data) });
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a record of an unknown version instead of misreading it', () => {
    const buf = encodeRecord({ stream: '', id: 'a', type: 't', time: new Date(0).toISOString(), contentType: 'x/y', data: new Uint8Array([1]) });
    buf[0] = 9;
    expect(() => decodeRecord(buf)).toThrow(/version 9/);
  });
});
