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
 * The parser works on the read buffer in place, finding a line's fields and its end in one pass,
 * and writes its result into its own fields, so parsing allocates nothing: it runs once per event
 * at millions of events per second. It reaches the same verdict as splitting and `Atoi` (a fuzz
 * test holds it to a reference written that way).
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
const LF = 0x0a;
const SAFE_LIMIT = Math.floor(Number.MAX_SAFE_INTEGER / 10);

/**
 * Parses `buf[start, end)` as a decimal integer the way Go's `strconv.Atoi` does, limited to
 * safe integers. Returns NaN when the range is not one.
 */
export function parseDecimal(buf: Uint8Array, start: number, end: number): number {
  const scanner = new DecimalScanner();
  return scanner.scan(buf, start, end) === end ? scanner.value : NaN;
}

/** Reads one Atoi-style integer where it starts; the base of the line parser. */
class DecimalScanner {
  /** The integer read by the last successful `scan`. */
  value = 0;

  /** Reads a sign and digits from `buf[i]`; returns where they end, or -1 when there are none or too many. */
  scan(buf: Uint8Array, i: number, end: number): number {
    let negative = false;
    if (i < end) {
      const c = buf[i]!;
      if (c === 0x2d || c === 0x2b) {
        negative = c === 0x2d;
        i++;
      }
    }
    const first = i;
    let value = 0;
    for (; i < end; i++) {
      const digit = buf[i]! - 0x30;
      if (digit < 0 || digit > 9) break;
      // value * 10 + digit must stay a safe integer (no precision is ever lost).
      if (value > SAFE_LIMIT) return -1;
      value = value * 10 + digit;
    }
    if (i === first || value > Number.MAX_SAFE_INTEGER) return -1;
    this.value = negative ? 0 - value : value; // "-0" is 0, not -0
    return i;
  }
}

/**
 * Parses event lines in one pass over their bytes, finding the line's end as it goes. After
 * `scanLine`, `code` says whether the line is valid; if so `seq`, `type`, `from`, `to` hold its
 * fields and `lineStart`..`lineEnd` its text without the line ending (what is forwarded).
 */
export class EventLineParser extends DecimalScanner {
  /** LINE_OK or what is wrong with the line. */
  code = LINE_OK;
  seq = 0;
  /** One of FOLLOW, UNFOLLOW, BROADCAST, PRIVATE, STATUS. */
  type = 0;
  /** The from user id (F, U, P, S); 0 otherwise. */
  from = 0;
  /** The to user id (F, U, P); 0 otherwise. */
  to = 0;
  lineStart = 0;
  lineEnd = 0;

  /**
   * Parses the line starting at `pos`; returns the index of its `\n`, or -1 when `buf[pos, end)`
   * holds no complete line. Like go-eventserver, `\r` is trimmed from both ends of the line.
   */
  scanLine(buf: Uint8Array, pos: number, end: number): number {
    let i = pos;
    while (i < end && buf[i] === CR) i++;
    this.lineStart = i;
    i = this.scan(buf, i, end);
    if (i < 0) return this.malformed(buf, pos, end, BAD_SEQ);
    if (buf[i] !== PIPE) return this.malformed(buf, pos, end, i < end && (buf[i] === CR || buf[i] === LF) ? BAD_FIELD_COUNT : BAD_SEQ);
    const seq = this.value;
    const type = i + 1 < end ? buf[i + 1]! : -1;
    i += 2;
    const next = i < end ? buf[i]! : -1;
    if (next !== PIPE && next !== CR && next !== LF) return this.malformed(buf, pos, end, BAD_TYPE);
    switch (type) {
      case BROADCAST:
        this.from = 0;
        this.to = 0;
        break;
      case STATUS:
        if (next !== PIPE) return this.malformed(buf, pos, end, BAD_FIELD_COUNT);
        i = this.scan(buf, i + 1, end);
        if (i < 0) return this.malformed(buf, pos, end, BAD_FROM);
        this.from = this.value;
        this.to = 0;
        break;
      case FOLLOW:
      case UNFOLLOW:
      case PRIVATE:
        if (next !== PIPE) return this.malformed(buf, pos, end, BAD_FIELD_COUNT);
        i = this.scan(buf, i + 1, end);
        if (i < 0) return this.malformed(buf, pos, end, BAD_FROM);
        if (buf[i] !== PIPE) return this.malformed(buf, pos, end, i < end && (buf[i] === CR || buf[i] === LF) ? BAD_FIELD_COUNT : BAD_FROM);
        this.from = this.value;
        i = this.scan(buf, i + 1, end);
        if (i < 0) return this.malformed(buf, pos, end, BAD_TO);
        this.to = this.value;
        break;
      default:
        return this.malformed(buf, pos, end, BAD_TYPE);
    }
    this.lineEnd = i;
    while (i < end && buf[i] === CR) i++;
    if (i >= end || buf[i] !== LF) return this.malformed(buf, pos, end, buf[i] === PIPE ? BAD_FIELD_COUNT : type === BROADCAST ? BAD_FIELD_COUNT : type === STATUS ? BAD_FROM : BAD_TO);
    this.seq = seq;
    this.type = type;
    this.code = LINE_OK;
    return i;
  }

  /** Records why the line is malformed and finds its end (the text range is trimmed for logs). */
  private malformed(buf: Uint8Array, pos: number, end: number, code: number): number {
    this.code = code;
    let nl = pos;
    while (nl < end && buf[nl] !== LF) nl++;
    if (nl === end) return -1;
    let start = pos;
    let stop = nl;
    while (start < stop && buf[start] === CR) start++;
    while (stop > start && buf[stop - 1] === CR) stop--;
    this.lineStart = start;
    this.lineEnd = stop;
    return nl;
  }
}

/** The range of a line left after go-eventserver's trim of `\r` from both ends. */
export function trimCarriageReturns(buf: Uint8Array, start: number, end: number): { start: number; end: number } {
  while (start < end && buf[start] === CR) start++;
  while (end > start && buf[end - 1] === CR) end--;
  return { start, end };
}

/**
 * A client's registration line (without `\n`): its user id, after the `\r` trim; NaN when it is
 * not an integer (the original then ignores the connection; Herald closes it).
 */
export function parseUserId(buf: Uint8Array, start: number, end: number): number {
  const t = trimCarriageReturns(buf, start, end);
  return parseDecimal(buf, t.start, t.end);
}
