import { HeraldError } from '../core/errors.js';
import type { StoredEvent } from '../core/event.js';
import { compilePattern } from '../core/patterns.js';
import type { FrameFormat } from './liveEvent.js';

/**
 * What a live connection asks for, parsed from its query string and headers (SSE and
 * WebSocket alike). Pure and fuzzed (test/live/request.test.ts): every bad value is a 400 with
 * a message saying what is allowed.
 */
export interface LiveRequest {
  /** Start after this seq; undefined: from the stream's head at connect time (live only). */
  after: number | undefined;
  /** Only events passing this; undefined: every event. */
  filter: ((e: StoredEvent) => boolean) | undefined;
  /** SSE only: `payload` (data is the payload) or `envelope` (data is the event as JSON). */
  format: 'payload' | 'envelope';
}

export type Query = Record<string, string | string[] | undefined>;

/** Most `type` or `subject` values in one request. */
export const MAX_FILTER_VALUES = 32;
const MAX_FILTER_LENGTH = 200;

/**
 * A position: decimal digits only (a Last-Event-ID is a seq Herald sent), at most
 * Number.MAX_SAFE_INTEGER. Surrounding spaces are tolerated, as HTTP header values may carry them.
 */
export function parsePosition(value: string, source: string): number {
  const trimmed = value.trim();
  if (!/^[0-9]{1,16}$/.test(trimmed) || Number(trimmed) > Number.MAX_SAFE_INTEGER) {
    throw new HeraldError('bad_request', `${source} must be a seq: a whole number written in digits, got ${JSON.stringify(value).slice(0, 40)}`);
  }
  return Number(trimmed);
}

/**
 * The resume position: the `Last-Event-ID` header wins over the query (a reconnecting
 * EventSource sends the header while its URL still holds the first position); then `after`,
 * or `lastEventId` (Mercure's spelling). `0` replays from the earliest stored event.
 */
export function resumePosition(query: Query, lastEventIdHeader: string | string[] | undefined): number | undefined {
  const header = single(lastEventIdHeader, 'the Last-Event-ID header');
  // An empty Last-Event-ID is what EventSource sends when it has seen no id yet.
  if (header !== undefined && header.trim() !== '') return parsePosition(header, 'the Last-Event-ID header');
  const after = single(query.after, 'after');
  const lastEventId = single(query.lastEventId, 'lastEventId');
  if (after !== undefined && lastEventId !== undefined) throw new HeraldError('bad_request', 'give after or lastEventId, not both');
  const value = after ?? lastEventId;
  return value === undefined ? undefined : parsePosition(value, after !== undefined ? 'after' : 'lastEventId');
}

/** `type` and `subject` filters: exact values, or patterns where `*` matches any run of characters. */
export function parseFilter(query: Query): ((e: StoredEvent) => boolean) | undefined {
  const types = matchers(query.type, 'type');
  const subjects = matchers(query.subject, 'subject');
  if (types === undefined && subjects === undefined) return undefined;
  return (e) => (types === undefined || matches(types, e.type)) && (subjects === undefined || (e.subject !== undefined && matches(subjects, e.subject)));
}

export function parseLiveRequest(query: Query, lastEventIdHeader: string | string[] | undefined): LiveRequest {
  const format = single(query.format, 'format') ?? 'payload';
  if (format !== 'payload' && format !== 'envelope') {
    throw new HeraldError('bad_request', `format must be payload or envelope, got ${JSON.stringify(format).slice(0, 40)}`);
  }
  return { after: resumePosition(query, lastEventIdHeader), filter: parseFilter(query), format };
}

export function sseFormat(format: LiveRequest['format']): FrameFormat {
  return format === 'envelope' ? 'sse-envelope' : 'sse';
}

type Matcher = string | RegExp | null;

function matchers(value: string | string[] | undefined, name: string): Matcher[] | undefined {
  if (value === undefined) return undefined;
  const values = Array.isArray(value) ? value : [value];
  if (values.length > MAX_FILTER_VALUES) throw new HeraldError('bad_request', `at most ${MAX_FILTER_VALUES} ${name} values`);
  return values.map((v) => {
    if (v.length === 0 || v.length > MAX_FILTER_LENGTH) throw new HeraldError('bad_request', `a ${name} filter is 1 to ${MAX_FILTER_LENGTH} characters (* matches any run of characters)`);
    return v.includes('*') ? compilePattern(v) : v;
  });
}

function matches(list: Matcher[], value: string): boolean {
  for (const m of list) {
    if (m === null || m === value || (typeof m !== 'string' && m.test(value))) return true;
  }
  return false;
}

function single(value: string | string[] | undefined, name: string): string | undefined {
  if (!Array.isArray(value)) return value;
  if (value.length === 1) return value[0];
  throw new HeraldError('bad_request', `${name} given more than once`);
}
