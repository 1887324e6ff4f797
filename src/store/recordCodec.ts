import type { EventRecord } from './record.js';

/**
 * The on-disk form of events. Profiles showed generic MessagePack encoding as the largest single
 * cost of an append, so events get a fixed layout of their own. A *record* is one event:
 *
 *   u8  version (1)        u8  flags (1: subject, 2: headers, 4: minted id)   f64 time (ms, LE)
 *   u8  id length          id (latin1)
 *   u8  type length        type (latin1)
 *   u8  content-type len   content type (latin1)
 *   [u8 subject length     subject (latin1)]          when flags & 1
 *   [u32 headers length    headers as JSON (UTF-8)]   when flags & 2
 *   data: every remaining byte
 *
 * A *chunk* is several consecutive events of one stream in one value (the LMDB store writes one
 * chunk per stream per commit, split at CHUNK_BYTES): one write and one B-tree entry for many
 * events instead of one each.
 *
 *   u8  version (2)   u8 0   u32 count (LE)   then count × (u32 record length, record)
 *
 * A value is either: a chunk of one event is stored as the bare record, which is also what every
 * value of a version-1 database is, so data written before chunks stays readable as is.
 *
 * id, type and subject are validated printable ASCII of at most 200 characters, and content
 * types are limited to 255 latin1 characters (HTTP header values), so one length byte suffices.
 * The stream and seq are in the key, not here. "minted" marks an id the store made up (indexed
 * by its run, see core/ids.ts) rather than one the producer chose (indexed one by one).
 */
const RECORD_VERSION = 1;
const CHUNK_VERSION = 2;
const HAS_SUBJECT = 1;
const HAS_HEADERS = 2;
const MINTED = 4;
const FIXED = 1 + 1 + 8;
const CHUNK_HEADER = 1 + 1 + 4;

/** A chunk is closed once it holds this many bytes (a single larger event gets a value of its own). */
export const CHUNK_BYTES = 64 * 1024;

export interface EncodableEvent {
  record: EventRecord;
  minted: boolean;
}

/** What retention, purge and repair need of a stored event, without its payload. */
export interface RecordSummary {
  seq: number;
  id: string;
  time: string;
  bytes: number;
  minted: boolean;
}

let lastTimeIso = '';
let lastTimeMs = 0;
/** Events of one commit share their time: parse it once. */
function timeMs(iso: string): number {
  if (iso !== lastTimeIso) {
    lastTimeMs = Date.parse(iso);
    lastTimeIso = iso;
  }
  return lastTimeMs;
}

let lastDecodedMs = NaN;
let lastDecodedIso = '';
function timeIso(ms: number): string {
  if (ms !== lastDecodedMs) {
    lastDecodedIso = new Date(ms).toISOString();
    lastDecodedMs = ms;
  }
  return lastDecodedIso;
}

function headersBytes(r: EventRecord): Buffer | undefined {
  return r.headers === undefined ? undefined : Buffer.from(JSON.stringify(r.headers), 'utf8');
}

function recordSize(r: EventRecord, headers: Buffer | undefined): number {
  return FIXED + 3 + r.id.length + r.type.length + r.contentType.length + (r.subject === undefined ? 0 : 1 + r.subject.length) + (headers ? 4 + headers.length : 0) + r.data.byteLength;
}

function writeRecord(buf: Buffer, start: number, r: EventRecord, minted: boolean, headers: Buffer | undefined): number {
  buf[start] = RECORD_VERSION;
  buf[start + 1] = (r.subject === undefined ? 0 : HAS_SUBJECT) | (headers ? HAS_HEADERS : 0) | (minted ? MINTED : 0);
  buf.writeDoubleLE(timeMs(r.time), start + 2);
  let at = start + FIXED;
  at = writeShort(buf, at, r.id);
  at = writeShort(buf, at, r.type);
  at = writeShort(buf, at, r.contentType);
  if (r.subject !== undefined) at = writeShort(buf, at, r.subject);
  if (headers) {
    buf.writeUInt32LE(headers.length, at);
    headers.copy(buf, at + 4);
    at += 4 + headers.length;
  }
  buf.set(r.data, at);
  return at + r.data.byteLength;
}

