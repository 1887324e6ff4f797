import { compact, decodeString, skipString, skipValue, skipWs } from './json.js';

/**
 * Request lines and operation bodies, decoded the way the original's Go structs are
 * (compat.md §3 "Request"): only the first JSON value of a line counts; keys match field names
 * case-insensitively (Go's rule, including `ſ` for s and the Kelvin sign for k); a later key
 * wins; unknown keys are ignored; `null` leaves a field at its zero value; any other type
 * mismatch makes the whole decode fail ("invalid json provided").
 */

export const OPERATIONS = [
  'health',
  'create_stream',
  'delete_stream',
  'get_stream_info',
  'get_stream_events',
  'write_event',
  'process_events',
  'retry_events',
  'mark_event',
  'exit',
] as const;
export type Operation = (typeof OPERATIONS)[number];

const KNOWN = new Set<string>(OPERATIONS);
export function isOperation(name: string): name is Operation {
  return KNOWN.has(name);
}

/** `[start, end)` of a raw JSON value inside the request line. */
export interface Span {
  start: number;
  end: number;
}

export interface Request {
  operation: string;
  /** The raw `auth.client_id` and `auth.client_secret` strings (quotes included), when given. */
  clientId: Span | undefined;
  clientSecret: Span | undefined;
  /** The raw `body` value; undefined when the key is absent (then "missing required fields"). */
  body: Span | undefined;
  /** What the body holds, read in the same pass (the last `body` key's). */
  fields: BodyFields;
}

/**
 * The members of `body` that any operation reads, as Go would decode them into that operation's
 * struct: the last value of the right type (`null` changes nothing, except that an `event` of
 * null is the JSON text `null`), and which fields had a value of a wrong type (the operation's
 * decode then fails with "invalid json provided" if it reads that field).
 */
export interface BodyFields {
  /** 'other' when the body is neither an object nor null: every operation's decode fails. */
  kind: 'object' | 'null' | 'other';
  streamName?: Span;
  eventId?: Span;
  /** The status as Go's uint8 (0–255). */
  status?: number;
  event?: Span;
  /** Bit set of BAD_* for fields given a value of the wrong type. */
  bad: number;
}

const BAD_STREAM_NAME = 1;
const BAD_EVENT_ID = 2;
const BAD_STATUS = 4;

const emptyFields = (): BodyFields => ({ kind: 'null', bad: 0 });

/** Thrown inside a decode for a type mismatch; caught at the top of each decode. */
const MISMATCH = Symbol('type mismatch');

/** The field names of the original's request structs: a key matches one of them or none. */
const FIELDS = ['operation', 'auth', 'body', 'client_id', 'client_secret', 'stream_name', 'event', 'event_id', 'status'] as const;
type Field = (typeof FIELDS)[number] | '';
const FIELD_SET = new Set<string>(FIELDS);

/**
 * The field a key (the string `b[ks, ke)`, quotes included) names under Go's case-insensitive
 * matching, or ''. Plain ASCII keys are compared byte by byte without building a string; keys
 * with escapes or other characters are decoded and folded (the Kelvin sign folds to k, ſ to s).
 */
function fieldOf(b: Uint8Array, ks: number, ke: number): Field {
  const from = ks + 1;
  const len = ke - 1 - from;
  for (let i = from; i < ke - 1; i++) {
    const c = b[i]!;
    if (c === 0x5c || c >= 0x80) {
      const lower = decodeString(b, ks, ke).toLowerCase().replace(/\u017f/g, 's');
      return FIELD_SET.has(lower) ? (lower as Field) : '';
    }
  }
  outer: for (const name of FIELDS) {
    if (name.length !== len) continue;
    for (let k = 0; k < len; k++) {
      const c = b[from + k]!;
      const f = name.charCodeAt(k);
      if (c !== f && !(f >= 0x61 && f <= 0x7a && (c | 0x20) === f)) continue outer;
    }
    return name;
  }
  return '';
}

/** The operation a string names: the constant when its bytes spell one exactly, else the decoded text. */
function operationOf(b: Uint8Array, span: Span): string {
  const len = span.end - span.start - 2;
  for (const op of OPERATIONS) {
    if (op.length !== len) continue;
    let k = 0;
    while (k < len && b[span.start + 1 + k] === op.charCodeAt(k)) k++;
    if (k === len) return op;
  }
  return decodeString(b, span.start, span.end);
}

/** The text of a string span (quotes included); '' for none. */
export function spanText(b: Uint8Array, span: Span | undefined): string {
  return span === undefined ? '' : decodeString(b, span.start, span.end);
}

/**
 * Visits the members of the object or `null` at `i`: `visit(field, valueStart)` returns the
 * index after the value. Returns the index after the object, -1 on a syntax error; throws
 * MISMATCH when the value is neither an object nor null.
 */
