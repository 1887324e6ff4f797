/**
 * The follower-maze wire format, parsed from bytes (compat.md §2): an event line is
 * `seq|type[|from[|to]]`, a client's registration line is its user id. The rules are
 * go-eventserver's: split on `|` into 2–4 fields; the sequence number and user ids parse like
 * Go's `strconv.Atoi` (an optional sign, then decimal digits, leading zeros allowed, nothing
 * else); the type is exactly one of F U B P S, with 4 fields for F, U and P, 2 for B, 3 for S.
 *
 * One deliberate difference: numbers must fit a JavaScript safe integer (|n| < 2^53) where Go
 * accepts the whole int64 range; a line with a larger number is malformed.
 *
 * The parser works on byte ranges of the read buffer and writes its result into its own fields,
 * so parsing allocates nothing: it runs once per event at hundreds of thousands per second.
 */

/** Event type codes: the ASCII byte of the type letter. */
export const FOLLOW = 0x46; // F
export const UNFOLLOW = 0x55; // U
export const BROADCAST = 0x42; // B
export const PRIVATE = 0x50; // P
export const STATUS = 0x53; // S

/** What is wrong with a malformed line (0: nothing). */
export const LINE_OK = 0;
export const BAD_FIELD_COUNT = 1;
export const BAD_SEQ = 2;
export const BAD_TYPE = 3;
export const BAD_FROM = 4;
export const BAD_TO = 5;
export const LINE_TOO_LONG = 6;

const REASONS = ['ok', 'wrong number of fields', 'invalid sequence number', 'invalid event type', 'invalid from user id', 'invalid to user id', 'line too long'] as const;

/** A readable reason for a parse result code. */
export function lineErrorReason(code: number): string {
  return REASONS[code] ?? 'malformed';
}

const PIPE = 0x7c;
const CR = 0x0d;

/**
 * Parses `buf[start, end)` as a decimal integer the way Go's `strconv.Atoi` does, limited to
 * safe integers. Returns NaN when the range is not one.
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return NaN;
  let i = start;
  let negative = false;
  const first = buf[i]!;
  if (first === 0x2d || first === 0x2b) {
    negative = first === 0x2d;
    if (++i === end) return NaN;
  }
  let value = 0;
  for (; i < end; i++) {
    const digit = buf[i]! - 0x30;
    if (digit < 0 || digit > 9) return NaN;
    // value * 10 + digit must stay a safe integer (no precision is ever lost).
    if (value > SAFE_LIMIT) return NaN;
    value = value * 10 + digit;
    if (value > Number.MAX_SAFE_INTEGER) return NaN;
  }
  return negative ? -value : value;
}

const SAFE_LIMIT = Math.floor(Number.MAX_SAFE_INTEGER / 10);

/** The range of a line left after go-eventserver's trim of `\r` from both ends. */
export function trimCarriageReturns(buf: Uint8Array, start: number, end: number): { start: number; end: number } {
  while (start < end && buf[start] === CR) start++;
  while (end > start && buf[end - 1] === CR) end--;
  return { start, end };
}

/** Parses event lines; read `seq`, `type`, `from`, `to` after a successful `parse`. */
export class EventLineParser {
  seq = 0;
  /** One of FOLLOW, UNFOLLOW, BROADCAST, PRIVATE, STATUS. */
  type = 0;
  /** The from user id (F, U, P, S); 0 otherwise. */
  from = 0;
  /** The to user id (F, U, P); 0 otherwise. */
  to = 0;

  /**
   * Parses `buf[start, end)`: one line without its `\n` and with `\r` already trimmed from both
   * ends. Returns LINE_OK or the code of what is wrong.
   */
  parse(buf: Uint8Array, start: number, end: number): number {
    // Find up to four separators: a fifth field is already too many.
    const p1 = indexOfPipe(buf, start, end);
    if (p1 < 0) return BAD_FIELD_COUNT;
    const p2 = indexOfPipe(buf, p1 + 1, end);
    const p3 = p2 < 0 ? -1 : indexOfPipe(buf, p2 + 1, end);
    if (p3 >= 0 && indexOfPipe(buf, p3 + 1, end) >= 0) return BAD_FIELD_COUNT;
    const fields = p2 < 0 ? 2 : p3 < 0 ? 3 : 4;

    const seq = parseDecimal(buf, start, p1);
    if (seq !== seq) return BAD_SEQ;
    const typeEnd = p2 < 0 ? end : p2;
    if (typeEnd - p1 !== 2) return BAD_TYPE;
    const type = buf[p1 + 1]!;
    switch (type) {
      case FOLLOW:
      case UNFOLLOW:
      case PRIVATE: {
        if (fields !== 4) return BAD_FIELD_COUNT;
        const from = parseDecimal(buf, p2 + 1, p3);
        if (from !== from) return BAD_FROM;
        const to = parseDecimal(buf, p3 + 1, end);
        if (to !== to) return BAD_TO;
        this.from = from;
        this.to = to;
        break;
      }
      case BROADCAST:
        if (fields !== 2) return BAD_FIELD_COUNT;
        this.from = 0;
        this.to = 0;
        break;
      case STATUS: {
        if (fields !== 3) return BAD_FIELD_COUNT;
        const from = parseDecimal(buf, p2 + 1, end);
        if (from !== from) return BAD_FROM;
        this.from = from;
        this.to = 0;
        break;
      }
      default:
        return BAD_TYPE;
    }
    this.seq = seq;
    this.type = type;
    return LINE_OK;
  }
}

function indexOfPipe(buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) if (buf[i] === PIPE) return i;
  return -1;
}

/**
 * A client's registration line (without `\n`): its user id, after the `\r` trim; NaN when it is
 * not an integer (the original then ignores the connection).
 */
export function parseUserId(buf: Uint8Array, start: number, end: number): number {
  const t = trimCarriageReturns(buf, start, end);
  return parseDecimal(buf, t.start, t.end);
}
