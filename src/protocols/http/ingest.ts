import type { IncomingHttpHeaders } from 'node:http';
import { decodeCeHeader } from '../../core/ceHeader.js';
import { HeraldError } from '../../core/errors.js';
import { DEFAULT_CONTENT_TYPE, type EventInput } from '../../core/event.js';
import { assertEventField } from '../../core/names.js';
import { fromCloudEvent, fromCloudEventsBatch, tooMany } from './cloudevents.js';
import { assertJson, bodyModeOf, essenceOf, isJsonType, JSON_TYPE, parseJson } from './media.js';

/**
 * A POST body (and its headers) → the events to publish, for every content mode:
 *
 * - single / CloudEvents binary mode: the body is the payload, byte-exact, typed by its
 *   Content-Type (`application/octet-stream` when absent); JSON types must parse.
 *   `ce-id` / `ce-type` / `ce-subject` become the event's id / type / subject, every other
 *   `ce-*` header is kept in `headers`; all percent-decoded, as the CloudEvents HTTP binding
 *   says (core/ceHeader.ts).
 * - structured (`application/cloudevents+json`) and CloudEvents batch: see cloudevents.ts.
 * - NDJSON: one JSON payload per line, stored as `application/json`; blank lines are skipped.
 *
 * Idempotency-Key precedence: the key is the event id, and wins over `ce-id` (or a structured
 * event's `id`), because it is the HTTP-level contract a client sets to make retries safe; the
 * CloudEvents id it displaces is kept as the `ce-id` header. In a batch the key cannot be every
 * event's id: events without an id of their own get `<key>:<index>` (index counts events from
 * 0), so retrying a whole batch stores nothing twice.
 *
 * Throws HeraldError (400, 413, 415) before anything is stored.
 */

export type Ingested = { batch: false; event: EventInput } | { batch: true; events: EventInput[] };

const EMPTY = Buffer.alloc(0);

export function ingest(stream: string, headers: IncomingHttpHeaders, body: Buffer | undefined, maxBatchEvents: number): Ingested {
  const contentType = headers['content-type'];
  const essence = contentType === undefined ? '' : essenceOf(contentType);
  const mode = contentType === undefined ? 'single' : bodyModeOf(essence);
  const data = body ?? EMPTY;
  const key = idempotencyKey(headers);
  switch (mode) {
    case 'single':
      return { batch: false, event: binaryModeEvent(stream, headers, data, contentType, essence, key) };
    case 'structured':
      return { batch: false, event: fromCloudEvent(stream, parseJson(data, 'the body'), 'the body', key) };
    case 'cloudevents-batch':
      return { batch: true, events: nonEmpty(fromCloudEventsBatch(stream, parseJson(data, 'the body'), maxBatchEvents, key)) };
    case 'ndjson':
      return { batch: true, events: nonEmpty(ndjsonEvents(stream, data, maxBatchEvents, key)) };
  }
}

function idempotencyKey(headers: IncomingHttpHeaders): string | undefined {
  const key = headers['idempotency-key'];
  if (typeof key !== 'string') return undefined;
  try {
    assertEventField('id', key);
  } catch (err) {
    throw new HeraldError('invalid_event', `Idempotency-Key header: ${(err as Error).message}`);
  }
  return key;
}

function binaryModeEvent(stream: string, headers: IncomingHttpHeaders, data: Buffer, contentType: string | undefined, essence: string, key: string | undefined): EventInput {
  if (isJsonType(essence)) assertJson(data, 'the body');
  const event: EventInput = { stream, data, contentType: contentType || DEFAULT_CONTENT_TYPE };
  let extra: Record<string, string> | undefined;
  for (const name in headers) {
    // 'c' 'e' '-': cheaper than a regex or startsWith on every header of every request.
    if (name.charCodeAt(0) !== 99 || name.charCodeAt(1) !== 101 || name.charCodeAt(2) !== 45) continue;
    const raw = headers[name];
    if (typeof raw !== 'string') continue;
    const value = ceAttribute(name, raw);
    if (name === 'ce-id') {
      if (key === undefined) event.id = value;
      else if (value !== key) (extra ??= {})[name] = value;
    } else if (name === 'ce-type') event.type = value;
    else if (name === 'ce-subject') event.subject = value;
    else (extra ??= {})[name] = value;
  }
  if (key !== undefined) event.id = key;
  if (extra !== undefined) event.headers = extra;
  return event;
}

/** A `ce-*` header's attribute value, percent-decoded (core/ceHeader.ts); a bad encoding is a 400. */
function ceAttribute(name: string, raw: string): string {
  try {
    return decodeCeHeader(raw);
  } catch (err) {
    throw new HeraldError('invalid_event', `${name} header: ${(err as Error).message}`);
  }
}

/** NDJSON: every non-blank line is one JSON payload; a bad line fails the whole request. */
function ndjsonEvents(stream: string, body: Buffer, maxEvents: number, key: string | undefined): EventInput[] {
  const events: EventInput[] = [];
  let line = 0;
  for (let start = 0; start <= body.length; ) {
    let end = body.indexOf(10, start);
    if (end < 0) end = body.length;
    line++;
    const stop = end > start && body[end - 1] === 13 ? end - 1 : end;
    if (!isBlank(body, start, stop)) {
      if (events.length === maxEvents) throw tooMany(maxEvents);
      assertJson(body, `line ${line}`, start, stop);
      // A view, not a copy: the store copies the bytes as it encodes the event for disk (the
      // memory store copies what it keeps), so nothing pins the request body after the commit.
      const event: EventInput = { stream, data: body.subarray(start, stop), contentType: JSON_TYPE };
      if (key !== undefined) event.id = `${key}:${events.length}`;
      events.push(event);
    }
    start = end + 1;
  }
  return events;
}

function isBlank(body: Buffer, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) {
    const c = body[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

function nonEmpty(events: EventInput[]): EventInput[] {
  if (events.length === 0) throw new HeraldError('bad_request', 'the batch holds no events');
  return events;
}
