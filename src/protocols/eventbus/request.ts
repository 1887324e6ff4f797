import { lastValueSpaced, skipString, skipValue, skipWs } from '../../core/jsonScan.js';
import { compact, decodeString } from './json.js';

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

/** Marks an absent field in Request's offsets. */
export const NONE = -1;

/**
 * One decoded request line. String and raw values are kept as byte offsets into the line
 * (`[start, end)`, quotes included; NONE when absent) and decoded only when used: the write path
 * then allocates one object per request.
 */
export class Request {
  operation = '';
  idStart = NONE;
  idEnd = NONE;
  secretStart = NONE;
  secretEnd = NONE;
  /** Where the `body` value starts; NONE when the key is absent ("missing required fields"). */
  bodyStart = NONE;
  bodyEnd = NONE;
  /**
   * The members of the (last) `body` that any operation reads, as Go would decode them into that
   * operation's struct: the last value of the right type (`null` changes nothing, except that
   * an `event` of null is the JSON text `null`), and in `bad` which fields had a value of a wrong
   * type (an operation reading such a field fails with "invalid json provided").
   */
  bodyKind: BodyKind = BodyKind.Null;
  nameStart = NONE;
  nameEnd = NONE;
  eventIdStart = NONE;
  eventIdEnd = NONE;
  /** As Go's uint8 (0–255). */
  status = 0;
  eventStart = NONE;
  eventEnd = NONE;
  /** Whether the event's text holds whitespace to remove. */
  eventSpaced = false;
  bad = 0;

  resetBody(): void {
    this.bodyKind = BodyKind.Null;
    this.nameStart = this.nameEnd = this.eventIdStart = this.eventIdEnd = this.eventStart = this.eventEnd = NONE;
    this.status = 0;
    this.eventSpaced = false;
    this.bad = 0;
  }
}

/** What `body` is: an object, null, or anything else (every operation's decode of which fails). */
export const BodyKind = { Object: 0, Null: 1, Other: 2 } as const;
export type BodyKind = (typeof BodyKind)[keyof typeof BodyKind];

const BAD_STREAM_NAME = 1;
const BAD_EVENT_ID = 2;
const BAD_STATUS = 4;

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
function operationOf(b: Uint8Array, start: number, end: number): string {
  const len = end - start - 2;
  for (const op of OPERATIONS) {
    if (op.length !== len) continue;
    let k = 0;
    while (k < len && b[start + 1 + k] === op.charCodeAt(k)) k++;
    if (k === len) return op;
  }
  return decodeString(b, start, end);
}

/** The text of the string `b[start, end)` (quotes included); '' for NONE. */
export function textAt(b: Uint8Array, start: number, end: number): string {
  return start === NONE ? '' : decodeString(b, start, end);
}

// Set when a value of the wrong type is met outside `body` (Go goes on decoding, then fails).
let mismatch = false;

const TOP = 0;
const AUTH = 1;
const BODY = 2;

/** The members of the object at `b[i] === '{'`, each handed to the member function of `ctx`. */
function objectMembers(b: Uint8Array, i: number, end: number, ctx: number, r: Request): number {
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
    i = ctx === TOP ? topMember(b, field, i, end, r) : ctx === AUTH ? authMember(b, field, i, end, r) : bodyMember(b, field, i, end, r);
    if (i < 0) return -1;
    i = skipWs(b, i, end);
    if (b[i] === 0x7d) return i + 1;
    if (b[i] !== 0x2c) return -1;
    i = skipWs(b, i + 1, end);
  }
}

function topMember(b: Uint8Array, field: Field, at: number, end: number, r: Request): number {
  const c = b[at];
  if (c === 0x7b && field === 'auth') return objectMembers(b, at, end, AUTH, r);
  if (field === 'body') {
    r.resetBody();
    r.bodyStart = at;
    if (c === 0x7b) r.bodyKind = BodyKind.Object;
    else if (c !== 0x6e) r.bodyKind = BodyKind.Other;
    return (r.bodyEnd = c === 0x7b ? objectMembers(b, at, end, BODY, r) : skipValue(b, at, end));
  }
  const after = skipValue(b, at, end);
  if (after < 0) return -1;
  if (field === 'operation') {
    if (c === 0x22) r.operation = operationOf(b, at, after);
    else if (c !== 0x6e) mismatch = true;
  } else if (field === 'auth' && c !== 0x6e) {
    mismatch = true;
  }
  return after;
}

