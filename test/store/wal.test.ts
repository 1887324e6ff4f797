import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WriteAheadLog } from '../../src/store/wal.js';
import { tempDir } from '../helpers/tmp.js';

const HEADER = 16;

/** Runs `body` with a log of `capacity` bytes in a fresh directory. */
function withLog<T>(capacity: number, body: (open: () => WriteAheadLog, path: string) => T): T {
  const dir = tempDir();
  const path = join(dir.path, 'wal');
  const opened: WriteAheadLog[] = [];
  try {
    return body(() => {
      const log = WriteAheadLog.open(path, capacity);
      opened.push(log);
      return log;
    }, path);
  } finally {
    for (const log of opened) log.close();
    dir.cleanup();
  }
}

const payload = (s: string): Buffer => Buffer.from(s);
const texts = (records: Array<{ payload: Buffer }>): string[] => records.map((r) => r.payload.toString());

describe('write-ahead log', () => {
  it('creates its file at full size, zero-filled, and reads nothing from it', () => {
    withLog(64 * 1024, (open, path) => {
      const log = open();
      expect(statSync(path).size).toBe(64 * 1024);
      expect(readFileSync(path).every((b) => b === 0)).toBe(true);
      expect(log.recover(0)).toEqual([]);
    });
  });

  it('recovers the records appended, with consecutive seqs, and only those after a given seq', () => {
    withLog(64 * 1024, (open) => {
      const log = open();
      log.recover(0);
      expect(['a', 'bb', 'ccc'].map((s) => log.append(payload(s)))).toEqual([1, 2, 3]);
      const again = open();
      expect(texts(again.recover(0))).toEqual(['a', 'bb', 'ccc']);
      expect(again.recover(2).map((r) => r.seq)).toEqual([3]);
      expect(again.recover(3)).toEqual([]);
    });
  });

  it('after a rewind, writes from the start and recovers only the new records', () => {
    withLog(64 * 1024, (open) => {
      const log = open();
      log.recover(0);
      for (const s of ['old-1', 'old-2', 'old-3']) log.append(payload(s));
      log.rewind(); // LMDB now holds seqs 1..3
      expect(log.append(payload('new-4'))).toBe(4);
      // The new record overwrote the first old one. The old ones behind it are whole, but their
      // seqs do not follow the new one's: they end the log.
      expect(texts(open().recover(0))).toEqual(['new-4']);
      expect(texts(open().recover(3))).toEqual(['new-4']);
      expect(open().recover(4)).toEqual([]);
    });
  });

  it('continues the seqs after recovering, writing from the start', () => {
    withLog(64 * 1024, (open) => {
      const log = open();
      log.recover(0);
      log.append(payload('one'));
      log.append(payload('two'));
      const again = open();
      expect(again.recover(1).map((r) => r.seq)).toEqual([2]);
      expect(again.empty).toBe(true);
      expect(again.append(payload('three'))).toBe(3);
      expect(texts(open().recover(2))).toEqual(['three']);
    });
  });

  it('refuses a record that does not fit, and says which fit', () => {
    withLog(1024, (open) => {
      const log = open();
      log.recover(0);
      expect(log.fits(1024 - HEADER)).toBe(true);
      expect(log.fits(1024 - HEADER + 1)).toBe(false);
      log.append(Buffer.alloc(600));
      expect(log.fits(600)).toBe(false);
      expect(() => log.append(Buffer.alloc(600))).toThrow(/does not fit/);
      log.rewind();
      expect(log.append(Buffer.alloc(600))).toBe(2);
    });
  });

  it('grows a shorter file to its capacity and keeps what it held', () => {
    withLog(32 * 1024, (open, path) => {
      const log = open();
      log.recover(0);
      log.append(payload('kept'));
      log.close();
      writeFileSync(path, readFileSync(path).subarray(0, 1024));
      expect(texts(open().recover(0))).toEqual(['kept']);
      expect(statSync(path).size).toBe(32 * 1024);
    });
  });

  it('ends at a torn or damaged record: what follows it is not recovered', () => {
    withLog(64 * 1024, (open, path) => {
      const log = open();
      log.recover(0);
      for (const s of ['first', 'second', 'third']) log.append(payload(s));
      const bytes = readFileSync(path);
      const secondAt = HEADER + 'first'.length;
      bytes[secondAt + HEADER + 2] ^= 0xff; // a payload byte of "second"
      writeFileSync(path, bytes);
      expect(texts(open().recover(0))).toEqual(['first']);
    });
  });

  it('fuzz: recovers exactly the records since the last rewind, whatever is torn or left behind them', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.constant('rewind' as const)), { maxLength: 40 }),
        fc.option(fc.record({ cut: fc.nat(), garbage: fc.uint8Array({ maxLength: 64 }) }), { nil: undefined }),
        (steps, tear) => {
          withLog(4096, (open, path) => {
            const log = open();
            log.recover(0);
            let applied = 0;
            let last = 0;
            let current: Array<{ seq: number; bytes: Uint8Array }> = [];
            let offset = 0;
            for (const step of steps) {
              if (step === 'rewind' || !log.fits(step.length)) {
                // What the store does: LMDB takes every record, then the log starts over.
                applied = last;
                log.rewind();
                current = [];
                offset = 0;
                if (step === 'rewind') continue;
              }
              last = log.append(Buffer.from(step));
              current.push({ seq: last, bytes: step });
              offset += HEADER + step.length;
            }
            if (tear) {
              // A crash while writing one more record: some of its bytes land, the rest is garbage.
              const bytes = readFileSync(path);
              const at = Math.min(offset + (tear.cut % 64), bytes.length);
              Buffer.from(tear.garbage).copy(bytes, at);
              writeFileSync(path, bytes);
            }
            // Neither the torn record nor anything left from before a rewind is recovered.
            const recovered = open().recover(applied);
            expect(recovered.map((r) => r.seq)).toEqual(current.map((r) => r.seq));
            expect(recovered.map((r) => [...r.payload])).toEqual(current.map((r) => [...r.bytes]));
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('fuzz: reads any file content without throwing, returning consecutive seqs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.nat({ max: 10 }), (content, after) => {
        withLog(2048, (open, path) => {
          open().close();
          writeFileSync(path, Buffer.concat([Buffer.from(content), Buffer.alloc(2048 - content.length)]));
          const seqs = open().recover(after).map((r) => r.seq);
          for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
          for (const seq of seqs) expect(seq).toBeGreaterThan(after);
        });
      }),
      { numRuns: 200 },
    );
  });
});
