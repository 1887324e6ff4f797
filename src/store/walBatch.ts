import { Packr } from 'msgpackr';
import type { BatchWrites } from './batch.js';

/**
 * A commit's writes as the payload of a write-ahead log record. MessagePack as maps (no
 * msgpackr records: their shared structures would not outlive the process that wrote them);
 * payloads are binary, key-value values keep the types LMDB's own encoding keeps.
 */
const packr = new Packr({ useRecords: false });

export function encodeBatch(w: BatchWrites): Buffer {
  return packr.pack(w);
}

export function decodeBatch(payload: Buffer): BatchWrites {
  return packr.unpack(payload) as BatchWrites;
}
