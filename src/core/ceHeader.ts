/**
 * CloudEvents attribute values in HTTP headers (binary content mode, HTTP protocol binding
 * §3.1.3.2): a sender percent-encodes space, `"`, `%` and every character outside printable
 * ASCII as the UTF-8 bytes `%XY`; a receiver undoes RFC 7230 quoting, then percent-decodes once,
 * and must reject byte sequences that are not UTF-8 (overlong forms included).
 *
 * Herald stores attribute values decoded (as structured mode gives them) and encodes them again
 * whenever it writes them into headers (go-sep forwarding).
 */

/** Characters a header value may carry unencoded: printable ASCII but space, `"` and `%`. */
const NEEDS_ENCODING = /[^\x21\x23\x24\x26-\x7e]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const HEX = '0123456789ABCDEF';

/** The attribute value a `ce-*` header carries. Throws an Error saying what is wrong. */
export function decodeCeHeader(raw: string): string {
  let value = raw;
  if (value.length >= 2 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34) value = unquote(value);
  if (!value.includes('%') && !/[\x80-\xff]/.test(value)) return value;
  // Node hands header values over as latin1: one character per byte.
  const bytes = new Uint8Array(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c !== 37) {
      bytes[n++] = c;
      continue;
    }
    const hi = hexValue(value.charCodeAt(i + 1));
    const lo = hexValue(value.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) throw new Error(`invalid percent-encoding at character ${i + 1}: "%" must start %XY with two hex digits (a literal % is %25)`);
    bytes[n++] = hi * 16 + lo;
    i += 2;
  }
  try {
    return utf8.decode(bytes.subarray(0, n));
  } catch {
    throw new Error('the percent-decoded bytes are not valid UTF-8');
  }
}

/** The header form of an attribute value (the inverse of decodeCeHeader). */
export function encodeCeHeader(value: string): string {
  if (!NEEDS_ENCODING.test(value)) return value;
  let out = '';
  for (const char of value) {
    if (!NEEDS_ENCODING.test(char)) {
      out += char;
      continue;
    }
    for (const byte of Buffer.from(char, 'utf8')) out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/** A quoted-string (RFC 7230 §3.2.6) without its quotes and backslash escapes. */
function unquote(quoted: string): string {
  let out = '';
  for (let i = 1; i < quoted.length - 1; i++) {
    const c = quoted[i]!;
    if (c === '\\' && i + 1 < quoted.length - 1) out += quoted[++i];
    else out += c;
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}
