import { randomFillSync } from 'node:crypto';

/**
 * UUIDv7 event ids (RFC 9562), minted in *runs*: the ids of one run share their first 28
 * characters (the millisecond timestamp and 42 random bits, the run's *prefix*) and end in a
 * 32-bit counter, `lo`, `lo + 1`, … (the RFC's "fixed-length dedicated counter", method 1).
 *
 * Why runs: the LMDB store indexes a run of freshly minted ids with ONE entry (prefix → where
 * the run's first event is stored) instead of one entry per event, and finds any id of the run
 * by arithmetic on its counter. Per-event index writes were half of an append's cost and most of
 * the database pages the process touched.
 *
 * Every run's prefix is greater than the previous one's, even when the clock stands still or goes
 * back (the 42 random bits are then the previous run's plus one), so runs never overlap; a store
 * seeds its minter with the greatest prefix it holds, so this also holds across restarts.
 */

/** A run of `count` ids: `prefix + hex8(lo + k)` for k in 0..count-1. */
export interface IdRun {
  prefix: string;
  lo: number;
  count: number;
}

/** Length of a run's shared prefix; the last 8 characters are the counter. */
export const ID_PREFIX_LENGTH = 28;
const HI_BITS_RANDOM = 2 ** 41; // fresh random hi values leave room for +1 steps within a millisecond
const HI_LIMIT = 2 ** 42;
const LO_RANDOM = 2 ** 31; // the counter starts in the lower half: a run of up to 2^31 ids never wraps
const MAX_RUN = 2 ** 31;

const POOL_WORDS = 1024;
const pool = new Uint32Array(POOL_WORDS);
let poolAt = POOL_WORDS;
/** 32 random bits, drawn from the OS in blocks (a syscall per id showed in profiles). */
function random32(): number {
  if (poolAt === POOL_WORDS) {
    randomFillSync(pool);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}

/** The 8-hex-digit counter that ends an id. */
export function counterHex(n: number): string {
  return hex(n >>> 0, 8);
}

export class IdMinter {
  private lastMs = -1;
  private lastHi = 0;

  /** Continues after `prefix` (the greatest a store holds), whatever the clock says. */
  seed(prefix: string): void {
    const parsed = parsePrefix(prefix);
    if (parsed && (parsed.ms > this.lastMs || (parsed.ms === this.lastMs && parsed.hi > this.lastHi))) {
      this.lastMs = parsed.ms;
      this.lastHi = parsed.hi;
    }
  }

  /** A new run of `count` ids (1 ≤ count < 2^31), every one greater than any minted before. */
  run(count: number): IdRun {
    if (!(count >= 1 && count < MAX_RUN)) throw new RangeError(`an id run holds 1 to ${MAX_RUN - 1} ids, not ${count}`);
    const now = Date.now();
    let ms: number;
    let hi: number;
    if (now > this.lastMs) {
      ms = now;
      hi = (random32() % (HI_BITS_RANDOM / 2 ** 32)) * 2 ** 32 + random32(); // 41 random bits
    } else {
      ms = this.lastMs;
      hi = this.lastHi + 1;
      if (hi >= HI_LIMIT) {
        ms += 1; // 2^41 runs in one millisecond: borrow the next one (RFC 9562 §6.2)
        hi = 0;
      }
    }
    this.lastMs = ms;
    this.lastHi = hi;
    return { prefix: formatPrefix(ms, hi), lo: random32() % LO_RANDOM, count };
  }
}

/**
 *   tttttttt-tttt-7aaa-vbbb-bbbb|llllllll
 * t: 48-bit ms timestamp; a: the top 12 bits of hi; v b…: the variant (binary 10) and the low 30
 * bits of hi; l: the counter.
 */
function formatPrefix(ms: number, hi: number): string {
  const t = hex(ms, 12);
  const randA = Math.floor(hi / 2 ** 30);
  const word = (0x80000000 + (hi % 2 ** 30)) >>> 0; // variant bits 10, then 30 bits of hi
  const w = hex(word, 8);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${hex(randA, 3)}-${w.slice(0, 4)}-${w.slice(4)}`;
}

const PREFIX_PATTERN = /^([0-9a-f]{8})-([0-9a-f]{4})-7([0-9a-f]{3})-([89ab][0-9a-f]{3})-([0-9a-f]{4})$/;

function parsePrefix(prefix: string): { ms: number; hi: number } | undefined {
  const m = PREFIX_PATTERN.exec(prefix);
  if (!m) return undefined;
  const ms = parseInt(m[1]! + m[2]!, 16);
  const word = parseInt(m[4]! + m[5]!, 16);
  return { ms, hi: parseInt(m[3]!, 16) * 2 ** 30 + (word % 2 ** 30) };
}

const COUNTER_PATTERN = /^[0-9a-f]{8}$/;

/**
 * The counter of an id that has the shape of a minted one, or undefined: lets a store find a
 * minted id from its run's entry without an entry per id.
 */
export function counterOf(id: string): number | undefined {
  if (id.length !== 36 || id.charCodeAt(14) !== 55 /* '7' */) return undefined;
  const tail = id.slice(ID_PREFIX_LENGTH);
  return COUNTER_PATTERN.test(tail) ? parseInt(tail, 16) : undefined;
}

/** A run of minted ids as stores index it by prefix: [sid, seq of its first event, counter of its first id, count]. */
export type StoredRun = readonly [sid: number, firstSeq: number, lo: number, count: number];

/**
 * Where a minted id's event is: its prefix names the run (`runOf`), its counter says how far
 * into the run. Undefined for an id that is not minted or not in a stored run.
 */
export function locateInRun(id: string, runOf: (prefix: string) => StoredRun | undefined): { sid: number; seq: number } | undefined {
  const counter = counterOf(id);
  if (counter === undefined) return undefined;
  const run = runOf(id.slice(0, ID_PREFIX_LENGTH));
  if (!run) return undefined;
  const [sid, firstSeq, lo, count] = run;
  const k = counter - lo;
  return k >= 0 && k < count ? { sid, seq: firstSeq + k } : undefined;
}

const shared = new IdMinter();

/** One fresh UUIDv7, for a store that indexes every id (PostgreSQL). */
export function newEventId(): string {
  const run = shared.run(1);
  return run.prefix + counterHex(run.lo);
}
