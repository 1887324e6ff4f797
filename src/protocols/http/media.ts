import { isUtf8 } from 'node:buffer';
import { HeraldError } from '../../core/errors.js';
import { isJsonText } from './jsonCheck.js';

/**
 * Media types: which body mode a Content-Type selects, and which types are JSON. Kept free of
 * regular expressions and allocation beyond one lower-cased slice, because the publish hot path
 * calls it for every request.
 */

/** How a POST body is read. */
export type BodyMode =
  /** The body is one event's payload (any media type; CloudEvents binary mode). */
  | 'single'
  /** `application/cloudevents+json`: the body is one CloudEvent as a JSON object. */
  | 'structured'
  /** `application/x-ndjson`: one JSON payload per line. */
  | 'ndjson'
  /** `application/cloudevents-batch+json`: a JSON array of structured CloudEvents. */
  | 'cloudevents-batch';

export const JSON_TYPE = 'application/json';
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'] as const;
export const CLOUDEVENT_TYPE = 'application/cloudevents+json';
export const CLOUDEVENTS_BATCH_TYPE = 'application/cloudevents-batch+json';

/** `Application/JSON; charset=utf-8` → `application/json`. */
export function essenceOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** JSON media types: `application/json` and any `+json` structured suffix. */
export function isJsonType(essence: string): boolean {
  return essence === JSON_TYPE || essence.endsWith('+json');
}

/** The body mode for a media type essence; 415 for the types Herald will not take as an event. */
export function bodyModeOf(essence: string): BodyMode {
  if (essence === JSON_TYPE) return 'single';
  if (essence === CLOUDEVENT_TYPE) return 'structured';
  if (essence === CLOUDEVENTS_BATCH_TYPE) return 'cloudevents-batch';
  if (essence === NDJSON_TYPES[0] || essence === NDJSON_TYPES[1]) return 'ndjson';
  if (essence.startsWith('application/cloudevents')) {
    throw new HeraldError('unsupported_media_type', `unsupported CloudEvents format ${JSON.stringify(essence)}: use ${CLOUDEVENT_TYPE} (structured), ${CLOUDEVENTS_BATCH_TYPE} (batch) or binary mode (ce-* headers)`);
  }
  // A multipart form is an envelope of several parts, not one payload: storing it as an event
  // would hand consumers a form to parse. Producers send each part as its own event instead.
  if (essence.startsWith('multipart/')) {
    throw new HeraldError('unsupported_media_type', `unsupported Content-Type ${JSON.stringify(essence)}: multipart bodies are not accepted; send the payload itself, or a batch as ${NDJSON_TYPES[0]} or ${CLOUDEVENTS_BATCH_TYPE}`);
  }
  return 'single';
}

/**
 * Throws `invalid_json` naming `what` unless the bytes are UTF-8 JSON. Checks without building
 * the value (jsonCheck.ts); only a rejected payload goes through JSON.parse, for its message.
 */
export function assertJson(bytes: Buffer, what: string, start = 0, end = bytes.length): void {
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  if (isUtf8(view) && isJsonText(bytes, start, end)) return;
  parseJson(bytes, what, start, end);
}

/** Parses UTF-8 JSON bytes, or throws `invalid_json` naming `what`. */
export function parseJson(bytes: Buffer, what: string, start = 0, end = bytes.length): unknown {
  const view = start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
  // JSON text must be UTF-8 (RFC 8259); a lossy decode would let broken bytes parse.
  if (!isUtf8(view)) throw new HeraldError('invalid_json', `${what} is not valid JSON: it is not valid UTF-8`);
  try {
    return JSON.parse(bytes.toString('utf8', start, end));
  } catch (err) {
    throw new HeraldError('invalid_json', `${what} is not valid JSON: ${(err as Error).message}`);
  }
}
