import { skipValue, skipWs } from '../../core/jsonScan.js';

/**
 * An allocation-free JSON syntax check (the scanner of core/jsonScan.ts): true when `bytes[start, end)` is one JSON text that
 * `JSON.parse` accepts (RFC 8259; whitespace is space, tab, CR, LF). The caller checks UTF-8
 * validity first (`isUtf8`): multi-byte sequences are then only ever inside strings, where any
 * byte from 0x20 up is allowed.
 *
 * Why not JSON.parse: publishing only needs to know that a payload is JSON, and building the
 * parsed value (a string copy of the body, then every object, array and string in it) cost
 * about a fifth of the whole single-event publish in measurements. test/http/jsonCheck.test.ts
 * checks this function against JSON.parse on generated and mutated inputs; callers still ask
 * JSON.parse when this says no, to word the error (media.ts).
 */

export function isJsonText(b: Uint8Array, start = 0, end = b.length): boolean {
  const i = skipWs(b, start, end);
  if (i >= end) return false;
  const valueEnd = skipValue(b, i, end);
  return valueEnd >= 0 && skipWs(b, valueEnd, end) === end;
}