function writeShort(buf: Buffer, at: number, s: string): number {
  buf[at] = s.length;
  buf.write(s, at + 1, 'latin1');
  return at + 1 + s.length;
}

/** One event as a bare record. */
export function encodeRecord(r: EventRecord, minted = false): Buffer {
  const headers = headersBytes(r);
  const buf = Buffer.allocUnsafe(recordSize(r, headers));
  writeRecord(buf, 0, r, minted, headers);
  return buf;
}

/**
 * Splits `events` (consecutive events of one stream) into values of CHUNK_BYTES at most (but for
 * a single larger event), calling `emit` with each value and the index of its first event.
 * Chunks of several events are written into `alloc(size)` (size ≤ CHUNK_BYTES), so a caller can
 * recycle their memory.
 */
export function encodeChunks(events: readonly EncodableEvent[], emit: (value: Buffer, first: number) => void, alloc: (size: number) => Buffer = Buffer.allocUnsafe): void {
  let first = 0;
  while (first < events.length) {
    let size = CHUNK_HEADER;
    let end = first;
    const headers: Array<Buffer | undefined> = [];
    while (end < events.length) {
      const h = headersBytes(events[end]!.record);
      const add = 4 + recordSize(events[end]!.record, h);
      if (end > first && size + add > CHUNK_BYTES) break;
      headers.push(h);
      size += add;
      end++;
    }
    if (end - first === 1) {
      const e = events[first]!;
      const buf = Buffer.allocUnsafe(size - CHUNK_HEADER - 4);
      writeRecord(buf, 0, e.record, e.minted, headers[0]);
      emit(buf, first);
    } else {
      const buf = alloc(size);
      buf[0] = CHUNK_VERSION;
      buf[1] = 0;
      buf.writeUInt32LE(end - first, 2);
      let at = CHUNK_HEADER;
      for (let i = first; i < end; i++) {
        const e = events[i]!;
        const stop = writeRecord(buf, at + 4, e.record, e.minted, headers[i - first]);
        buf.writeUInt32LE(stop - at - 4, at);
        at = stop;
      }
      emit(buf, first);
    }
    first = end;
  }
}

/** Consecutive events of one stream as one stored value, keyed by the seq of its first event. */
export interface EventChunk {
  sid: number;
  firstSeq: number;
  count: number;
  value: Buffer;
}

/**
 * A commit's events (grouped by stream, consecutive seqs within a group) as the values to store:
 * a stream's stretch of events split at CHUNK_BYTES. A stream interleaved with another in one
 * commit gets a value per stretch.
 */
export function chunkEvents(events: ReadonlyArray<EncodableEvent & { sid: number; seq: number }>, alloc?: (size: number) => Buffer): EventChunk[] {
  const out: EventChunk[] = [];
  let from = 0;
  for (let i = 1; i <= events.length; i++) {
    if (i < events.length && events[i]!.sid === events[from]!.sid && events[i]!.seq === events[i - 1]!.seq + 1) continue;
    const run = from === 0 && i === events.length ? events : events.slice(from, i);
    const { sid, seq } = run[0]!;
    let last: EventChunk | undefined;
    encodeChunks(
      run,
      (value, first) => {
        if (last) last.count = first - (last.firstSeq - seq);
        out.push((last = { sid, firstSeq: seq + first, count: 0, value }));
      },
      alloc,
    );
    last!.count = run.length - (last!.firstSeq - seq);
    from = i;
  }
  return out;
}

/** How many events a stored value holds. */
export function countOf(value: Buffer): number {
  if (value[0] === RECORD_VERSION) return 1;
  if (value[0] === CHUNK_VERSION) return value.readUInt32LE(2);
  throw new Error(`unknown event record version ${value[0]}`);
}

