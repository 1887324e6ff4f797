import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { counterHex, counterOf, ID_PREFIX_LENGTH, IdMinter, newEventId } from '../../src/core/ids.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('event ids', () => {
  it('are UUIDv7 with the current time, each greater than the last', () => {
    let previous = '';
    for (let i = 0; i < 20_000; i++) {
      const id = newEventId();
      expect(id).toMatch(UUID_V7);
      expect(id > previous).toBe(true);
      previous = id;
    }
    const ms = parseInt(previous.slice(0, 8) + previous.slice(9, 13), 16);
    expect(Math.abs(ms - Date.now())).toBeLessThan(5_000);
  });

  it('mint runs whose ids share a prefix and count up, runs never overlapping', () => {
    const minter = new IdMinter();
    let last = '';
    for (let i = 0; i < 2_000; i++) {
      const run = minter.run(1 + (i % 50));
      expect(run.prefix).toHaveLength(ID_PREFIX_LENGTH);
      const first = run.prefix + counterHex(run.lo);
      const end = run.prefix + counterHex(run.lo + run.count - 1);
      expect(first).toMatch(UUID_V7);
      expect(end).toMatch(UUID_V7);
      expect(first > last).toBe(true);
      expect(counterOf(end)).toBe(run.lo + run.count - 1);
      last = end;
    }
  });

  it('continue above a seeded prefix even when the clock is behind it', () => {
    const minter = new IdMinter();
    const future = new IdMinter();
    // A prefix from about a year ahead: what a store holds after the clock was set back.
    const realNow = Date.now;
    Date.now = () => realNow() + 365 * 86_400_000;
    const ahead = future.run(1).prefix;
    Date.now = realNow;
    minter.seed(ahead);
    const next = minter.run(3);
    expect(next.prefix > ahead).toBe(true);
    expect(next.prefix.slice(0, 13)).toBe(ahead.slice(0, 13)); // same millisecond, higher random bits
  });

  it('recognises only ids shaped as minted ones (fuzzed)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const counter = counterOf(s);
        if (counter !== undefined) expect(s.slice(0, ID_PREFIX_LENGTH) + counterHex(counter)).toBe(s);
      }),
      { numRuns: 5000 },
    );
    expect(counterOf('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5B')).toBeUndefined(); // upper-case hex
    expect(counterOf('0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b')).toBeUndefined(); // version 4
    expect(counterOf('0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b')).toBe(0x2e3f4a5b);
  });
});