function authMember(b: Uint8Array, field: Field, at: number, end: number, r: Request): number {
  const after = skipValue(b, at, end);
  if (after < 0 || (field !== 'client_id' && field !== 'client_secret')) return after;
  const c = b[at];
  if (c === 0x22) {
    if (field === 'client_id') {
      r.idStart = at;
      r.idEnd = after;
    } else {
      r.secretStart = at;
      r.secretEnd = after;
    }
  } else if (c !== 0x6e) {
    mismatch = true;
  }
  return after;
}

function bodyMember(b: Uint8Array, field: Field, at: number, end: number, r: Request): number {
  const after = skipValue(b, at, end);
  if (after < 0) return -1;
  const c = b[at];
  switch (field) {
    case 'stream_name':
      if (c === 0x22) {
        r.nameStart = at;
        r.nameEnd = after;
      } else if (c !== 0x6e) r.bad |= BAD_STREAM_NAME;
      break;
    case 'event_id':
      if (c === 0x22) {
        r.eventIdStart = at;
        r.eventIdEnd = after;
      } else if (c !== 0x6e) r.bad |= BAD_EVENT_ID;
      break;
    case 'event':
      r.eventStart = at;
      r.eventEnd = after;
      r.eventSpaced = lastValueSpaced();
      break;
    case 'status': {
      if (c === 0x6e) break;
      // Go's uint8: strconv.ParseUint of the number text, so digits only, at most 255.
      let n = 0;
      for (let k = at; k < after && n <= 255; k++) {
        const d = b[k]!;
        n = d >= 0x30 && d <= 0x39 ? n * 10 + (d - 0x30) : 256;
      }
      if (n > 255) r.bad |= BAD_STATUS;
      else r.status = n;
      break;
    }
  }
  return after;
}

/**
 * Decodes one request line (without its newline). Undefined when the line holds no valid JSON
 * value or the value does not fit the request struct: the reply is then "invalid json provided".
 */
export function parseRequest(b: Uint8Array, start = 0, end = b.length): Request | undefined {
  const i = skipWs(b, start, end);
  if (i >= end) return undefined;
  const r = new Request();
  mismatch = false;
  let after: number;
  if (b[i] === 0x7b) {
    after = objectMembers(b, i, end, TOP, r);
  } else {
    after = skipValue(b, i, end);
    if (b[i] !== 0x6e) mismatch = true;
  }
  return after < 0 || mismatch ? undefined : r;
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

export function parseStreamBody(b: Uint8Array, r: Request): StreamBody | undefined {
  if (r.bodyKind === BodyKind.Other || r.bad & BAD_STREAM_NAME) return undefined;
  return { streamName: textAt(b, r.nameStart, r.nameEnd) };
}

/** A connection's last stream name, raw and decoded: its writes mostly name one stream. */
export interface NameMemo {
  raw?: Buffer;
  text?: string;
}

export function parseWriteBody(b: Uint8Array, r: Request, memo: NameMemo = {}): WriteBody | undefined {
  if (r.bodyKind === BodyKind.Other || r.bad & BAD_STREAM_NAME) return undefined;
  const event = r.eventStart === NONE ? undefined : r.eventSpaced ? compact(b, r.eventStart, r.eventEnd) : b.subarray(r.eventStart, r.eventEnd);
  return { streamName: nameText(b, r, memo), event };
}

function nameText(b: Uint8Array, r: Request, memo: NameMemo): string {
  const { nameStart: start, nameEnd: end } = r;
  if (start === NONE) return '';
  const raw = memo.raw;
  if (raw !== undefined && raw.length === end - start) {
    let k = 0;
    while (k < raw.length && raw[k] === b[start + k]) k++;
    if (k === raw.length) return memo.text!;
  }
  memo.raw = Buffer.from(b.subarray(start, end));
  return (memo.text = decodeString(b, start, end));
}

export function parseMarkBody(b: Uint8Array, r: Request): MarkBody | undefined {
  if (r.bodyKind === BodyKind.Other || r.bad & (BAD_EVENT_ID | BAD_STATUS)) return undefined;
  return { eventId: textAt(b, r.eventIdStart, r.eventIdEnd), status: r.status };
}
