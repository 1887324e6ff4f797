import { describe, expect, it } from 'vitest';
import { AttemptHistory, type AttemptFacts } from '../../src/delivery/webhooks/attempts.js';

const T0 = Date.parse('2026-12-07T10:00:00.000Z');

function facts(n: number, extra: Partial<AttemptFacts> = {}): AttemptFacts {
  return { time: T0 + n * 1000, seq: n, eventId: `evt-${n}`, attempt: 1, status: 200, error: undefined, latencyMs: 1.23456, response: undefined, outcome: 'delivered', ...extra };
}

describe('AttemptHistory', () => {
  it('lists nothing before the first attempt', () => {
    expect(new AttemptHistory(3).list()).toEqual([]);
  });

  it('shows records newest first, with the time as RFC 3339 and latency to 0.01 ms', () => {
    const h = new AttemptHistory(5);
    h.add(facts(1));
    h.add(facts(2, { status: 503, attempt: 2, outcome: 'retrying', error: undefined, response: 'busy' }));
    expect(h.list()).toEqual([
      { time: '2026-12-07T10:00:02.000Z', seq: 2, eventId: 'evt-2', attempt: 2, status: 503, latencyMs: 1.23, response: 'busy', outcome: 'retrying' },
      { time: '2026-12-07T10:00:01.000Z', seq: 1, eventId: 'evt-1', attempt: 1, status: 200, latencyMs: 1.23, outcome: 'delivered' },
    ]);
  });

  it('keeps only the newest `capacity` attempts once it wraps, and honours the limit', () => {
    const h = new AttemptHistory(3);
    for (let n = 1; n <= 7; n++) h.add(facts(n));
    expect(h.list().map((r) => r.seq)).toEqual([7, 6, 5]);
    expect(h.list(2).map((r) => r.seq)).toEqual([7, 6]);
    expect(h.list(10).map((r) => r.seq)).toEqual([7, 6, 5]);
  });

  it('leaves out what an attempt did not have: no status for a transport error, no empty response', () => {
    const h = new AttemptHistory(2);
    h.add(facts(1, { status: undefined, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9', outcome: 'dead', response: undefined }));
    h.add(facts(2, { response: '' }));
    const [second, first] = h.list();
    expect(first).toEqual({ time: '2026-12-07T10:00:01.000Z', seq: 1, eventId: 'evt-1', attempt: 1, error: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9', latencyMs: 1.23, outcome: 'dead' });
    expect(second).not.toHaveProperty('response');
    expect(second).not.toHaveProperty('error');
  });

  it('does not carry an old entry\'s error or response into the slot that replaces it', () => {
    const h = new AttemptHistory(1);
    h.add(facts(1, { status: 500, error: 'HTTP 500', response: 'boom', outcome: 'retrying' }));
    h.add(facts(2));
    expect(h.list()).toEqual([{ time: '2026-12-07T10:00:02.000Z', seq: 2, eventId: 'evt-2', attempt: 1, status: 200, latencyMs: 1.23, outcome: 'delivered' }]);
  });
});
