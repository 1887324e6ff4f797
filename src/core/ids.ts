import { randomBytes, randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

/**
 * Event ids: UUIDv7 (RFC 9562), time-ordered and unique.
 *
 * Ids the store mints carry their own position. The 74 bits a UUIDv7 leaves to randomness hold
 * 8 random bits and the event's (sid, seq), the latter XORed with a random 66-bit salt of the
 * store. So an id minted here needs no entry in the id index — which halved the LMDB write work
 * per event — and is still unique: within a store because (sid, seq) is, across stores because
 * their salts differ (and their clocks rarely agree to the millisecond). Looking such an id up
 * decodes the position and checks that the event stored there has this very id.
 *
 * Positions too large to embed (sid >= 2^22 or seq >= 2^44) get an ordinary random UUIDv7 and an
 * index entry, like producer-chosen ids.
 */
const SID_BITS = 22n;
const SEQ_BITS = 44n;
const POSITION_BITS = SID_BITS + SEQ_BITS; // 66
const POSITION_MASK = (1n << POSITION_BITS) - 1n;
const RAND_B_BITS = 62n;
const MAX_SID = 2 ** 22;
const MAX_SEQ = 2 ** 44;

/** A store's random salt for minted ids (66 bits), from 9 random bytes. */
export function newIdSalt(): Buffer {
  return randomBytes(9);
}

function saltValue(salt: Uint8Array): bigint {
  let v = 0n;
  for (const b of salt) v = (v << 8n) | BigInt(b);
  return v & POSITION_MASK;
}

const POOL_SIZE = 16 * 1024;
const pool = new Uint8Array(POOL_SIZE);
let offset = POOL_SIZE;

/** 16 random bytes from a pool refilled in blocks: one syscall per id showed in profiles. */
function random16(): Uint8Array {
  if (offset === POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + 16);
  offset += 16;
  return bytes;
}

/** A plain random UUIDv7. */
export function newEventId(): string {
  return v7({ random: random16() });
}

/** Mints and recognises the position-carrying ids of one store. */
export class IdMinter {
  private readonly salt: bigint;

  constructor(salt: Uint8Array) {
    this.salt = saltValue(salt);
  }

  /** An id for the event at (sid, seq); a plain random UUIDv7 when the position does not fit. */
  mint(sid: number, seq: number): { id: string; positional: boolean } {
    if (sid >= MAX_SID || seq >= MAX_SEQ) return { id: newEventId(), positional: false };
    const random = random16();
    const payload = (BigInt(random[0]!) << POSITION_BITS) | ((((BigInt(sid) << SEQ_BITS) | BigInt(seq)) ^ this.salt) & POSITION_MASK);
    const randA = Number(payload >> RAND_B_BITS); // 12 bits
    const randB = payload & ((1n << RAND_B_BITS) - 1n); // 62 bits
    const ms = Date.now();
    const hex =
      ms.toString(16).padStart(12, '0') +
      (0x7000 | randA).toString(16) +
      ((0x8000000000000000n | randB).toString(16));
    return { id: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`, positional: true };
  }

  /** The position an id would have been minted for, if it has the shape of one. */
  position(id: string): { sid: number; seq: number } | undefined {
    if (id.length !== 36 || id[14] !== '7' || id[8] !== '-' || id[13] !== '-' || id[18] !== '-' || id[23] !== '-') return undefined;
    const hex = id.slice(15, 18) + id.slice(19, 23) + id.slice(24);
    if (!/^[0-9a-f]{19}$/.test(hex)) return undefined;
    const randA = BigInt(`0x${hex.slice(0, 3)}`);
    const tail = BigInt(`0x${hex.slice(3)}`); // variant (2 bits) + rand_b (62 bits)
    if (tail >> RAND_B_BITS !== 2n) return undefined;
    const payload = (randA << RAND_B_BITS) | (tail & ((1n << RAND_B_BITS) - 1n));
    const position = (payload & POSITION_MASK) ^ this.salt;
    return { sid: Number(position >> SEQ_BITS), seq: Number(position & ((1n << SEQ_BITS) - 1n)) };
  }
}