function members(b: Uint8Array, i: number, end: number, visit: (field: Field, at: number) => number): number {
  if (b[i] === 0x6e) return skipValue(b, i, end);
  if (b[i] !== 0x7b) {
    if (skipValue(b, i, end) < 0) return -1;
    throw MISMATCH;
  }
  i = skipWs(b, i + 1, end);
  if (b[i] === 0x7d) return i + 1;
  for (;;) {
    if (i >= end || b[i] !== 0x22) return -1;
    const keyEnd = skipString(b, i, end);
    if (keyEnd < 0) return -1;
    const field = fieldOf(b, i, keyEnd);
    i = skipWs(b, keyEnd, end);
    if (b[i] !== 0x3a) return -1;
    i = skipWs(b, i + 1, end);
    if (i >= end) return -1;
    i = visit(field, i);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipWs(b, i + 1, end);
  }
}

/** A string field: `set` gets its span; null leaves the field as it was; other types are a MISMATCH. */
function stringField(b: Uint8Array, at: number, end: number, set: (span: Span) => void): number {
  if (b[at] === 0x22) {
    const after = skipString(b, at, end);
    if (after >= 0) set({ start: at, end: after });
    return after;
  }
  const after = skipValue(b, at, end);
  if (after >= 0 && b[at] !== 0x6e) throw MISMATCH;
  return after;
}

/**
 * Decodes one request line (without its newline). Undefined when the line holds no valid JSON
 * value or the value does not fit the request struct: the reply is then "invalid json provided".
 */
export function parseRequest(b: Uint8Array, start = 0, end = b.length): Request | undefined {
  const request: Request = { operation: '', clientId: undefined, clientSecret: undefined, body: undefined, fields: emptyFields() };
  const i = skipWs(b, start, end);
  if (i >= end) return undefined;
  try {
    const after = members(b, i, end, (field, at) => {
      switch (field) {
        case 'operation':
          return stringField(b, at, end, (span) => (request.operation = operationOf(b, span)));
        case 'auth':
          return members(b, at, end, (authField, authAt) => {
            if (authField === 'client_id') return stringField(b, authAt, end, (span) => (request.clientId = span));
            if (authField === 'client_secret') return stringField(b, authAt, end, (span) => (request.clientSecret = span));
            return skipValue(b, authAt, end);
          });
        case 'body': {
          const fields = emptyFields();
          const bodyEnd = b[at] === 0x7b ? members(b, at, end, (bodyField, bodyAt) => bodyMember(b, bodyField, bodyAt, end, fields)) : skipValue(b, at, end);
          if (bodyEnd < 0) return -1;
          if (b[at] === 0x7b) fields.kind = 'object';
          else if (b[at] !== 0x6e) fields.kind = 'other';
          request.body = { start: at, end: bodyEnd };
          request.fields = fields;
          return bodyEnd;
        }
        default:
          return skipValue(b, at, end);
      }
    });
    return after < 0 ? undefined : request;
  } catch (err) {
    if (err === MISMATCH) return undefined;
    throw err;
  }
}

export interface StreamBody {
  streamName: string;
}
export interface WriteBody extends StreamBody {
  /** The event's JSON text, compacted; undefined when absent (stored as `null`). */
  event: Uint8Array | undefined;
}
export interface MarkBody {
  eventId: string;
  /** 0 to 255 (Go's uint8); the operation checks for 0, 1, 2. */
  status: number;
}

/** Reads one member of `body` into `fields`; returns the index after its value. */
function bodyMember(b: Uint8Array, field: Field, at: number, end: number, fields: BodyFields): number {
  const after = skipValue(b, at, end);
  if (after < 0) return -1;
  const c = b[at];
  switch (field) {
    case 'stream_name':
    case 'event_id':
      if (c === 0x22) fields[field === 'stream_name' ? 'streamName' : 'eventId'] = { start: at, end: after };
      else if (c !== 0x6e) fields.bad |= field === 'stream_name' ? BAD_STREAM_NAME : BAD_EVENT_ID;
      break;
    case 'event':
      fields.event = { start: at, end: after };
      break;
    case 'status': {
      if (c === 0x6e) break;
      // Go's uint8: strconv.ParseUint of the number text, so digits only, at most 255.
      let n = 0;
      for (let k = at; k < after && n <= 255; k++) {
        const d = b[k]!;
        n = d >= 0x30 && d <= 0x39 ? n * 10 + (d - 0x30) : 256;
      }
      if (n > 255) fields.bad |= BAD_STATUS;
      else fields.status = n;
      break;
    }
  }
  return after;
}

export function parseStreamBody(b: Uint8Array, request: Request): StreamBody | undefined {
  const f = request.fields;
  if (f.kind === 'other' || f.bad & BAD_STREAM_NAME) return undefined;
  return { streamName: spanText(b, f.streamName) };
}

export function parseWriteBody(b: Uint8Array, request: Request): WriteBody | undefined {
  const f = request.fields;
  if (f.kind === 'other' || f.bad & BAD_STREAM_NAME) return undefined;
  return { streamName: spanText(b, f.streamName), event: f.event === undefined ? undefined : compact(b, f.event.start, f.event.end) };
}

export function parseMarkBody(b: Uint8Array, request: Request): MarkBody | undefined {
  const f = request.fields;
  if (f.kind === 'other' || f.bad & (BAD_EVENT_ID | BAD_STATUS)) return undefined;
  return { eventId: spanText(b, f.eventId), status: f.status ?? 0 };
}
