/**
 * JSON the way the original event-bus (Go's encoding/json) reads and writes it, over bytes.
 *
 * Why not JSON.parse: the original stores an event's JSON *text* (a json.RawMessage: number text
 * like `2.50` and escapes like `\u0041` kept, whitespace removed), ignores whatever follows the
 * first value on a line, and escapes `<`, `>`, `&`, U+2028 and U+2029 on output. That needs the
 * byte offsets of values, which JSON.parse does not give. The scanner here validates exactly what
 * Go's scanner accepts (RFC 8259; any byte from 0x20 up inside strings, as Go does not check
 * UTF-8 there) and is fuzzed against JSON.parse in test/eventbus/json.test.ts.
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

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Decodes the (already validated) string `b[start, end)`, quotes included, as Go does: escapes
 * resolved, a surrogate escape that is not part of a valid pair becomes U+FFFD.
 */
export function decodeString(b: Uint8Array, start: number, end: number): string {
  const from = start + 1;
  const to = end - 1;
  let ascii = true;
  let escaped = false;
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c === 0x5c) {
      escaped = true;
      break;
    }
    if (c >= 0x80) ascii = false;
  }
  if (!escaped) return text(b, ascii ? 'latin1' : 'utf8', from, to);
  let out = '';
  let run = from;
  let i = from;
  while (i < to) {
    if (b[i] !== 0x5c) {
      i++;
      continue;
    }
    if (i > run) out += text(b, 'utf8', run, i);
    const e = b[i + 1]!;
    if (e === 0x75) {
      let unit = hex4(b, i + 2);
      i += 6;
      if (unit >= 0xd800 && unit <= 0xdbff && b[i] === 0x5c && b[i + 1] === 0x75) {
        const low = hex4(b, i + 2);
        if (low >= 0xdc00 && low <= 0xdfff) {
          out += String.fromCharCode(unit, low);
          i += 6;
          run = i;
          continue;
        }
      }
      if (unit >= 0xd800 && unit <= 0xdfff) unit = 0xfffd;
      out += String.fromCharCode(unit);
    } else {
      out += ESCAPES[e] ?? '';
      i += 2;
    }
    run = i;
  }
  if (to > run) out += text(b, 'utf8', run, to);
  return out;
}

/** Bytes as text, for Buffers and plain Uint8Arrays alike (stored payloads are the latter). */
function text(b: Uint8Array, encoding: 'utf8' | 'latin1', start: number, end: number): string {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)).toString(encoding, start, end);
}

function hex4(b: Uint8Array, i: number): number {
  return (hexValue(b[i]!) << 12) | (hexValue(b[i + 1]!) << 8) | (hexValue(b[i + 2]!) << 4) | hexValue(b[i + 3]!);
}

const ESCAPES: Record<number, string> = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/**
 * The (already validated) value `b[start, end)` without whitespace outside strings, as Go's
 * json.Compact: the bytes are otherwise kept as they are. A view when nothing needs removing.
 */
export function compact(b: Uint8Array, start: number, end: number): Uint8Array {
  let cuts = 0;
  let inString = false;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      cuts++;
    }
  }
  if (cuts === 0) return b.subarray(start, end);
  const out = new Uint8Array(end - start - cuts);
  let o = 0;
  inString = false;
  for (let i = start; i < end; i++) {
    const c = b[i]!;
    if (inString) {
      out[o++] = c;
      if (c === 0x5c) out[o++] = b[++i]!;
      else if (c === 0x22) inString = false;
    } else if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) {
      out[o++] = c;
      if (c === 0x22) inString = true;
    }
  }
  return out;
}

/**
 * A stored payload as the original would write it inside a reply: when `payload` is exactly one
 * JSON value (whitespace around it allowed), that value compacted with `<`, `>`, `&`, U+2028
 * and U+2029 escaped (Go's json.Marshal of a json.RawMessage); otherwise undefined.
 */
export function renderJsonValue(payload: Uint8Array): string | undefined {
  const end = payload.length;
  const start = skipWs(payload, 0, end);
  const valueEnd = start < end ? skipValue(payload, start, end) : -1;
  if (valueEnd < 0 || skipWs(payload, valueEnd, end) !== end) return undefined;
  const value = lastValueSpaced() ? compact(payload, start, valueEnd) : payload.subarray(start, valueEnd);
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const rendered = buf.toString('utf8');
  // Native searches: most payloads hold none of these.
  const needsEscape = buf.indexOf(0x3c) >= 0 || buf.indexOf(0x3e) >= 0 || buf.indexOf(0x26) >= 0 || buf.indexOf(0xe2) >= 0;
  return needsEscape ? rendered.replace(HTML_UNSAFE, (ch: string) => HTML_ESCAPES[ch]!) : rendered;
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;
const HTML_ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

// Characters Go's encoder escapes in strings (Go 1.15, HTML-safe): controls, quote, backslash,
// < > &, U+2028, U+2029; and lone surrogates, which a Go string cannot hold (U+FFFD instead).
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/;

/** A JSON string literal exactly as Go's encoding/json (1.15, HTML escaping on) writes `s`. */
export function goString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else {
        out += '\ufffd';
      }
      continue;
    }
    switch (c) {
      case 0x22: out += '\\"'; break;
      case 0x5c: out += '\\\\'; break;
      case 0x0a: out += '\\n'; break;
      case 0x0d: out += '\\r'; break;
      case 0x09: out += '\\t'; break;
      case 0x3c: out += '\\u003c'; break;
      case 0x3e: out += '\\u003e'; break;
      case 0x26: out += '\\u0026'; break;
      case 0x2028: out += '\\u2028'; break;
      case 0x2029: out += '\\u2029'; break;
      default:
        out += c < 0x20 ? `\\u00${c < 0x10 ? '0' : ''}${c.toString(16)}` : s[i]!;
    }
  }
  return `${out}"`;
}
