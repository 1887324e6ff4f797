import { Packr } from 'msgpackr';
import type { BatchWrites } from './batch.js';
import type { EventChunk } from './recordCodec.js';

/** A commit as the write-ahead log keeps it: its events already encoded as the values LMDB stores. */
export type LoggedCommit = Omit<BatchWrites, 'events'> & { chunks: EventChunk[] };

/**
 * A logged commit as the payload of a log record. MessagePack as maps (no msgpackr records:
 * their shared structures would not outlive the process that wrote them); the chunks are
 * binary, key-value values keep the types LMDB's own encoding keeps.
 */
const packr = new Packr({ useRecords: false });

export function encodeCommit(commit: LoggedCommit): Buffer {
  return packr.pack(commit);
}

export function decodeCommit(payload: Buffer): LoggedCommit {
  return packr.unpack(payload) as LoggedCommit;
}
