import { DEFAULT_CONTENT_TYPE, DEFAULT_EVENT_TYPE, type EventInput, type StoredEvent } from '../core/event.js';
import { assertEventField, assertStreamName } from '../core/names.js';
import { HeraldError } from '../core/errors.js';

/** Header-value characters (latin1, no control characters), as HTTP allows in Content-Type. */
const CONTENT_TYPE_PATTERN = /^[\x20-\x7e\x80-\xff]+$/;

/** An event ready to store: everything but its seq, which is assigned at commit. */
export type EventRecord = Omit<StoredEvent, 'seq'>;

/**
 * Validates a producer's input and fills in the defaults. Throws `HeraldError` naming the bad
 * field, so bad input never reaches the write path. The id stays empty when the producer gave
 * none: the store mints it at commit, and knows a fresh id needs no duplicate check.
 */
export function toRecord(input: EventInput, now: string): EventRecord {
  assertStreamName(input.stream);
  if (!(input.data instanceof Uint8Array)) {
    throw new HeraldError('invalid_event', 'event data must be bytes (Uint8Array)');
  }
  const id = input.id ?? '';
  if (input.id !== undefined) assertEventField('id', id);
  const type = input.type ?? DEFAULT_EVENT_TYPE;
  assertEventField('type', type);
  if (input.subject !== undefined) assertEventField('subject', input.subject);
  const contentType = input.contentType || DEFAULT_CONTENT_TYPE;
  if (contentType.length > 255 || !CONTENT_TYPE_PATTERN.test(contentType)) {
    throw new HeraldError('invalid_event', `invalid content type ${JSON.stringify(contentType).slice(0, 80)}: at most 255 characters, no control characters`, { field: 'contentType' });
  }
  const record: EventRecord = {
    stream: input.stream,
    id,
    type,
    time: now,
    contentType,
    data: input.data,
  };
  if (input.subject !== undefined) record.subject = input.subject;
  if (input.headers && Object.keys(input.headers).length > 0) record.headers = input.headers;
  return record;
}