/**
 * Calls `each(start, end)` for the byte range of every record in a stored value, in seq order,
 * from the `skip`-th on; stops when `each` returns false.
 */
function forEachRecord(value: Buffer, skip: number, each: (start: number, end: number) => boolean): void {
  if (value[0] === RECORD_VERSION) {
    if (skip === 0) each(0, value.length);
    return;
  }
  const count = countOf(value);
  let at = CHUNK_HEADER;
  for (let i = 0; i < count; i++) {
    const start = at + 4;
    if (start > value.length) throw new Error('truncated event chunk');
    at = start + value.readUInt32LE(at);
    if (at > value.length) throw new Error('truncated event chunk');
    if (i >= skip && !each(start, at)) return;
  }
}

/**
 * The events of a stored value from the `skip`-th on, at most `limit`. Payloads of a chunk are
 * copies (a view would pin the whole chunk); a bare record's payload is a view of `value`, which
 * the caller must not reuse.
 */
export function decodeValue(value: Buffer, skip: number, limit: number): Array<{ record: EventRecord; index: number }> {
  const out: Array<{ record: EventRecord; index: number }> = [];
  if (limit <= 0) return out;
  const chunk = value[0] === CHUNK_VERSION;
  let index = skip;
  forEachRecord(value, skip, (start, end) => {
    const record = decodeRange(value, start, end);
    if (chunk) record.data = Buffer.from(record.data);
    out.push({ record, index: index++ });
    return out.length < limit;
  });
  return out;
}

/** Summaries of every event of a stored value whose first event has seq `firstSeq`. */
export function summarizeValue(value: Buffer, firstSeq: number): RecordSummary[] {
  const out: RecordSummary[] = [];
  let seq = firstSeq;
  forEachRecord(value, 0, (start, end) => {
    out.push(summarizeRange(value, start, end, seq++));
    return true;
  });
  return out;
}

/** Decodes a bare record; `data` is a view into `buf`, which must not be reused by the caller. */
export function decodeRecord(buf: Buffer): EventRecord {
  return decodeRange(buf, 0, buf.length);
}

function decodeRange(buf: Buffer, start: number, end: number): EventRecord {
  if (buf[start] !== RECORD_VERSION) throw new Error(`unknown event record version ${buf[start]}`);
  const flags = buf[start + 1]!;
  const time = timeIso(buf.readDoubleLE(start + 2));
  let at = start + FIXED;
  const short = (): string => {
    const stop = at + 1 + buf[at]!;
    const value = buf.toString('latin1', at + 1, stop);
    at = stop;
    return value;
  };
  const id = short();
  const type = short();
  const contentType = short();
  const record: EventRecord = { stream: '', id, type, time, contentType, data: buf };
  if (flags & HAS_SUBJECT) record.subject = short();
  if (flags & HAS_HEADERS) {
    const length = buf.readUInt32LE(at);
    record.headers = JSON.parse(buf.toString('utf8', at + 4, at + 4 + length)) as Record<string, string>;
    at += 4 + length;
  }
  if (at > end) throw new Error('truncated event record');
  record.data = buf.subarray(at, end);
  return record;
}

function summarizeRange(buf: Buffer, start: number, end: number, seq: number): RecordSummary {
  if (buf[start] !== RECORD_VERSION) throw new Error(`unknown event record version ${buf[start]}`);
  const flags = buf[start + 1]!;
  let at = start + FIXED;
  const id = buf.toString('latin1', at + 1, at + 1 + buf[at]!);
  at += 1 + buf[at]!; // id
  at += 1 + buf[at]!; // type
  at += 1 + buf[at]!; // content type
  if (flags & HAS_SUBJECT) at += 1 + buf[at]!;
  if (flags & HAS_HEADERS) at += 4 + buf.readUInt32LE(at);
  if (at > end) throw new Error('truncated event record');
  return { seq, id, time: timeIso(buf.readDoubleLE(start + 2)), bytes: end - at, minted: (flags & MINTED) !== 0 };
}
