import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, req, startEventBus, type Conn, type EbServer } from './helpers.js';

/**
 * fast-check fuzzing of the line protocol: random bytes, random JSON, request-like lines, huge
 * lines, sent split at random points or coalesced. Each connection must get exactly the replies
 * that the same lines get when sent one at a time, the server must keep serving other
 * connections, and over-long lines must end in an error reply and a clean close.
 */

const MAX_LINE = 2048;
let server: EbServer;
let reference: Conn;
let bystander: Conn;

beforeAll(async () => {
  server = await startEventBus({ eventbus: { maxLineBytes: MAX_LINE } });
  reference = await server.open();
  bystander = await server.open();
  // Fixed state, so that every reply below is deterministic.
  await reference.ask(req('create_stream', '{"stream_name": "fixed"}'));
});
afterAll(async () => {
  reference.close();
  bystander.close();
  await server.close();
});

const noNewline = (b: Uint8Array): Buffer => Buffer.from(b.filter((x) => x !== 0x0a));

/**
 * Lines that change nothing, so the same line always gets the same reply. A write_event naming
 * "fixed" is left out: it is accepted (an absent `event` is stored as `null`, as in the original),
 * and the next get_stream_events or process_events on "fixed" would then differ between the
 * reference connection and the one under test.
 */
const line: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 80 }).map(noNewline),
  fc.json().map((j) => Buffer.from(j)),
  fc.string({ unit: 'binary', maxLength: 60 }).map((s) => noNewline(Buffer.from(s))),
  fc
    .tuple(
      fc.constantFrom('health', 'get_stream_info', 'process_events', 'retry_events', 'get_stream_events', 'write_event', 'mark_event', 'bogus', 'HEALTH'),
      fc.constantFrom('', `, ${AUTH}`, ', "auth": {"client_id": "x", "client_secret": "y"}', ', "auth": 7'),
      fc.constantFrom('', ', "body": {"stream_name": "fixed"}', ', "body": {"stream_name": "missing", "event": {"a": [1, 2]}}', ', "body": {"event_id": "nope", "status": 1}', ', "body": {"event_id": "nope", "status": 9}', ', "body": 5', ', "body": null'),
      fc.constantFrom('}', '} trailing', '', '}}', '}\r'),
    )
    .filter(([op, , body]) => !(op === 'write_event' && body.includes('"fixed"')))
    .map(([op, auth, body, end]) => Buffer.from(`{"operation": "${op}"${auth}${body}${end}`)),
);

/** The replies each line gets when sent alone (empty lines get none). */
async function expectedReplies(lines: Buffer[], crlf: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const bare of lines) {
    const l = crlf ? Buffer.concat([bare, Buffer.from('\r')]) : bare;
    const content = l.at(-1) === 0x0d ? l.subarray(0, -1) : l;
    if (content.length === 0) continue;
    const before = reference.replies.length;
    reference.send(Buffer.concat([l, Buffer.from('\n')]));
    out.push((await reference.waitFor(before + 1))[before]!);
  }
  return out;
}

/** Sends `data` in pieces cut at `cuts` (fractions of its length), letting each piece leave on its own. */
async function sendSplit(conn: Conn, data: Buffer, cuts: number[]): Promise<void> {
  const points = [...new Set(cuts.map((c) => Math.floor(c * data.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, data.length]) {
    if (p <= from) continue;
    conn.send(data.subarray(from, p));
    from = p;
    await new Promise((r) => setTimeout(r, 0));
  }
}

describe('the line protocol under fuzzing', () => {
  it('answers every line exactly as when sent alone, however the bytes are split or coalesced', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 25 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), fc.boolean(), async (lines, cuts, crlf) => {
        const expected = await expectedReplies(lines, crlf);
        const conn = await server.open();
        try {
          const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from(crlf ? '\r\n' : '\n')]));
          await sendSplit(conn, data, cuts);
          const replies = await conn.waitFor(expected.length);
          expect(replies).toEqual(expected);
          expect(conn.ended).toBe(false);
        } finally {
          conn.close();
        }
        expect(await bystander.ask('{"operation":"health"}')).toEqual(['{"operation":"health","status":true}']);
      }),
      { numRuns: 80 },
    );
  });

  it('an over-long line, whole or in pieces, gets an error reply after the earlier replies, then a clean close', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: MAX_LINE + 1, max: MAX_LINE * 20 }), fc.integer({ min: 0, max: 3 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), fc.boolean(), async (size, before, cuts, terminated) => {
        const conn = await server.open();
        const huge = Buffer.alloc(size, 0x61);
        const data = Buffer.concat([Buffer.from('{"operation":"health"}\n'.repeat(before)), huge, Buffer.from(terminated ? '\n{"operation":"health"}\n' : '')]);
        await sendSplit(conn, data, cuts);
        await conn.closed;
        expect(conn.replies).toEqual([
          ...Array(before).fill('{"operation":"health","status":true}'),
          `{"operation":"decode_request","status":false,"reason":"request line longer than ${MAX_LINE} bytes (eventbus.maxLineBytes); closing the connection"}`,
        ]);
        expect(await bystander.ask('{"operation":"health"}')).toEqual(['{"operation":"health","status":true}']);
      }),
      { numRuns: 25 },
    );
  });

  it('a line of exactly the limit is still served', async () => {
    const conn = await server.open();
    const line = `{"operation":"health","pad":"${'x'.repeat(MAX_LINE - 31)}"}`;
    expect(Buffer.byteLength(line)).toBe(MAX_LINE);
    expect(await conn.ask(line)).toEqual(['{"operation":"health","status":true}']);
    conn.close();
  });
});
