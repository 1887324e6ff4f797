import type { IncomingMessage } from 'node:http';
import type { EventRow } from '../../sources/eventRow.js';

/**
 * EventPiper's wire format (compat.md §4), byte for byte: header parsing and frames. Pure and
 * fuzzed in test/eventpiper/wire.test.ts.
 */

/** The 401 body when X-Consumer-Id is missing. */
export const NO_CONSUMER_TEXT = "Request doesn't pass through the API gateway!";
export const NOT_FOUND_TEXT = 'Not found';
export const HEALTH_BODY = '{"status":"UP"}';

/** `event: heartbeat` / `data: thump`, with the original's extra blank line. */
export const HEARTBEAT_FRAME = 'event: heartbeat\ndata: thump\n\n\n';

/**
 * One event: `id`, `event` (the row's type), `data` (the payload as compact JSON), then two
 * blank lines as the original's heredoc wrote. A type or payload holding a line break would
 * break SSE framing: each line of it gets its own field line (the original sent it raw).
 */
export function eventFrame(row: EventRow): string {
  return `id: ${row.id}\n${field('event', row.type)}${field('data', row.payloadJson)}\n\n`;
}

function field(name: string, value: string): string {
  if (!value.includes('\n') && !value.includes('\r')) return `${name}: ${value}\n`;
  // A JSON payload is compact and escapes line breaks, so only a type can get here; an event
  // type spread over lines would read as two fields, so it is flattened instead.
  return name === 'data' ? value.split(/\r\n|\r|\n/).map((l) => `data: ${l}\n`).join('') : `${name}: ${value.replace(/[\r\n]+/g, ' ')}\n`;
}

/**
 * The consumer id: the first `X-Consumer-Id` header (an empty value is allowed), or
 * undefined when there is none.
 */
export function consumerIdOf(req: IncomingMessage): string | undefined {
  return req.headersDistinct['x-consumer-id']?.[0];
}

/**
 * The replay position from `Last-Event-ID`: an integer string with an optional sign and nothing
 * else (no spaces), as the original's `Integer.parse` check; anything else means no replay.
 * Values beyond the safe-integer range are clamped (row ids are safe integers).
 */
export function replayAfter(value: string | undefined): number | undefined {
  if (value === undefined || !/^[+-]?[0-9]+$/.test(value)) return undefined;
  const n = Number(value);
  if (n > Number.MAX_SAFE_INTEGER) return Number.MAX_SAFE_INTEGER;
  if (n < Number.MIN_SAFE_INTEGER) return Number.MIN_SAFE_INTEGER;
  return n;
}

export function lastEventIdOf(req: IncomingMessage): string | undefined {
  return req.headersDistinct['last-event-id']?.[0];
}
