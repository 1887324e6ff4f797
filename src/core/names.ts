import { HeraldError } from './errors.js';

/** Stream names are used in URLs, keys and metric labels, so they are kept plain. */
export const STREAM_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.:~-]{0,199}$/;
export const STREAM_NAME_RULE =
  '1 to 200 characters: letters, digits and _ . : ~ -, not starting with . : ~ or -';

export function isValidStreamName(name: string): boolean {
  return STREAM_NAME_PATTERN.test(name);
}

export function assertStreamName(name: string): void {
  if (!isValidStreamName(name)) {
    throw new HeraldError('invalid_stream_name', `invalid stream name ${JSON.stringify(name).slice(0, 220)}: ${STREAM_NAME_RULE}`, {
      allowed: STREAM_NAME_RULE,
    });
  }
}

/** Event ids and types: printable, bounded, so they are safe as headers and index keys. */
const TOKEN_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

export function assertEventField(field: 'id' | 'type' | 'subject', value: string): void {
  if (!TOKEN_PATTERN.test(value) || value.endsWith(' ')) {
    throw new HeraldError('invalid_event', `invalid event ${field} ${JSON.stringify(value).slice(0, 220)}: 1 to 200 printable ASCII characters, no leading or trailing space`, { field });
  }
}
