import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validate, version } from 'uuid';
import { IdMinter, newIdSalt, newEventId } from '../../src/core/ids.js';

describe('event ids', () => {
  it('mints valid UUIDv7s that decode back to their position', () => {
    const minter = new IdMinter(newIdSalt());
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 22 - 1 }), fc.integer({ min: 1, max: 2 ** 44 - 1 }), (sid, seq) => {
        const { id, positional } = minter.mint(sid, seq);
        expect(positional).toBe(true);
        expect(validate(id) && version(id)).toBe(7);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(minter.position(id)).toEqual({ sid, seq });
      }),
      { numRuns: 2000 },
    );
  });

  it('gives different ids to the same position in stores with different salts', () => {
    const a = new IdMinter(newIdSalt());
    const b = new IdMinter(newIdSalt());
    const idsA = new Set(Array.from({ length: 1000 }, (_, i) => a.mint(1, i + 1).id.slice(14)));
    const idsB = Array.from({ length: 1000 }, (_, i) => b.mint(1, i + 1).id.slice(14));
    expect(idsB.filter((id) => idsA.has(id))).toEqual([]);
    // Another store's id decodes to some position here, but never to its own with this salt.
    expect(a.position(b.mint(1, 1).id)).not.toEqual({ sid: 1, seq: 1 });
  });

  it('falls back to a random UUIDv7 for positions too large to embed', () => {
    const minter = new IdMinter(newIdSalt());
    expect(minter.mint(2 ** 22, 1).positional).toBe(false);
    expect(minter.mint(1, 2 ** 44).positional).toBe(false);
    expect(version(minter.mint(1, 2 ** 44).id)).toBe(7);
  });

  it('recognises only the UUIDv7 shape', () => {
    const minter = new IdMinter(newIdSalt());
    for (const id of ['', 'order-42', newEventId().toUpperCase(), '01a20749-9034-4518-a4ba-c682519dbf37', '01a20749-9034-7518-c4ba-c682519dbf37', '01a20749-9034-7518-a4ba-c682519dbf3g']) {
      expect(minter.position(id)).toBeUndefined();
    }
    fc.assert(fc.property(fc.string(), (s) => void minter.position(s)));
  });
});
