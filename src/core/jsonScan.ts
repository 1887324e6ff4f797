/**
 * A byte-level JSON scanner (RFC 8259, as JSON.parse and Go's encoding/json accept it; inside
 * strings any byte from 0x20 up, so callers check UTF-8 where they need it). It validates and
 * measures values without building them: HTTP publishing checks payloads with it, and the
 * event-bus codec uses the offsets to keep a value's text. Fuzzed against JSON.parse in
 * test/http/jsonCheck.test.ts and test/eventbus/json.test.ts.
 *
 * Offsets are `[start, end)` into a byte array; functions return the index after what they
 * read, or -1 on a syntax error.
 */

const OBJECT = 1;
const ARRAY = 2;
let stack = new Uint8Array(64);

/** Go's isSpace: space, tab, CR, LF. */
export function skipWs(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** Whether the last skipValue met whitespace inside its value (if not, the value is already compact). */
let spaced = false;
export const lastValueSpaced = (): boolean => spaced;

/** skipWs inside a value: notes whether anything was skipped. */
function innerWs(b: Uint8Array, i: number, end: number): number {
  const j = skipWs(b, i, end);
  if (j !== i) spaced = true;
  return j;
}

/** Validates the one value starting at `i` (no leading whitespace) and returns its end, or -1. */
export function skipValue(b: Uint8Array, i: number, end: number): number {
  let depth = 0;
  spaced = false;
  for (;;) {
    if (i >= end) return -1;
    const c = b[i]!;
    if (c === 0x7b /* { */) {
      i = innerWs(b, i + 1, end);
      if (i < end && b[i] === 0x7d) {
        i++;
      } else {
        if (depth === stack.length) grow();
        stack[depth++] = OBJECT;
        i = memberKey(b, i, end);
        if (i < 0) return -1;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      i = innerWs(b, i + 1, end);
      if (i < end && b[i] === 0x5d) {
        i++;
      } else {
        if (depth === stack.length) grow();
        stack[depth++] = ARRAY;
        continue;
      }
    } else {
      i = skipScalar(b, i, end);
      if (i < 0) return -1;
    }
    // After a value: close containers, or a comma and the next element or member.
    for (;;) {
      if (depth === 0) return i;
      i = innerWs(b, i, end);
      if (i >= end) return -1;
      const d = b[i]!;
      const top = stack[depth - 1];
      if (d === 0x2c /* , */) {
        i = innerWs(b, i + 1, end);
        if (top === OBJECT) {
          i = memberKey(b, i, end);
          if (i < 0) return -1;
        }
        break;
      }
      if ((top === OBJECT && d === 0x7d) || (top === ARRAY && d === 0x5d)) {
        depth--;
        i++;
        continue;
      }
      return -1;
    }
  }
}

function grow(): void {
  const bigger = new Uint8Array(stack.length * 2);
  bigger.set(stack);
  stack = bigger;
}

/** `"key"` `:` and the whitespace before the value; returns the value's start. */
function memberKey(b: Uint8Array, i: number, end: number): number {
  if (i >= end || b[i] !== 0x22) return -1;
  i = skipString(b, i, end);
  if (i < 0) return -1;
  i = innerWs(b, i, end);
  if (i >= end || b[i] !== 0x3a /* : */) return -1;
  return innerWs(b, i + 1, end);
}

/** A string, number or literal at `i`. */
function skipScalar(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  if (c === 0x22) return skipString(b, i, end);
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return skipNumber(b, i, end);
  if (c === 0x74) return literal(b, i, end, 'true');
  if (c === 0x66) return literal(b, i, end, 'false');
  if (c === 0x6e) return literal(b, i, end, 'null');
  return -1;
}

function literal(b: Uint8Array, i: number, end: number, text: string): number {
  if (i + text.length > end) return -1;
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return -1;
  return i + text.length;
}

/** Bytes that need no attention inside a string: everything but controls, `"` and `\`. */
const PLAIN = new Uint8Array(256).map((_, c) => (c >= 0x20 && c !== 0x22 && c !== 0x5c ? 1 : 0));

/** The string starting at `b[i] === '"'`; returns the index after its closing quote. */
export function skipString(b: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    // Plain characters are the common case: one table look-up each.
    while (i < end && PLAIN[b[i]!] === 1) i++;
    if (i >= end) return -1;
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c /* \ */) {
      if (i + 1 >= end) return -1;
      const e = b[i + 1]!;
      if (e === 0x75 /* u */) {
        if (i + 6 > end) return -1;
        for (let k = 2; k < 6; k++) if (hexValue(b[i + k]!) < 0) return -1;
        i += 6;
        continue;
      }
      if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

/** -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
export function skipNumber(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i]!)) while (i < end && isDigit(b[i]!)) i++;
  else return -1;
  if (i < end && b[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(b[i]!)) return -1;
    while (i < end && isDigit(b[i]!)) i++;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45)) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    if (i >= end || !isDigit(b[i]!)) return -1;
    while (i < end && isDigit(b[i]!)) i++;
  }
  return i;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;

export function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
