import { HeraldError } from '../../core/errors.js';
import { DEFAULT_CONTENT_TYPE, type EventInput } from '../../core/event.js';
import { essenceOf, isJsonType, JSON_TYPE } from './media.js';

/**
 * CloudEvents structured mode (JSON event format 1.0) → EventInput.
 *
 * `id`, `type` and `subject` become the event's own fields; `datacontenttype` its content type;
 * `data` / `data_base64` its payload. Every other attribute (`source`, `specversion`, `time`,
 * `dataschema`, extensions) is kept in `headers` as `ce-<name>`, the same form binary mode
 * stores, so an egress adapter can forward either the same way. `time` stays a header: the
 * event's own `time` is when Herald appended it.
 */

const EMPTY = new Uint8Array(0);
/** CloudEvents attribute names: lower-case letters and digits (spec §3.1.1). */
const ATTRIBUTE_NAME = /^[a-z0-9]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function bad(where: string, message: string): HeraldError {
  return new HeraldError('bad_request', `${where}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringAttr(where: string, name: string, value: unknown): string {
  if (typeof value !== 'string') throw bad(where, `attribute "${name}" must be a string`);
  return value;
}

/**
 * One structured CloudEvent. `where` prefixes error messages ("body", "event at index 3").
 * `id` overrides the CloudEvent's own id (the Idempotency-Key rule); the overridden id is kept
 * as the `ce-id` header.
 */
export function fromCloudEvent(stream: string, value: unknown, where: string, id?: string): EventInput {
  if (!isObject(value)) throw bad(where, 'a structured CloudEvent must be a JSON object');
  const event: EventInput = { stream, data: EMPTY };
  const headers: Record<string, string> = {};
  let datacontenttype: string | undefined;
  for (const name of Object.keys(value)) {
    const v = value[name];
    // The JSON format treats a null attribute as absent.
    if (v === null || name === 'data' || name === 'data_base64') continue;
    switch (name) {
      case 'id':
        event.id = stringAttr(where, name, v);
        break;
      case 'type':
        event.type = stringAttr(where, name, v);
        break;
      case 'subject':
        event.subject = stringAttr(where, name, v);
        break;
      case 'datacontenttype':
        datacontenttype = stringAttr(where, name, v);
        break;
      default:
        if (!ATTRIBUTE_NAME.test(name)) throw bad(where, `invalid attribute name ${JSON.stringify(name).slice(0, 80)}: lower-case letters and digits only`);
        if (typeof v === 'string') headers[`ce-${name}`] = v;
        else if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) headers[`ce-${name}`] = String(v);
        else throw bad(where, `attribute "${name}" must be a string, number or boolean`);
    }
  }
  if (id !== undefined) {
    if (event.id !== undefined && event.id !== id) headers['ce-id'] = event.id;
    event.id = id;
  }
  setData(event, value.data ?? undefined, value.data_base64 ?? undefined, datacontenttype, where);
  if (Object.keys(headers).length > 0) event.headers = headers;
  return event;
}

function setData(event: EventInput, data: unknown, base64: unknown, contentType: string | undefined, where: string): void {
  if (data !== undefined && base64 !== undefined) throw bad(where, 'give "data" or "data_base64", not both');
  if (base64 !== undefined) {
    if (typeof base64 !== 'string' || base64.length % 4 !== 0 || !BASE64.test(base64)) throw bad(where, '"data_base64" must be a base64 string');
    event.data = Buffer.from(base64, 'base64');
    event.contentType = contentType ?? DEFAULT_CONTENT_TYPE;
    return;
  }
  if (data === undefined) {
    // No payload: zero bytes, typed only if the producer said so.
    event.contentType = contentType ?? DEFAULT_CONTENT_TYPE;
    return;
  }
  const type = contentType ?? JSON_TYPE;
  event.contentType = type;
  if (isJsonType(essenceOf(type))) {
    event.data = Buffer.from(JSON.stringify(data), 'utf8');
  } else if (typeof data === 'string') {
    // For a non-JSON datacontenttype the JSON format carries the payload as a string.
    event.data = Buffer.from(data, 'utf8');
  } else {
    throw bad(where, `"data" must be a string when datacontenttype is not JSON (${JSON.stringify(type).slice(0, 80)}); use "data_base64" for bytes`);
  }
}

/**
 * A CloudEvents JSON batch: an array of structured events. With an Idempotency-Key, events
 * without an id of their own get `<key>:<index>`, so retrying the whole request stores nothing
 * twice; an event's own id wins, as a batch key cannot name every event.
 */
export function fromCloudEventsBatch(stream: string, value: unknown, maxEvents: number, key: string | undefined): EventInput[] {
  if (!Array.isArray(value)) throw new HeraldError('bad_request', 'a CloudEvents batch must be a JSON array of CloudEvents');
  if (value.length > maxEvents) throw tooMany(maxEvents, value.length);
  return value.map((item, i) => {
    const event = fromCloudEvent(stream, item, `event at index ${i}`);
    if (event.id === undefined && key !== undefined) event.id = `${key}:${i}`;
    return event;
  });
}

/** 413 for a batch over http.maxBatchEvents (`count` when known; NDJSON stops counting early). */
export function tooMany(max: number, count?: number): HeraldError {
  const holds = count === undefined ? `more than ${max}` : String(count);
  return new HeraldError('payload_too_large', `the batch holds ${holds} events; the limit is ${max} (http.maxBatchEvents)`, { maxBatchEvents: max });
}
