import { closeSync, constants, fdatasyncSync, fstatSync, fsyncSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The write-ahead log of the LMDB store: a file of fixed size, written from its start, one
 * record per commit, each flushed (fdatasync) before the commit is acknowledged. One flush
 * instead of LMDB's two is what makes a small commit cheaper (docs/store.md, "The write-ahead
 * log"); LMDB takes the logged commits later, in one transaction of its own.
 *
 *   u32 payload length (LE)   u32 CRC-32 of the next 8 bytes and the payload   f64 seq (LE)   payload
 *
 * Seqs count up by one from record to record. The file is written from offset 0 again once
 * LMDB holds every record in it (`rewind`), so it stays small and its blocks stay allocated:
 * overwriting written blocks is what lets fdatasync skip the file system's journal. Reading
 * (`recover`) walks from the start while each record is whole and follows the one before it;
 * the first that is not (torn by a crash, or left from before a rewind) ends the log.
 */

const HEADER = 16;

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

const ZEROS = Buffer.alloc(1 << 20);

export interface LoggedRecord {
  seq: number;
  payload: Buffer;
}

export class WriteAheadLog {
  private offset = 0;
  private nextSeq = 1;
  private closed = false;
  private readonly header = Buffer.alloc(HEADER);

  private constructor(
    private readonly fd: number,
    /** The file's size: records never go past it. */
    readonly capacity: number,
  ) {}

  /** Opens (creating, or growing to `capacity` with written zeros) the log at `path`. */
  static open(path: string, capacity: number): WriteAheadLog {
    const rw = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      let size = fstatSync(rw).size;
      if (size < capacity) {
        const created = size === 0;
        while (size < capacity) size += writeSync(rw, ZEROS, 0, Math.min(ZEROS.length, capacity - size), size);
        fdatasyncSync(rw);
        // A new file's name must be on disk too, or a power cut could take the file with it.
        if (created) syncDirectory(dirname(path));
      }
      return new WriteAheadLog(rw, Math.max(capacity, size));
    } catch (err) {
      closeSync(rw);
      throw err;
    }
  }

  /**
   * The records of the log with a seq above `after`, oldest first. The caller puts them into
   * LMDB before appending: the log then writes from its start again, as after `rewind`.
   */
  recover(after: number): LoggedRecord[] {
    const out: LoggedRecord[] = [];
    let offset = 0;
    let last: number | undefined;
    for (;;) {
      const record = this.readAt(offset, last);
      if (!record) break;
      last = record.seq;
      offset += HEADER + record.payload.length;
      if (record.seq > after) out.push(record);
    }
    this.offset = 0;
    this.nextSeq = Math.max(after, last ?? 0) + 1;
    return out;
  }

  /** The record at `offset` if it is whole and (when `previous` is given) follows it. */
  private readAt(offset: number, previous: number | undefined): LoggedRecord | undefined {
    if (offset + HEADER > this.capacity) return undefined;
    const header = Buffer.alloc(HEADER);
    if (readSync(this.fd, header, 0, HEADER, offset) < HEADER) return undefined;
    const length = header.readUInt32LE(0);
    const seq = header.readDoubleLE(8);
    if (length === 0 || offset + HEADER + length > this.capacity) return undefined;
    if (!Number.isSafeInteger(seq) || seq < 1 || (previous !== undefined && seq !== previous + 1)) return undefined;
    const payload = Buffer.allocUnsafe(length);
    if (readSync(this.fd, payload, 0, length, offset + HEADER) < length) return undefined;
    if (crc32(payload, crc32(header.subarray(8))) !== header.readUInt32LE(4)) return undefined;
    return { seq, payload };
  }

  /** Whether a payload of `length` bytes fits after the last record. */
  fits(length: number): boolean {
    return this.offset + HEADER + length <= this.capacity;
  }

  /** Whether nothing was appended since the last rewind. */
  get empty(): boolean {
    return this.offset === 0;
  }

  /**
   * Writes one record and flushes it to disk; returns its seq. Throws when the disk fails or the
   * record does not fit (check `fits` first).
   */
  append(payload: Buffer): number {
    if (!this.fits(payload.length)) throw new Error(`a ${payload.length}-byte record does not fit in the write-ahead log`);
    const seq = this.nextSeq;
    this.header.writeUInt32LE(payload.length, 0);
    this.header.writeDoubleLE(seq, 8);
    this.header.writeUInt32LE(crc32(payload, crc32(this.header.subarray(8))), 4);
    const length = HEADER + payload.length;
    let written = writevSync(this.fd, [this.header, payload], this.offset);
    // A short write (rare, on a regular file) continues where it stopped.
    while (written < length) {
      const whole = Buffer.concat([this.header, payload]);
      written += writeSync(this.fd, whole, written, length - written, this.offset + written);
    }
    fdatasyncSync(this.fd);
    this.offset += length;
    this.nextSeq = seq + 1;
    return seq;
  }

  /**
   * Starts writing from the start of the file again. Only once every record is in LMDB: what
   * follows the new records is then older (a lower seq) or torn, and ends recovery.
   */
  rewind(): void {
    this.offset = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}
