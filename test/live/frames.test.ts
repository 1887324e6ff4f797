import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseLiveRequest, resumePosition } from '../../src/delivery/liveRequest.js';
import { sseComment, sseEvent, sseIdOnly, sseRetry } from '../../src/delivery/sseFrames.js';
import { canonicalJson, parseEventRow } from '../../src/sources/eventRow.js';
import { IdTracker } from '../../src/sources/idTracker.js';
import { eventFrame, replayAfter } from '../../src/protocols/eventpiper/wire.js';
import { HeraldError } from '../../src/core/errors.js';
import { parseSse } from './sseParser.js';

const printable = fc.string({ minLength: 1, maxLength: 30, unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) });

describe('SSE framing (fuzzed against a spec parser)', () => {
  it('any text payload arrives as sent, line breaks normalised to LF', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ seq: fc.nat(), type: printable, data: fc.string({ unit: 'binary' }) }), { maxLength: 8 }), (events) => {
        const text = events.map((e) => sseEvent(String(e.seq), e.type, e.data) + sseComment('hb\r\nx')).join('');
        const parsed = parseSse(sseRetry(1500) + text);
        expect(parsed.retry).toBe(1500);
        // An event whose data is empty dispatches nothing in SSE only if no data line is sent: we always send one.
        expect(parsed.events).toEqual(events.map((e) => ({ id: String(e.seq), event: e.type, data: e.data.replace(/\r\n|\r/g, '\n') })));
      }),
      { numRuns: 500 },
    );
  });

  it('an id-only frame moves the last event id without dispatching', () => {
    const parsed = parseSse(sseEvent('4', 'a', 'x') + sseIdOnly('9'));
    expect(parsed.events).toHaveLength(1);
    expect(parsed.lastId).toBe('9');
  });
});

describe('live request parsing (fuzzed)', () => {
  it('positions: digits only, header wins, everything else is a 400', () => {
    fc.assert(
      fc.property(fc.option(fc.string(), { nil: undefined }), fc.option(fc.string(), { nil: undefined }), (header, after) => {
        const query = after === undefined ? {} : { after };
        let got: number | undefined;
        try {
          got = resumePosition(query, header);
        } catch (err) {
          expect(err).toBeInstanceOf(HeraldError);
          expect((err as HeraldError).code).toBe('bad_request');
          return;
        }
        const chosen = header !== undefined && header.trim() !== '' ? header : after;
        if (chosen === undefined) expect(got).toBeUndefined();
        else {
          expect(chosen.trim()).toMatch(/^[0-9]{1,16}$/);
          expect(got).toBe(Number(chosen.trim()));
          expect(Number.isSafeInteger(got)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(resumePosition({}, ' 42 ')).toBe(42);
    expect(resumePosition({ after: '7' }, '9')).toBe(9);
    expect(resumePosition({ lastEventId: '7' }, '')).toBe(7);
    for (const bad of ['-1', '1e3', '0x10', '9007199254740992', '１']) expect(() => resumePosition({ after: bad }, undefined)).toThrow(HeraldError);
    expect(() => resumePosition({ after: '1', lastEventId: '2' }, undefined)).toThrow(/not both/);
  });

  it('filters: exact or * patterns on type and subject', () => {
    const { filter } = parseLiveRequest({ type: ['order.*', 'refund'], subject: 'u-1' }, undefined);
    const e = (type: string, subject?: string) => ({ stream: 's', seq: 1, id: 'x', type, time: '', contentType: 'a', data: new Uint8Array(), ...(subject ? { subject } : {}) });
    expect(filter!(e('order.created', 'u-1'))).toBe(true);
    expect(filter!(e('refund', 'u-1'))).toBe(true);
    expect(filter!(e('refunds', 'u-1'))).toBe(false);
    expect(filter!(e('order.created', 'u-2'))).toBe(false);
    expect(filter!(e('order.created'))).toBe(false);
    expect(() => parseLiveRequest({ type: '' }, undefined)).toThrow(HeraldError);
    expect(() => parseLiveRequest({ format: 'xml' }, undefined)).toThrow(HeraldError);
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('type', 'subject', 'format', 'after', 'x'), fc.oneof(fc.string(), fc.array(fc.string(), { maxLength: 40 }))), (query) => {
        try {
          const r = parseLiveRequest(query, undefined);
          if (r.filter) r.filter(e('t', 's'));
        } catch (err) {
          expect(err).toBeInstanceOf(HeraldError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('EventPiper wire (fuzzed)', () => {
  it('Last-Event-ID: an integer string with an optional sign, else no replay', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.bigInt().map(String), fc.bigInt().map((b) => `+${b}`)), (value) => {
        const got = replayAfter(value);
        if (!/^[+-]?[0-9]+$/.test(value)) {
          expect(got).toBeUndefined();
          return;
        }
        const exact = BigInt(value.replace(/^\+/, ''));
        const clamped = exact > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : exact < BigInt(Number.MIN_SAFE_INTEGER) ? Number.MIN_SAFE_INTEGER : Number(exact);
        expect(got).toBe(clamped);
      }),
      { numRuns: 2000 },
    );
    expect(replayAfter(undefined)).toBeUndefined();
  });

  it('rows: notification JSON parses to the frame, payload keys sorted, anything else is rejected', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), printable, fc.string(), fc.jsonValue(), (id, type, subscriber, payload) => {
        const row = parseEventRow(JSON.stringify({ id, type, timestamp: '2020-05-06T10:11:12.123456', subscriber, payload }));
        expect(row).toBeDefined();
        expect(JSON.parse(row!.payloadJson)).toEqual(JSON.parse(JSON.stringify(payload)));
        expect(row!.payloadJson).toBe(canonicalJson(JSON.parse(JSON.stringify(payload))));
        const parsed = parseSse(eventFrame(row!));
        expect(parsed.events).toEqual([{ id: String(id), event: type, data: row!.payloadJson }]);
      }),
      { numRuns: 500 },
    );
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
    fc.assert(fc.property(fc.string(), (text) => void parseEventRow(text)), { numRuns: 1000 });
    for (const bad of ['[]', 'null', '{"id":"1","type":"t","timestamp":"","subscriber":"s","payload":1}', '{"id":1.5,"type":"t","timestamp":"","subscriber":"s","payload":1}', '{"id":1,"type":"t","timestamp":"","subscriber":"s"}']) {
      expect(parseEventRow(bad), bad).toBeUndefined();
    }
  });

  it('id tracker: every id passes exactly once in any arrival order, duplicates never', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 400 }), (arrivals) => {
        const tracker = new IdTracker(0, 1000, 60_000, () => 0);
        const passed = arrivals.filter((id) => tracker.accept(id));
        expect(new Set(passed).size).toBe(passed.length);
        expect(new Set(passed)).toEqual(new Set(arrivals));
      }),
    );
    let now = 0;
    const tracker = new IdTracker(10, 3, 1000, () => now);
    expect(tracker.accept(20)).toBe(true);
    expect(tracker.openHoles()).toEqual([17, 18, 19]);
    expect(tracker.accept(11)).toBe(false); // beyond the bound: taken as seen
    now = 2000;
    expect(tracker.openHoles()).toEqual([]);
    expect(tracker.accept(18)).toBe(false);
  });
});
