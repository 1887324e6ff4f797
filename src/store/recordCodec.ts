import type { EventRecord } from './record.js';

/**
 * The on-disk form of an event, as one buffer. Profiles showed generic MessagePack encoding as
 * the largest single cost of an append, so events get a fixed layout of their own:
 *
 *   u8  version (1)        u8  flags (1: subject, 2: headers)      f64 time (ms since epoch, LE)
 *   u8  id length          id (latin1)
 *   u8  type length        type (latin1)
 *   u8  content-type len   content type (latin1)
 *   [u8 subject length     subject (latin1)]          when flags & 1
 *   [u32 headers length    headers as JSON (UTF-8)]   when flags & 2
 *   data: every remaining byte
 *
 * id, type and subject are validated printable ASCII of at most 200 characters, and content
 * types are limited to 255 latin1 characters (HTTP header values), so one length byte suffices.
 * The stream and seq are in the key, not here.
 */
const VERSION = 1;
const HAS_SUBJECT = 1;
const HAS_HEADERS = 2;
const FIXED = 1 + 1 + 8;

export function encodeRecord(r: EventRecord): Buffer {
  const headers = r.headers === undefined ? undefined : Buffer.from(JSON.stringify(r.headers), 'utf8');
  const size = FIXED + 3 + r.id.length + r.type.length + r.contentType.length + (r.subject === undefined ? 0 : 1 + r.subject.length) + (headers ? 4 + headers.length : 0) + r.data.byteLength;
  const buf = Buffer.allocUnsafe(size);
  buf[0] = VERSION;
  buf[1] = (r.subject === undefined ? 0 : HAS_SUBJECT) | (headers ? HAS_HEADERS : 0);
  buf.writeDoubleLE(Date.parse(r.time), 2);
  let at = FIXED;
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
  return buf;
}

function writeShort(buf: Buffer, at: number, s: string): number {
  buf[at] = s.length;
  buf.write(s, at + 1, 'latin1');
  return at + 1 + s.length;
}

/** Decodes a record; `data` is a view into `buf`, which must not be reused by the caller. */
export function decodeRecord(buf: Buffer): EventRecord {
  if (buf[0] !== VERSION) throw new Error(`unknown event record version ${buf[0]}`);
  const flags = buf[1]!;
  const time = new Date(buf.readDoubleLE(2)).toISOString();
  let at = FIXED;
  const short = (): string => {
    const end = at + 1 + buf[at]!;
    const value = buf.toString('latin1', at + 1, end);
    at = end;
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
  record.data = buf.subarray(at);
  return record;
}

/** What retention needs, without touching the payload. */
export function summarizeRecord(buf: Buffer): { id: string; time: string; bytes: number } {
  const decoded = decodeRecord(buf);
  return { id: decoded.id, time: decoded.time, bytes: decoded.data.byteLength };
}
