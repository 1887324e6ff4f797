import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CHUNK_BYTES, chunkEvents, countOf, decodeRecord, decodeValue, encodeChunks, encodeRecord, summarizeValue } from '../../src/store/recordCodec.js';
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

  it('splits consecutive events into chunks and reads back every one, from any position (fuzzed)', () => {
    const event = fc.record({ record, minted: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 60 }), fc.nat(), fc.integer({ min: 1, max: 70 }), (events, skipSeed, limit) => {
        const values: Array<{ value: Buffer; first: number }> = [];
        encodeChunks(events, (value, first) => values.push({ value: Buffer.from(value), first }));
        let expectedFirst = 0;
        for (const { value, first } of values) {
          expect(first).toBe(expectedFirst);
          const count = countOf(value);
          // Only a value of one event may exceed the chunk size.
          if (count > 1) expect(value.length).toBeLessThanOrEqual(CHUNK_BYTES);
          const skip = skipSeed % (count + 1);
          const decoded = decodeValue(value, skip, limit);
          expect(decoded.length).toBe(Math.min(limit, count - skip));
          decoded.forEach(({ record: back, index }, k) => {
            expect(index).toBe(skip + k);
            const original = events[first + index]!.record;
            expect({ ...back, data: Buffer.from(back.data) }).toEqual({ ...original, data: Buffer.from(original.data) });
          });
          const summaries = summarizeValue(value, 100 + first);
          expect(summaries.map((s) => [s.seq, s.id, s.time, s.bytes, s.minted])).toEqual(
            events.slice(first, first + count).map((e, k) => [100 + first + k, e.record.id, e.record.time, e.record.data.byteLength, e.minted]),
          );
          expectedFirst += count;
        }
        expect(expectedFirst).toBe(events.length);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a truncated chunk instead of returning part of it as events (fuzzed)', () => {
    const event = fc.record({ record, minted: fc.boolean() });
    fc.assert(
      fc.property(fc.array(event, { minLength: 2, maxLength: 8 }), fc.nat(), (events, cut) => {
        const values: Buffer[] = [];
        encodeChunks(events, (value) => values.push(Buffer.from(value)));
        const chunk = values.find((v) => countOf(v) > 1);
        if (!chunk) return;
        const truncated = chunk.subarray(0, 6 + (cut % (chunk.length - 6)));
        expect(() => decodeValue(truncated, 0, Infinity)).toThrow(/truncated/);
        expect(() => summarizeValue(truncated, 1)).toThrow(/truncated/);
      }),
      { numRuns: 500 },
    );
  });

  it('chunks a commit of several streams into values keyed by stream and first seq, with their counts (fuzzed)', () => {
    // Stretches of consecutive seqs, a stream possibly coming back after another (interleaved).
    const stretch = fc.record({ sid: fc.integer({ min: 1, max: 3 }), events: fc.array(fc.record({ record, minted: fc.boolean() }), { minLength: 1, maxLength: 40 }) });
    fc.assert(
      fc.property(fc.array(stretch, { minLength: 1, maxLength: 6 }), (stretches) => {
        const heads = new Map<number, number>();
        const events = stretches.flatMap(({ sid, events: es }) =>
          es.map((e) => {
            const seq = (heads.get(sid) ?? 0) + 1;
            heads.set(sid, seq);
            return { ...e, sid, seq };
          }),
        );
        const chunks = chunkEvents(events);
        const back = chunks.flatMap(({ sid, firstSeq, count, value }) => {
          expect(count).toBe(countOf(value));
          return decodeValue(value, 0, Infinity).map(({ record: r, index }) => ({ sid, seq: firstSeq + index, id: r.id }));
        });
        expect(back).toEqual(events.map((e) => ({ sid: e.sid, seq: e.seq, id: e.record.id })));
      }),
      { numRuns: 200 },
    );
  });

  it('reads a chunk of many small events in order, spilling into a new chunk past CHUNK_BYTES', () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      record: { stream: '', id: `id-${i}`, type: 't', time: new Date(1_700_000_000_000 + i).toISOString(), contentType: 'application/json', data: Buffer.from(`{"i":${i},"pad":"${'x'.repeat(100)}"}`) },
      minted: i % 2 === 0,
    }));
    const values: Array<{ value: Buffer; first: number }> = [];
    encodeChunks(events, (value, first) => values.push({ value, first }));
    expect(values.length).toBeGreaterThan(1);
    const all = values.flatMap(({ value }) => decodeValue(value, 0, Infinity).map((d) => d.record.id));
    expect(all).toEqual(events.map((e) => e.record.id));
  });
});
