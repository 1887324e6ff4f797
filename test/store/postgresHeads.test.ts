import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHeadMessage, StreamHeads } from '../../src/store/postgres/heads.js';

describe('NOTIFY payloads', () => {
  it('parses what the database sends and nothing else, never throwing', () => {
    expect(parseHeadMessage('a 3 17 orders')).toEqual({ kind: 'append', sid: 3, head: 17, name: 'orders' });
    expect(parseHeadMessage('d 3 orders')).toEqual({ kind: 'delete', sid: 3, name: 'orders' });
    for (const bad of ['', 'a', 'a 3 17', 'a x 17 s', 'a 0 1 s', 'a 3 -1 s', 'a 3 1.5 s', 'd 3', 'x 3 1 s', 'a 3 17 two words']) expect(parseHeadMessage(bad)).toBeUndefined();
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => {
      const m = parseHeadMessage(s);
      if (m) expect(m.sid).toBeGreaterThan(0);
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 40 }), fc.nat(), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:~-]{0,30}$/), (sid, head, name) => {
      expect(parseHeadMessage(`a ${sid} ${head} ${name}`)).toEqual({ kind: 'append', sid, head, name });
      expect(parseHeadMessage(`d ${sid} ${name}`)).toEqual({ kind: 'delete', sid, name });
    }));
  });
});

describe('StreamHeads', () => {
  it('only moves forward within one stream, whatever order updates arrive in', () => {
    const heads = new StreamHeads();
    expect(heads.advance('s', 1, 5)).toBe(true);
    expect(heads.advance('s', 1, 3)).toBe(false); // a late message
    expect(heads.head('s')).toBe(5);
    expect(heads.advance('s', 1, 5)).toBe(false);
    expect(heads.advance('s', 1, 9)).toBe(true);
  });

  it('tells a stream deleted and created again apart by its sid', () => {
    const heads = new StreamHeads();
    heads.advance('s', 1, 50);
    heads.remove('s', 1);
    expect(heads.head('s')).toBe(0);
    expect(heads.advance('s', 1, 60)).toBe(false); // late news of the deleted stream
    expect(heads.advance('s', 2, 1)).toBe(true); // the new one
    expect(heads.advance('s', 1, 70)).toBe(false);
    expect(heads.head('s')).toBe(1);
  });

  it('sync keeps streams newer than the read and drops older ones the read did not see', () => {
    const heads = new StreamHeads();
    heads.advance('gone', 1, 4);
    heads.advance('kept', 2, 1);
    heads.advance('newer', 9, 3); // created after the read began
    const grown = heads.sync([{ name: 'kept', sid: 2, head: 6 }, { name: 'fresh', sid: 5, head: 2 }]);
    expect(grown.sort()).toEqual(['fresh', 'kept']);
    expect([heads.head('gone'), heads.head('kept'), heads.head('fresh'), heads.head('newer')]).toEqual([0, 6, 2, 3]);
  });

  it('ends where the last update of each stream says, for any interleaving (model check)', () => {
    fc.assert(fc.property(fc.array(fc.record({ stream: fc.constantFrom('a', 'b'), sid: fc.integer({ min: 1, max: 3 }), head: fc.nat(20) }), { maxLength: 40 }), (updates) => {
      const heads = new StreamHeads();
      const model = new Map<string, { sid: number; head: number }>();
      for (const u of updates) {
        heads.advance(u.stream, u.sid, u.head);
        const m = model.get(u.stream);
        if (!m || u.sid > m.sid || (u.sid === m.sid && u.head > m.head)) model.set(u.stream, { sid: u.sid, head: u.head });
      }
      for (const s of ['a', 'b']) expect(heads.head(s)).toBe(model.get(s)?.head ?? 0);
    }));
  });
});
