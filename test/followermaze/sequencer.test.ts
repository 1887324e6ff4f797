import type { Socket } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FollowerMaze } from '../../src/protocols/followermaze/maze.js';
import { OFFER_DELIVERED, OFFER_STALE, OFFER_TOO_FAR, OFFER_WAITING, Sequencer, type SequencedSink } from '../../src/protocols/followermaze/sequencer.js';
import { SourceConnection } from '../../src/protocols/followermaze/sourceConnection.js';
import { silentLogger } from '../../src/observability/logger.js';

class Recorder implements SequencedSink {
  lines: string[] = [];
  deliver(_type: number, _from: number, _to: number, line: Uint8Array, start: number, end: number): void {
    this.lines.push(Buffer.from(line.subarray(start, end)).toString('latin1'));
  }
}

const offer = (s: Sequencer, seq: number, text = `${seq}|B`): number => {
  const b = Buffer.from(text, 'latin1');
  return s.offer(seq, 0x42, 0, 0, b, 0, b.length);
};

describe('sequencer', () => {
  it('delivers in sequence order from 1, holding what arrives early', () => {
    const r = new Recorder();
    const s = new Sequencer(r, 1000);
    expect(offer(s, 3)).toBe(OFFER_WAITING);
    expect(offer(s, 2)).toBe(OFFER_WAITING);
    expect(r.lines).toEqual([]);
    expect(s.waiting).toBe(2);
    expect(offer(s, 1)).toBe(OFFER_DELIVERED);
    expect(r.lines).toEqual(['1|B', '2|B', '3|B']);
    expect(s.next).toBe(4);
    expect(s.waiting).toBe(0);
  });

  it('refuses seqs already delivered and seqs too far ahead', () => {
    const r = new Recorder();
    const s = new Sequencer(r, 10);
    offer(s, 1);
    expect(offer(s, 1)).toBe(OFFER_STALE);
    expect(offer(s, 0)).toBe(OFFER_STALE);
    expect(offer(s, -4)).toBe(OFFER_STALE);
    expect(offer(s, 12)).toBe(OFFER_TOO_FAR);
    expect(offer(s, 11)).toBe(OFFER_WAITING);
    expect(r.lines).toEqual(['1|B']);
  });

  it('keeps the last of two lines with the same waiting seq (as the original map did)', () => {
    const r = new Recorder();
    const s = new Sequencer(r, 100);
    offer(s, 2, '2|S|1');
    offer(s, 2, '2|S|2');
    expect(s.waiting).toBe(1);
    offer(s, 1);
    expect(r.lines).toEqual(['1|B', '2|S|2']);
  });

  it('keeps long lines byte-exact', () => {
    const r = new Recorder();
    const s = new Sequencer(r, 100);
    const long = `2|P|${'0'.repeat(60)}7|8`;
    offer(s, 2, long);
    offer(s, 1);
    expect(r.lines).toEqual(['1|B', long]);
  });

  it('grows with how far ahead events are, and shrinks back once caught up', () => {
    const r = new Recorder();
    const s = new Sequencer(r, 1 << 20);
    expect(s.slots).toBe(1024);
    for (let seq = 2; seq <= 5000; seq++) offer(s, seq);
    expect(s.slots).toBe(8192);
    expect(s.waitingEvents().map((e) => e.seq)).toEqual(Array.from({ length: 4999 }, (_, i) => i + 2));
    offer(s, 1);
    expect(r.lines).toHaveLength(5000);
    expect(s.slots).toBe(1024);
    // passing many events in order never grows it
    for (let seq = 5001; seq <= 50_000; seq++) offer(s, seq);
    expect(s.slots).toBe(1024);
  });

  it('delivers any arrival order within the window exactly once, in order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 300 }), fc.integer(), (lengths, seed) => {
        const n = lengths.length;
        const order = Array.from({ length: n }, (_, i) => i + 1);
        let x = seed;
        for (let i = n - 1; i > 0; i--) {
          x = (Math.imul(x, 1103515245) + 12345) | 0;
          const j = Math.abs(x) % (i + 1);
          [order[i], order[j]] = [order[j]!, order[i]!];
        }
        const r = new Recorder();
        const s = new Sequencer(r, 1000);
        for (const seq of order) offer(s, seq, `${seq}|S|${'1'.repeat(lengths[seq - 1]! % 50)}`);
        expect(r.lines.map((l) => Number(l.split('|')[0]))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(s.waiting).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});

describe('source line splitting', () => {
  /** Feeds chunks through a SourceConnection and records what the maze dispatched. */
  function feed(chunks: Buffer[], maxLineBytes: number): { lines: string[]; malformed: number } {
    const maze = new FollowerMaze({ logger: silentLogger(), reorderWindow: 1 << 16, clientBufferBytes: 1 << 20, clientStallTimeoutMs: 0, logIntervalMs: 1000 });
    const lines: string[] = [];
    maze.observer = { event: (_s, _t, _f, _to, line, start, end) => lines.push(Buffer.from(line.subarray(start, end)).toString('latin1')), flush: () => {} };
    const source = new SourceConnection({} as Socket, maze, maxLineBytes);
    for (const chunk of chunks) source.onData(chunk);
    source.finish();
    return { lines, malformed: maze.stats().malformed };
  }

  const stream = fc.array(
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('S|1', 'B', 'P|1|2', 'F|3|4', 'U|3|4', 'S|0000000000000000000000000000000000000000000000000001') },
      { weight: 1, arbitrary: fc.constantFrom('junk', '', 'x'.repeat(100), '|B') },
    ),
    { maxLength: 60 },
  );

  it('gives the same result however the bytes are cut into reads (property)', () => {
    fc.assert(
      fc.property(stream, fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }), fc.constantFrom('\n', '\r\n'), fc.boolean(), (items, cuts, ending, tail) => {
        let seq = 0;
        const text = items.map((item) => (['junk', '', '|B'].includes(item) || item.startsWith('x') ? item : `${++seq}|${item}`) + ending).join('') + (tail ? '99|B' : '');
        const bytes = Buffer.from(text, 'latin1');
        const whole = feed([bytes], 64);
        const chunks: Buffer[] = [];
        let at = 0;
        for (let i = 0; at < bytes.length; i++) {
          const n = cuts[i % cuts.length]!;
          chunks.push(Buffer.from(bytes.subarray(at, at + n)));
          at += n;
        }
        expect(feed(chunks, 64)).toEqual(whole);
        // what was dispatched: every valid line of at most 64 bytes, in order
        expect(whole.lines).toEqual(text.split('\n').slice(0, tail ? -1 : undefined).map((l) => l.replace(/\r$/, '')).filter((l) => /^\d+\|/.test(l) && l.length + (ending.length - 1) <= 64));
        expect(whole.malformed).toBe(items.length - whole.lines.length + (tail ? 1 : 0));
      }),
      { numRuns: 500 },
    );
  });
});
