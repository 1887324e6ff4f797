import { createHash } from 'node:crypto';
import { isValidStreamName } from '../../core/names.js';

/**
 * How event-bus names, ids and times map onto Herald's (docs/eventbus.md "Mapping").
 *
 * Stream names: the original accepts any string (even ""), Herald's are plain
 * (core/names.ts). A name Herald accepts is used as it is, so `orders` is the same stream for
 * every protocol. Any other name is stored as `_~` followed by the name with every byte
 * outside `A-Z a-z 0-9 _ . : -` written as `~XX` (hex of its UTF-8 bytes): "my stream" is
 * `_~my~20stream`. The two sets only meet for names a client spells with the `_~` prefix itself.
 */
export function heraldStreamName(name: string): string {
  if (name === lastName) return lastStored;
  lastName = name;
  lastStored = isValidStreamName(name) ? name : encodeName(name);
  return lastStored;
}
// The last name mapped: writes come in runs to one stream, so this spares the name check.
let lastName: string | undefined;
let lastStored = '';

function encodeName(name: string): string {
  let out = '_~';
  for (const byte of Buffer.from(name, 'utf8')) {
    const plain = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x5f || byte === 0x2e || byte === 0x3a || byte === 0x2d;
    out += plain ? String.fromCharCode(byte) : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The event-bus name of a Herald stream (the inverse of heraldStreamName). */
export function eventbusStreamName(stored: string): string {
  if (!stored.startsWith('_~')) return stored;
  const bytes: number[] = [];
  const body = stored.slice(2);
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '~' && /^[0-9A-F]{2}$/.test(body.slice(i + 1, i + 3))) {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(body.charCodeAt(i));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const uuidCache = new Map<string, string>();

/**
 * The stream's event-bus id: a UUID (version 5 layout) derived from the stream's name and its
 * creation time, so it needs no storage, stays the same across restarts, and a stream that is
 * deleted and created again gets a new one (its consumer statuses are keyed by it).
 */
export function streamUuid(name: string, created: string): string {
  const key = `${name}\u0000${created}`;
  let id = uuidCache.get(key);
  if (id === undefined) {
    const h = createHash('sha1').update('herald.eventbus.stream\u0000').update(key).digest();
    h[6] = (h[6]! & 0x0f) | 0x50;
    h[8] = (h[8]! & 0x3f) | 0x80;
    const hex = h.subarray(0, 16).toString('hex');
    id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
    if (uuidCache.size >= 10_000) uuidCache.clear();
    uuidCache.set(key, id);
  }
  return id;
}

let lastIso = '';
let lastGo = '';
/**
 * An RFC 3339 time as Go's time.Time marshals it (RFC3339Nano, UTC): trailing zeros of the
 * fraction trimmed, no fraction at all when it is zero. `2026-01-02T03:04:05.120Z` →
 * `2026-01-02T03:04:05.12Z`.
 */
export function goTime(iso: string): string {
  if (iso === lastIso) return lastGo;
  let out = iso;
  const dot = iso.lastIndexOf('.');
  if (dot > 0 && iso.endsWith('Z')) {
    let end = iso.length - 1;
    while (end > dot + 1 && iso.charCodeAt(end - 1) === 0x30) end--;
    out = iso.charCodeAt(end - 1) === 0x30 && end === dot + 2 ? `${iso.slice(0, dot)}Z` : `${iso.slice(0, end)}Z`;
  }
  lastIso = iso;
  lastGo = out;
  return out;
}
