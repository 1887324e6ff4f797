/**
 * An allocation-free JSON syntax check: true when `bytes[start, end)` is one JSON text that
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

const OBJECT = 1;
const ARRAY = 2;

/** Open containers; grows for deep nesting (JSON.parse has no depth limit either). */
let stack = new Uint8Array(64);

export function isJsonText(b: Uint8Array, start = 0, end = b.length): boolean {
  let depth = 0;
  let i = ws(b, start, end);
  for (;;) {
    // A value starts at i.
    if (i >= end) return false;
    const c = b[i]!;
    if (c === 0x7b /* { */) {
      i = ws(b, i + 1, end);
      if (i < end && b[i] === 0x7d /* } */) {
        i++;
      } else {
        if (depth === stack.length) grow();
        stack[depth++] = OBJECT;
        i = member(b, i, end);
        if (i < 0) return false;
        continue;
      }
    } else if (c === 0x5b /* [ */) {
      i = ws(b, i + 1, end);
      if (i < end && b[i] === 0x5d /* ] */) {
        i++;
      } else {
        if (depth === stack.length) grow();
        stack[depth++] = ARRAY;
        continue;
      }
    } else if (c === 0x22 /* " */) {
      i = string(b, i, end);
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      i = number(b, i, end);
    } else if (c === 0x74 /* t */) {
      i = literal(b, i, end, TRUE);
    } else if (c === 0x66 /* f */) {
      i = literal(b, i, end, FALSE);
    } else if (c === 0x6e /* n */) {
      i = literal(b, i, end, NULL);
    } else {
      return false;
    }
    if (i < 0) return false;
    // After a value: close containers, or a comma and the next element or member.
    for (;;) {
      i = ws(b, i, end);
      if (depth === 0) return i === end;
      if (i >= end) return false;
      const d = b[i]!;
      const top = stack[depth - 1];
      if (d === 0x2c /* , */) {
        i = ws(b, i + 1, end);
        if (top === OBJECT) {
          i = member(b, i, end);
          if (i < 0) return false;
        }
        break;
      }
      if ((top === OBJECT && d === 0x7d) || (top === ARRAY && d === 0x5d)) {
        depth--;
        i++;
        continue;
      }
      return false;
    }
  }
}

function grow(): void {
  const next = new Uint8Array(stack.length * 2);
  next.set(stack);
  stack = next;
}

/** Whitespace JSON allows: space, tab, LF, CR. */
function ws(b: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}

/** `"key" :` then whitespace: the index of the member's value, or -1. */
function member(b: Uint8Array, i: number, end: number): number {
  if (i >= end || b[i] !== 0x22) return -1;
  i = string(b, i, end);
  if (i < 0) return -1;
  i = ws(b, i, end);
  if (i >= end || b[i] !== 0x3a /* : */) return -1;
  return ws(b, i + 1, end);
}

/** A string starting at the quote at i: the index after its closing quote, or -1. */
function string(b: Uint8Array, i: number, end: number): number {
  i++;
  while (i < end) {
    const c = b[i]!;
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c /* \ */) {
      if (i + 1 >= end) return -1;
      const e = b[i + 1]!;
      if (e === 0x75 /* u */) {
        if (i + 5 >= end || !hex(b[i + 2]!) || !hex(b[i + 3]!) || !hex(b[i + 4]!) || !hex(b[i + 5]!)) return -1;
        i += 6;
        continue;
      }
      // " \ / b f n r t
      if (e !== 0x22 && e !== 0x5c && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) return -1;
      i += 2;
      continue;
    }
    i++;
  }
  return -1;
}

function hex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function digits(b: Uint8Array, i: number, end: number): number {
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  return i;
}

/** -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? — the index after it, or -1. */
function number(b: Uint8Array, i: number, end: number): number {
  if (b[i] === 0x2d) i++;
  if (i >= end) return -1;
  if (b[i] === 0x30) i++;
  else if (b[i]! >= 0x31 && b[i]! <= 0x39) i = digits(b, i + 1, end);
  else return -1;
  if (i < end && b[i] === 0x2e /* . */) {
    const from = i + 1;
    i = digits(b, from, end);
    if (i === from) return -1;
  }
  if (i < end && (b[i] === 0x65 || b[i] === 0x45) /* e E */) {
    i++;
    if (i < end && (b[i] === 0x2b || b[i] === 0x2d)) i++;
    const from = i;
    i = digits(b, from, end);
    if (i === from) return -1;
  }
  return i;
}

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

function literal(b: Uint8Array, i: number, end: number, word: number[]): number {
  if (i + word.length > end) return -1;
  for (let k = 0; k < word.length; k++) if (b[i + k] !== word[k]) return -1;
  return i + word.length;
}
