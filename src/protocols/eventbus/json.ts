/**
 * JSON the way the original event-bus (Go's encoding/json) reads and writes it, over bytes.
 *
 * Why not JSON.parse: the original stores an event's JSON *text* (a json.RawMessage: number text
 * like `2.50` and escapes like `\u0041` kept, whitespace removed), ignores whatever follows the
 * first value on a line, and escapes `<`, `>`, `&`, U+2028 and U+2029 on output. That needs the
 * byte offsets of values, which JSON.parse does not give: the scanner (core/jsonScan.ts) accepts
 * exactly what Go's does (RFC 8259; any byte from 0x20 up inside strings, as Go does not check
 * UTF-8 there).
 *
 * Offsets are `[start, end)` into a byte array; functions return the index after what they
 * read, or -1 on a syntax error.
 */

import { hexValue, lastValueSpaced, skipValue, skipWs } from '../../core/jsonScan.js';

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
